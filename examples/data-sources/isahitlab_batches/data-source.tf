data "isahitlab_batches" "pending" {
  project_id = "6650c1f2a9b4c3d2e1f00001"
  statuses   = ["pending"] # optional; so is search = "..."
}

# One webhook per workflow of the pending batches, each with its own receiver
# path. Isahit Lab stores a webhook on a workflow, not on a batch, and several
# batches may share one workflow: one batch-scope resource per batch would put
# two resources on the same webhook, each undoing the other's url on every
# plan. So the keys are the distinct workflows. A workflow-scope webhook also
# serves the batches of that workflow that the filter left out; a batch
# without a workflow cannot carry a webhook and is skipped.
resource "isahitlab_webhook" "per_workflow" {
  for_each = toset([
    for b in data.isahitlab_batches.pending.batches : b.workflow_id if b.workflow_id != null
  ])

  project_id  = data.isahitlab_batches.pending.project_id
  workflow_id = each.key
  url         = "https://hooks.example.com/isahit/workflows/${each.key}"
}

# The batches each webhook serves, by workflow.
output "batches_by_workflow" {
  value = {
    for b in data.isahitlab_batches.pending.batches : b.workflow_id => b.name... if b.workflow_id != null
  }
}
