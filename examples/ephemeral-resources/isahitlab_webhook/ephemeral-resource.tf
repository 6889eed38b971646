# The url and Authorization header of one batch's webhook (or use workflow_id
# instead of batch_id), read for this run only: Terraform 1.10+ (OpenTofu
# 1.11+) keeps an ephemeral resource out of the plan and the state. The
# isahitlab_webhook data source holds only has_header, never the value.
ephemeral "isahitlab_webhook" "annotations" {
  project_id = "6650c1f2a9b4c3d2e1f00001"
  batch_id   = "6650c1f2a9b4c3d2e1f00002"
}

# An ephemeral value may go only where nothing is saved: a write-only argument,
# a provider block, another ephemeral resource. Here a second receiver of the
# same service gets the same header, write-only (Terraform 1.11+). The header
# is sent on create and when header_wo_version changes: bump it when the
# header above is rotated, as a new value alone does not show in the plan.
resource "isahitlab_webhook" "reviews" {
  project_id        = "6650c1f2a9b4c3d2e1f00001"
  batch_id          = "6650c1f2a9b4c3d2e1f00003"
  url               = "https://hooks.example.com/isahit/reviews"
  header_wo         = ephemeral.isahitlab_webhook.annotations.header
  header_wo_version = "1"
}
