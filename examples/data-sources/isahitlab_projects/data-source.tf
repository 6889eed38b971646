# Every project the credentials may see, every page of them.
data "isahitlab_projects" "all" {}

# Filters are optional and combine; each list matches any of its values.
data "isahitlab_projects" "boxes" {
  statuses = ["pending", "configuring"] # configuring, pending, complete, toBeDeleted, deleted, archived
  types    = ["iat-rectangle"]          # form, iat-rectangle, iat-polygon, iat-segmentation, iat-graph, iat-polyline
  search   = "vehicles"                 # matched against the name, as the API searches
}

# Or a known set of projects.
data "isahitlab_projects" "chosen" {
  ids = ["6650c1f2a9b4c3d2e1f00001", "6650c1f2a9b4c3d2e1f00004"]
}

output "project_names" {
  value = { for p in data.isahitlab_projects.all.projects : p.id => p.name }
}
