# Into the resource blocks of the example usage (resource.tf), which name the
# same batch, workflow and project: `terraform import` needs the block first.

# Project scope: PROJECT_ID
terraform import isahitlab_webhook.project 6650c1f2a9b4c3d2e1f00004

# Batch scope: PROJECT_ID/BATCH_ID
terraform import isahitlab_webhook.batch 6650c1f2a9b4c3d2e1f00001/6650c1f2a9b4c3d2e1f00002

# Workflow scope: PROJECT_ID/workflow/WORKFLOW_ID
terraform import isahitlab_webhook.workflow 6650c1f2a9b4c3d2e1f00001/workflow/6650c1f2a9b4c3d2e1f00007
