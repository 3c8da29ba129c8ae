#!/usr/bin/env bash
# Build the real Pulumi engine from Go modules, for machines where the official installer
# is unreachable: `make engine`. Binaries go to a versioned prefix outside the repository
# (never committed), with their own Go module and build caches; a second run reuses them.
#
#   UKDAC_ENGINE_HOME  where prefixes and caches live (default ~/.cache/ukdac/engine)
#   ENGINE_PARTS       what to build: "all" (default) or a list from: cli language-host
#                      openstack tls random
#
# Exit 0 when every part asked for is present; 3 when a part's Go module is not served by
# the module proxy (the message names the module and the proxy's answer).
set -euo pipefail

PULUMI_VERSION=v3.274.1   # CLI and engine (pkg/v3, sdk/v3 tagged per release)
# The language host and the providers, at the versions the Python SDKs are pinned to
# (constraints.txt). The Go module proxy here refuses all four (403, "This module version is
# not available"), by tag, pseudo-version or commit alike; the script says so per module.
LANGUAGE_HOST=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
pin() { sed -n "s/^$1==//p" "$(dirname "$0")/../constraints.txt"; }
PROVIDERS=(
  "openstack github.com/pulumi/pulumi-openstack/provider/v5 $(pin pulumi_openstack)"
  "tls github.com/pulumi/pulumi-tls/provider/v5 $(pin pulumi_tls)"
  "random github.com/pulumi/pulumi-random/provider/v4 $(pin pulumi_random)"
)

home=${UKDAC_ENGINE_HOME:-$HOME/.cache/ukdac/engine}
prefix=$home/pulumi-$PULUMI_VERSION
bin=$prefix/bin
export GOMODCACHE=$home/go/mod GOCACHE=$home/go/build GOFLAGS=-mod=mod CGO_ENABLED=0
export GOTOOLCHAIN=local
parts=${ENGINE_PARTS:-all}
[ "$parts" = all ] && parts="cli language-host openstack tls random"
mkdir -p "$bin" "$GOMODCACHE" "$GOCACHE"

wanted() { [[ " $parts " == *" $1 "* ]]; }
report() { printf '%-28s %s\n' "$1" "$2"; }
missing=()

download() {  # module@version -> its directory, or a one-line reason on stderr
  local out
  if ! out=$(go mod download -json "$1" 2>&1); then
    echo "$out" | grep -m1 -E 'Error|403|404|not available|invalid' >&2 || echo "$out" >&2
    return 1
  fi
  echo "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

build_cli() {
  local target=$bin/pulumi
  if [ -x "$target" ] && "$target" version 2>/dev/null | grep -qx "$PULUMI_VERSION"; then
    return 0
  fi
  local pkg sdk tree
  pkg=$(download "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION") || return 1
  sdk=$(download "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION") || return 1
  # pkg/v3 replaces sdk/v3 with ../sdk, so the two trees must sit side by side.
  tree=$home/src/pulumi-$PULUMI_VERSION
  rm -rf "$tree" && mkdir -p "$tree"
  cp -r "$pkg" "$tree/pkg" && cp -r "$sdk" "$tree/sdk" && chmod -R u+w "$tree"
  (cd "$tree/pkg" && go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$target" ./cmd/pulumi)
}

timed() {  # name, function: run it, report the outcome and its wall time
  local name=$1 start=$SECONDS
  if "$2"; then
    report "$name" "ok ($((SECONDS - start)) s)"
  else
    report "$name" "NOT BUILT ($((SECONDS - start)) s)"
    missing+=("$name")
  fi
}

build_language_host() {
  [ -x "$bin/pulumi-language-python" ] && return 0
  download "$LANGUAGE_HOST@$PULUMI_VERSION" >/dev/null || return 1
  echo "$LANGUAGE_HOST is served now: add its build here" >&2
  return 1
}

build_provider() {
  local name=$1 module=$2 version=$3
  [ -x "$bin/pulumi-resource-$name" ] && return 0
  download "$module@v$version" >/dev/null || return 1
  echo "$module@v$version is served now: add its build here" >&2
  return 1
}

wanted cli && timed cli build_cli
wanted language-host && timed language-host build_language_host
for entry in "${PROVIDERS[@]}"; do
  read -r name module version <<<"$entry"
  provider() { build_provider "$name" "$module" "$version"; }
  wanted "$name" && timed "pulumi-resource-$name" provider
done

echo
for tool in "$bin"/*; do
  [ -x "$tool" ] || continue
  report "$(basename "$tool")" "$("$tool" version 2>/dev/null | head -1), built $(date -r "$tool" -u +%FT%TZ)"
done
echo "put the engine on PATH: export PATH=$bin:\$PATH"
if [ ${#missing[@]} -gt 0 ]; then
  echo "not built: ${missing[*]} (the Go module proxy does not serve them; see above)" >&2
  exit 3
fi
