#!/usr/bin/env bash
# Builds the OpenTofu CLI VERSION (v1.12.6 or 1.12.6) from its Go module on the module proxy into
# OUT: no binary download. About ten minutes on two cores with a cold cache.
#
#   .ci/build-tofu.sh v1.12.6 .tools/bin/tofu-v1.12.6
#
# Built as a release is (version.dev=no), so that it reports 1.12.6 and not 1.12.6-dev: version
# checks in tests compare it with releases. The Go toolchain on PATH is used when it is at least
# the module's `go` line; otherwise the required one is fetched from the module proxy.
set -euo pipefail

die() { printf 'build-tofu: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 VERSION OUT   (e.g. $0 v1.12.6 .tools/bin/tofu-v1.12.6)"
version=$1
case $version in v*) ;; *) version=v$version ;; esac
mkdir -p "$(dirname "$2")"
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
mod=github.com/opentofu/opentofu

tmp=$(mktemp -d)
# The module cache is read-only: the copy is made writable, and so before removal.
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp" "$out.tmp"' EXIT

json=$(cd "$tmp" && GOFLAGS= go mod download -json "$mod@$version") ||
  die "cannot download $mod@$version from the Go module proxy ($(go env GOPROXY)): ${json:-no answer}"
dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || die "no module directory for $mod@$version in: $json"

src=$tmp/src
mkdir "$src"
cp -R "$dir/." "$src/"
chmod -R u+w "$src"
cd "$src"

need=$(awk '$1 == "go" { print $2; exit }' go.mod)
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n' "$need" "$have" | sort -V | sed -n 1p)" != "$need" ]; then
  export GOTOOLCHAIN=go$need
  echo "build-tofu: $mod@$version needs Go $need (have $have): GOTOOLCHAIN=$GOTOOLCHAIN, fetched from the module proxy"
fi

echo "build-tofu: building OpenTofu $version with $(go version) (about ten minutes)"
start=$SECONDS
# -s -w: no symbol table or DWARF, as in release builds: a smaller binary and a quicker link.
CGO_ENABLED=0 GOFLAGS= go build -buildvcs=false \
  -ldflags "-s -w -X '$mod/version.dev=no'" -o "$out.tmp" ./cmd/tofu

want=${version#v}
got=$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$out.tmp" version -json | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')
[ "$got" = "$want" ] || die "the binary built reports version '$got', not $want"
mv -f "$out.tmp" "$out"
echo "build-tofu: $out (OpenTofu $got) in $((SECONDS - start))s"
