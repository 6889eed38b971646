# Terraform 1.14 or later, in a .tfquery.hcl file next to the configuration
# that holds the provider block. `terraform query` lists the webhooks of the
# project, one per workflow that holds one; `terraform query
# -generate-config-out=webhooks.tf` writes an import block and a resource for
# each (header_mode = "adopted" for a webhook with a header, which apply keeps
# as the server holds it).
list "isahitlab_webhook" "annotations" {
  provider = isahitlab

  config {
    project_id = "6650c1f2a9b4c3d2e1f00001"
  }
}

# include_resource adds each webhook's attributes (url, header_mode,
# updated_at, last_call, last_error) to the results.
list "isahitlab_webhook" "detailed" {
  provider         = isahitlab
  include_resource = true

  config {
    project_id = "6650c1f2a9b4c3d2e1f00004"
  }
}
