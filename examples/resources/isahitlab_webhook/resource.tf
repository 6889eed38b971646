variable "receiver_token" {
  description = "Sent by Isahit Lab as the Authorization header of each delivery."
  type        = string
  sensitive   = true
}

# Batch scope: the webhook of one batch (stored on the batch's workflow).
resource "isahitlab_webhook" "batch" {
  project_id = "6650c1f2a9b4c3d2e1f00001"
  batch_id   = "6650c1f2a9b4c3d2e1f00002"
  url        = "https://hooks.example.com/isahit/batch"
  header     = var.receiver_token # sensitive, kept in state
}

# Workflow scope: one workflow, whichever batches use it.
resource "isahitlab_webhook" "workflow" {
  project_id  = "6650c1f2a9b4c3d2e1f00001"
  workflow_id = "6650c1f2a9b4c3d2e1f00007"
  url         = "https://hooks.example.com/isahit/workflow"

  # Terraform 1.11+: the header never enters plan or state. It is sent on create,
  # when the url changes, and whenever header_wo_version changes: bump it to
  # rotate the secret (a new value alone is not sent).
  header_wo         = var.receiver_token
  header_wo_version = "1"
}

# Project scope: every batch of the project. A batch created later counts in
# out_of_step at the next plan, and apply sets it too.
resource "isahitlab_webhook" "project" {
  project_id = "6650c1f2a9b4c3d2e1f00004"
  url        = "https://hooks.example.com/isahit/project"
  header     = var.receiver_token

  # The API has no delete call: "clear" (default) removes the webhook from every
  # batch this resource covers on destroy; "keep" leaves it in place.
  on_destroy = "keep"
}
