# Project scope: PROJECT_ID
import {
  to = isahitlab_webhook.project
  id = "6650c1f2a9b4c3d2e1f00004"
}

# Batch scope: PROJECT_ID/BATCH_ID
import {
  to = isahitlab_webhook.batch
  id = "6650c1f2a9b4c3d2e1f00001/6650c1f2a9b4c3d2e1f00002"
}

# Workflow scope: PROJECT_ID/workflow/WORKFLOW_ID
import {
  to = isahitlab_webhook.workflow
  id = "6650c1f2a9b4c3d2e1f00001/workflow/6650c1f2a9b4c3d2e1f00007"
}
