data "isahitlab_batches" "pending" {
  project_id = "6650c1f2a9b4c3d2e1f00001"
  statuses   = ["pending"] # optional; so is search = "..."
}

# One webhook per batch, each with its own receiver path.
resource "isahitlab_webhook" "per_batch" {
  for_each = { for b in data.isahitlab_batches.pending.batches : b.id => b }

  project_id = data.isahitlab_batches.pending.project_id
  batch_id   = each.key
  url        = "https://hooks.example.com/isahit/batches/${each.key}"
}

output "batch_workflows" {
  value = { for b in data.isahitlab_batches.pending.batches : b.name => b.workflow_id }
}
