# The webhook of one batch (or use workflow_id instead of batch_id), with the
# outcome of its last deliveries.
data "isahitlab_webhook" "annotations" {
  project_id = "6650c1f2a9b4c3d2e1f00001"
  batch_id   = "6650c1f2a9b4c3d2e1f00002"
}

output "webhook_url" {
  value = data.isahitlab_webhook.annotations.url
}

# Whether an Authorization header is set; never its value, which the state
# would keep. The isahitlab_webhook ephemeral resource reads the value.
output "has_header" {
  value = data.isahitlab_webhook.annotations.has_header
}

output "last_call" {
  value = data.isahitlab_webhook.annotations.last_call # status_code, message, date
}

output "last_error" {
  value = data.isahitlab_webhook.annotations.last_error # status_code, message, body
}
