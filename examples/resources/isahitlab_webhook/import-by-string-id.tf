# Terraform 1.5 or later: import blocks with the id of `terraform import`.
# Each `to` names a resource block of the scope the id names, with the url
# Isahit Lab holds; header_mode = "adopted" keeps the header found there as it
# is, never read into the state (with `header` or `header_wo` instead, the
# first apply sends that value).

# Project scope: PROJECT_ID
import {
  to = isahitlab_webhook.imported_project
  id = "6650c1f2a9b4c3d2e1f00005"
}

resource "isahitlab_webhook" "imported_project" {
  project_id  = "6650c1f2a9b4c3d2e1f00005"
  url         = "https://hooks.example.com/isahit/imported-project"
  header_mode = "adopted"
}

# Batch scope: PROJECT_ID/BATCH_ID
import {
  to = isahitlab_webhook.imported_batch
  id = "6650c1f2a9b4c3d2e1f00006/6650c1f2a9b4c3d2e1f00008"
}

resource "isahitlab_webhook" "imported_batch" {
  project_id  = "6650c1f2a9b4c3d2e1f00006"
  batch_id    = "6650c1f2a9b4c3d2e1f00008"
  url         = "https://hooks.example.com/isahit/imported-batch"
  header_mode = "adopted"
}

# Workflow scope: PROJECT_ID/workflow/WORKFLOW_ID
import {
  to = isahitlab_webhook.imported_workflow
  id = "6650c1f2a9b4c3d2e1f00006/workflow/6650c1f2a9b4c3d2e1f00009"
}

resource "isahitlab_webhook" "imported_workflow" {
  project_id  = "6650c1f2a9b4c3d2e1f00006"
  workflow_id = "6650c1f2a9b4c3d2e1f00009"
  url         = "https://hooks.example.com/isahit/imported-workflow"
  header_mode = "adopted"
}
