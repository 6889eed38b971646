# Warn when webhook receivers fail: on every plan and apply, in a pipeline
# running `terraform plan`, and in HCP Terraform's health assessments
# (continuous validation). A failed assertion is a warning, not an error.
variable "project_id" {
  type        = string
  description = "The Isahit Lab project whose webhook deliveries are checked."
}

variable "max_failing_percent" {
  type        = number
  default     = 10
  description = "The share of receivers (workflows holding a webhook) that may fail before the second assertion fails."
}

check "webhook_receivers" {
  data "isahitlab_webhook_health" "project" {
    project_id  = var.project_id
    max_failing = 3
  }

  # Any failing receiver: name the first ones, newest failure first, with
  # their status codes and the batches they serve.
  assert {
    condition = data.isahitlab_webhook_health.project.counts.failing == 0
    error_message = join("\n", concat(
      ["${data.isahitlab_webhook_health.project.counts.failing} webhook receiver(s) failing, newest first:"],
      [for f in data.isahitlab_webhook_health.project.failing : format("- %s for batch(es) %s%s",
        f.last_call == null ? "HTTP ${f.last_error.status_code}" : (
          f.last_call.status_code == 0 ? "no answer (${f.last_call.message})" : "HTTP ${f.last_call.status_code} ${f.last_call.message}"
        ),
        join(", ", [for b in f.batches : format("%q", coalesce(b.name, b.id))]),
        f.batch_count > length(f.batches) ? " and ${f.batch_count - length(f.batches)} more" : "",
      )],
      data.isahitlab_webhook_health.project.counts.failing > length(data.isahitlab_webhook_health.project.failing) ? ["- and more"] : [],
    ))
  }

  # More than max_failing_percent of the receivers fail.
  assert {
    condition = (
      data.isahitlab_webhook_health.project.counts.failing * 100 <=
      var.max_failing_percent * (data.isahitlab_webhook_health.project.counts.ok + data.isahitlab_webhook_health.project.counts.failing + data.isahitlab_webhook_health.project.counts.never_called)
    )
    error_message = format("%d of %d webhook receivers fail, over %d%%. First: %s.",
      data.isahitlab_webhook_health.project.counts.failing,
      data.isahitlab_webhook_health.project.counts.ok + data.isahitlab_webhook_health.project.counts.failing + data.isahitlab_webhook_health.project.counts.never_called,
      var.max_failing_percent,
      join("; ", [for f in data.isahitlab_webhook_health.project.failing : format("%s: %s",
        join(", ", [for b in f.batches : format("%q", coalesce(b.name, b.id))]),
        f.last_call == null ? "HTTP ${f.last_error.status_code}" : (f.last_call.status_code == 0 ? "no answer" : "HTTP ${f.last_call.status_code}"),
      )]),
    )
  }
}
