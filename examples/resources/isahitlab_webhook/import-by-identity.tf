# Terraform 1.12 or later: import by identity, the ids named as the resource's
# arguments. Each `to` needs a resource block of the same scope that matches
# what Isahit Lab holds, as in the example usage above (set
# header_mode = "adopted" to keep a header set outside Terraform).

# Project scope: project_id alone.
import {
  to = isahitlab_webhook.imported_project
  identity = {
    project_id = "6650c1f2a9b4c3d2e1f00004"
  }
}

# Batch scope: project_id and batch_id.
import {
  to = isahitlab_webhook.imported_batch
  identity = {
    project_id = "6650c1f2a9b4c3d2e1f00001"
    batch_id   = "6650c1f2a9b4c3d2e1f00002"
  }
}

# Workflow scope: project_id and workflow_id.
import {
  to = isahitlab_webhook.imported_workflow
  identity = {
    project_id  = "6650c1f2a9b4c3d2e1f00001"
    workflow_id = "6650c1f2a9b4c3d2e1f00007"
  }
}
