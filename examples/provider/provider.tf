terraform {
  required_providers {
    isahitlab = {
      source = "isahit/isahitlab"
    }
  }
}

# Credentials are best left to the environment:
#   export ISAHIT_LAB_API_ACCESS_ID=...
#   export ISAHIT_LAB_API_SECRET_KEY=...
provider "isahitlab" {
  endpoint        = "https://hub-api.isahit.com/" # default; or ISAHIT_LAB_API_ENDPOINT
  max_concurrency = 8                             # parallel API calls for project-wide work
  max_retries     = 5                             # retries of idempotent calls on 429, 5xx and network errors
  request_timeout = "30s"                         # per attempt
}
