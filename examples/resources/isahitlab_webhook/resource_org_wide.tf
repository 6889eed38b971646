# Organisation-wide: one project-scope webhook per project the credentials may
# see (here the pending and configuring ones). A project that appears later
# gets its webhook at the next apply; one that leaves the list has it cleared.
data "isahitlab_projects" "active" {
  statuses = ["pending", "configuring"]
}

resource "isahitlab_webhook" "org" {
  for_each = { for p in data.isahitlab_projects.active.projects : p.id => p }

  project_id = each.key
  url        = "https://hooks.example.com/isahit"
}
