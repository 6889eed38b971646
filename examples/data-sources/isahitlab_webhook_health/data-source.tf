# The delivery health of every webhook of a project: counts per state and the
# failing receivers, newest failure first, with the batches they serve.
data "isahitlab_webhook_health" "all" {
  project_id  = "6650c1f2a9b4c3d2e1f00001"
  max_failing = 5
}

output "failing_receivers" {
  value = data.isahitlab_webhook_health.all.counts.failing
}

output "failing" {
  value = [for f in data.isahitlab_webhook_health.all.failing : {
    url     = f.url
    status  = try(f.last_call.status_code, f.last_error.status_code) # 0: the receiver did not answer
    failed  = try(f.last_error.date, null)                           # null when the API does not tell
    batches = [for b in f.batches : coalesce(b.name, b.id)]
  }]
}

# A few batches only, with every workflow's state.
data "isahitlab_webhook_health" "some_batches" {
  project_id        = "6650c1f2a9b4c3d2e1f00001"
  batch_ids         = ["6650c1f2a9b4c3d2e1f00002", "6650c1f2a9b4c3d2e1f00004"]
  include_workflows = true
}
