# Terraform 1.12 or later (1.11 refuses `identity`): import by identity, the
# ids named as the resource's arguments.
terraform {
  required_version = ">= 1.12"
}

# Each `to` names a resource block of the scope the identity names, with the
# url Isahit Lab holds; header_mode = "adopted" keeps the header found there
# as it is, never read into the state (with `header` or `header_wo` instead,
# the first apply sends that value).

# Project scope: project_id alone.
import {
  to = isahitlab_webhook.imported_project
  identity = {
    project_id = "6650c1f2a9b4c3d2e1f00005"
  }
}

resource "isahitlab_webhook" "imported_project" {
  project_id  = "6650c1f2a9b4c3d2e1f00005"
  url         = "https://hooks.example.com/isahit/imported-project"
  header_mode = "adopted"
}

# Batch scope: project_id and batch_id.
import {
  to = isahitlab_webhook.imported_batch
  identity = {
    project_id = "6650c1f2a9b4c3d2e1f00006"
    batch_id   = "6650c1f2a9b4c3d2e1f00008"
  }
}

resource "isahitlab_webhook" "imported_batch" {
  project_id  = "6650c1f2a9b4c3d2e1f00006"
  batch_id    = "6650c1f2a9b4c3d2e1f00008"
  url         = "https://hooks.example.com/isahit/imported-batch"
  header_mode = "adopted"
}

# Workflow scope: project_id and workflow_id.
import {
  to = isahitlab_webhook.imported_workflow
  identity = {
    project_id  = "6650c1f2a9b4c3d2e1f00006"
    workflow_id = "6650c1f2a9b4c3d2e1f00009"
  }
}

resource "isahitlab_webhook" "imported_workflow" {
  project_id  = "6650c1f2a9b4c3d2e1f00006"
  workflow_id = "6650c1f2a9b4c3d2e1f00009"
  url         = "https://hooks.example.com/isahit/imported-workflow"
  header_mode = "adopted"
}
