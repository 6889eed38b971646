#!/usr/bin/env bash
# Builds the Terraform CLI VERSION (v1.16.4 or 1.16.4) from its Go module on the module proxy
# into OUT: no binary download, so it works where only the Go proxy is reachable.
#
#   .ci/build-terraform.sh v1.16.4 .tools/bin/terraform-v1.16.4
#
# The module zip of github.com/hashicorp/terraform lacks its nested modules (the remote-state
# backends azure, consul, cos, gcs, kubernetes, oci, oss, pg and s3, and internal/legacy, which
# only tests use), which go.mod replaces with local directories. The copy built here drops those
# replace/require lines and the backends' imports and map entries in internal/backend/init/init.go:
# the binary is Terraform less those nine state backends (local, http, inmem, remote and cloud
# remain), which the acceptance tests never use. About 3 minutes on two cores with a cold cache.
#
# The Go toolchain on PATH is used when it is at least the module's `go` line; otherwise the
# required one is fetched from the module proxy (GOTOOLCHAIN), as `go` itself would.
set -euo pipefail

die() { printf 'build-terraform: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 VERSION OUT   (e.g. $0 v1.16.4 .tools/bin/terraform-v1.16.4)"
version=$1
case $version in v*) ;; *) version=v$version ;; esac
mkdir -p "$(dirname "$2")"
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
mod=github.com/hashicorp/terraform

tmp=$(mktemp -d)
# The module cache is read-only: the copy is made writable, and so before removal.
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp" "$out.tmp"' EXIT

# Outside any module, so the caller's go.mod and GOFLAGS=-mod=... do not apply.
json=$(cd "$tmp" && GOFLAGS= go mod download -json "$mod@$version") ||
  die "cannot download $mod@$version from the Go module proxy ($(go env GOPROXY)): ${json:-no answer}"
dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || die "no module directory for $mod@$version in: $json"

src=$tmp/src
mkdir "$src"
cp -R "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"

# Local replacements whose directory the zip lacks: the nested modules.
missing_modules() {
  awk '$1 == "replace" && $3 == "=>" && $4 ~ /^\.\.?\// { print $2, $4 }' go.mod |
    while read -r path target; do [ -e "$target" ] || echo "$path"; done
}
missing=()
while read -r m; do missing+=("$m"); done < <(missing_modules)
[ ${#missing[@]} -gt 0 ] || die "$mod@$version: no nested module missing from the zip; check this script against its go.mod"

init=internal/backend/init/init.go
[ -f "$init" ] || die "$mod@$version has no $init; check this script against the module"
for m in "${missing[@]}"; do
  go mod edit -dropreplace="$m" -droprequire="$m"
  echo "build-terraform: without $m"
  # Only the init file may import a dropped module (tests are not built).
  users=$(grep -rl --include='*.go' --exclude='*_test.go' "\"$m\"" . | grep -vx "./$init" || true)
  [ -z "$users" ] || die "$m (missing from the module zip) is imported by: $users"
  grep -q "\"$m\"" "$init" || continue
  alias=$(sed -n "s|^[[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*\"$m\"[[:space:]]*\$|\1|p" "$init")
  [ -n "$alias" ] || die "cannot find the import alias of $m in $init"
  # Drop the import and each one-line map entry `"name": func() backend.Backend { return alias.New() },`.
  sed -e "\\|\"$m\"|d" -e "/[^A-Za-z0-9_]$alias\\.New(/d" "$init" >"$init.new"
  mv "$init.new" "$init"
  ! grep -qw "$alias" "$init" || die "$init still uses $alias after removing $m; check this script against the module"
done
[ -z "$(missing_modules)" ] || die "go.mod still replaces modules with missing directories: $(missing_modules)"

# The toolchain: the one on PATH when recent enough, else the required one from the proxy.
need=$(awk '$1 == "go" { print $2; exit }' go.mod)
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n' "$need" "$have" | sort -V | sed -n 1p)" != "$need" ]; then
  export GOTOOLCHAIN=go$need
  echo "build-terraform: $mod@$version needs Go $need (have $have): GOTOOLCHAIN=$GOTOOLCHAIN, fetched from the module proxy"
fi

echo "build-terraform: building Terraform $version with $(go version) (a few minutes)"
start=$SECONDS
# -s -w: no symbol table or DWARF, as in release builds: a smaller binary and a quicker link.
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -buildvcs=false \
  -ldflags "-s -w -X 'github.com/hashicorp/terraform/version.dev=no'" -o "$out.tmp" .

# The version string must be exactly the release's (a -dev suffix would fail version checks).
want=${version#v}
got=$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$out.tmp" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')
[ "$got" = "$want" ] || die "the binary built reports version '$got', not $want"
mv -f "$out.tmp" "$out"
echo "build-terraform: $out (Terraform $got) in $((SECONDS - start))s"
