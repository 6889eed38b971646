# The demo's configuration. The demo runs it against the bundled emulator, with the
# endpoint and credentials in ISAHIT_LAB_API_* and the ids in terraform.tfvars.json.
terraform {
  required_providers {
    isahitlab = {
      source = "isahit/isahitlab"
    }
  }
}

provider "isahitlab" {}

variable "project_id" {
  type = string
}

variable "first_batch_id" {
  type = string
}

variable "receipts_project_id" {
  type = string
}

variable "receipts_batch_id" {
  type = string
}

variable "receiver_url" {
  type = string
}

variable "receiver_token" {
  type      = string
  sensitive = true
}

# Project scope: the webhook of every batch of the project.
resource "isahitlab_webhook" "project" {
  project_id = var.project_id
  url        = var.receiver_url
  header     = var.receiver_token
}

# Batch scope, in another project, with a write-only header kept out of plan and state.
resource "isahitlab_webhook" "receipts" {
  project_id        = var.receipts_project_id
  batch_id          = var.receipts_batch_id
  url               = "${var.receiver_url}/receipts"
  header_wo         = var.receiver_token
  header_wo_version = "1"
}

# What Isahit Lab reports for one batch covered by the project-wide webhook.
data "isahitlab_webhook" "first_batch" {
  project_id = var.project_id
  batch_id   = var.first_batch_id

  depends_on = [isahitlab_webhook.project]
}

output "project_webhook" {
  value = {
    id          = isahitlab_webhook.project.id
    scope       = isahitlab_webhook.project.scope
    batch_count = isahitlab_webhook.project.batch_count
    out_of_step = isahitlab_webhook.project.out_of_step
    updated_at  = isahitlab_webhook.project.updated_at
    last_call   = isahitlab_webhook.project.last_call
    last_error  = isahitlab_webhook.project.last_error
  }
}

output "first_batch_webhook" {
  value = {
    url         = data.isahitlab_webhook.first_batch.url
    workflow_id = data.isahitlab_webhook.first_batch.workflow_id
    last_call   = data.isahitlab_webhook.first_batch.last_call
    last_error  = data.isahitlab_webhook.first_batch.last_error
  }
}

output "receipts_webhook_id" {
  value = isahitlab_webhook.receipts.id
}
