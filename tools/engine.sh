#!/usr/bin/env bash
# Build the real Pulumi engine where the official installer is unreachable: `make engine`.
#
#   pulumi                       the CLI and engine, from the Go module proxy (pkg/v3 + sdk/v3)
#   pulumi-language-python       the Python language host (it also runs the policy pack), and
#                                its two helper scripts, from the engine source bundle
#   pulumi-resource-{random,tls,openstack}
#                                the providers, from the bundle's `provider/` trees, stamped
#                                with the versions constraints.txt pins for their Python SDKs
#
# The CLI and language host go to a versioned prefix outside the repository; the providers are
# installed into Pulumi's plugin cache (`pulumi plugin install resource NAME VERSION --file`),
# where the engine finds them by the version the SDK asks for. A second run rebuilds nothing
# whose version and source commit are unchanged.
#
#   UKDAC_ENGINE_SOURCES  the engine source bundle (required; `make engine` passes
#                         $(UPSTREAM)/engine): its SOURCES file names each repository and commit
#   UKDAC_ENGINE_HOME     prefixes, sources and Go caches (default ~/.cache/ukdac/engine)
#   PULUMI_HOME           Pulumi's own home, whose plugins/ the providers go to (default ~/.pulumi)
#   ENGINE_PARTS          "all" (default) or some of: cli language-host random tls openstack
set -euo pipefail

PULUMI_VERSION=v3.274.1   # the CLI, the engine and the language host (sdk/v3 tag)
root=$(cd "$(dirname "$0")/.." && pwd)
pin() { sed -n "s/^$1==//p" "$root/constraints.txt"; }
# name, Go major version of its provider module, version (the Python SDK's pin)
PROVIDERS=(
  "random v4 $(pin pulumi_random)"
  "tls v5 $(pin pulumi_tls)"
  "openstack v5 $(pin pulumi_openstack)"
)

sources=${UKDAC_ENGINE_SOURCES:?set UKDAC_ENGINE_SOURCES to the engine source bundle (make engine does)}
[ -f "$sources/SOURCES" ] || { echo "engine: $sources has no SOURCES file: not the engine source bundle" >&2; exit 2; }
sources=$(cd "$sources" && pwd)
home=${UKDAC_ENGINE_HOME:-$HOME/.cache/ukdac/engine}
prefix=$home/pulumi-$PULUMI_VERSION
bin=$prefix/bin
src=$home/src
export GOMODCACHE=$home/go/mod GOCACHE=$home/go/build GOFLAGS=-mod=mod CGO_ENABLED=0
export GOTOOLCHAIN=local PULUMI_SKIP_UPDATE_CHECK=true
parts=${ENGINE_PARTS:-all}
[ "$parts" = all ] && parts="cli language-host random tls openstack"
mkdir -p "$bin" "$src" "$GOMODCACHE" "$GOCACHE"

wanted() { [[ " $parts " == *" $1 "* ]]; }
commit_of() {  # repository (owner/name) -> the commit the bundle's SOURCES names
  sed -n "s|^- github.com/$1 @ \([0-9a-f]*\).*|\1|p" "$sources/SOURCES"
}
current() {  # stamp file, wanted stamp: is what was built from this source still there?
  [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]
}
fresh_copy() {  # bundle folder -> a writable copy (go adds go.sum lines; the bundle is read-only)
  rm -rf "${src:?}/$1" && cp -R "$sources/$1" "$src/$1" && chmod -R u+w "$src/$1"
}
go_dir() {  # module@version -> its directory in the module cache
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

build_cli() {
  local stamp=$bin/.pulumi.source want="$PULUMI_VERSION github.com/pulumi/pulumi@$PULUMI_VERSION"
  current "$stamp" "$want" && [ -x "$bin/pulumi" ] && return 0
  local pkg sdk tree=$src/pulumi-$PULUMI_VERSION
  pkg=$(go_dir "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION") &&
    sdk=$(go_dir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION") || return 1
  # pkg/v3 replaces sdk/v3 with ../sdk: the two trees must sit side by side.
  rm -rf "$tree" && mkdir -p "$tree" && cp -R "$pkg" "$tree/pkg" && cp -R "$sdk" "$tree/sdk" &&
    chmod -R u+w "$tree" &&
    (cd "$tree/pkg" && go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$bin/pulumi" ./cmd/pulumi) &&
    echo "$want" >"$stamp"
}

build_language_host() {
  local commit stamp=$bin/.pulumi-language-python.source want
  commit=$(commit_of pulumi/pulumi)
  want="$PULUMI_VERSION github.com/pulumi/pulumi@$commit"
  current "$stamp" "$want" && [ -x "$bin/pulumi-language-python" ] && return 0
  fresh_copy pulumi-language-python &&
    (cd "$src/pulumi-language-python" && go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$bin/pulumi-language-python" .) &&
    install -m 0755 "$src/pulumi-language-python/pulumi-language-python-exec" \
      "$src/pulumi-language-python/pulumi-resource-pulumi-python" "$bin/" &&
    echo "$want" >"$stamp"
}

build_provider() {  # name, Go major, version
  local name=$1 major=$2 version=$3 commit stamp want out dir
  commit=$(commit_of "pulumi/pulumi-$name")
  out=$home/providers/$name-$version
  stamp=$out/.source want="$version github.com/pulumi/pulumi-$name@$commit"
  if ! current "$stamp" "$want" || [ ! -x "$out/pulumi-resource-$name" ]; then
    fresh_copy "pulumi-$name" || return 1
    [ "$name" = tls ] && { fresh_copy terraform-provider-tls || return 1; }
    dir=$src/pulumi-$name/provider
    # What the providers' generate step does: the schema embedded with its version set.
    python3 "$root/tools/embed_schema.py" "$dir/cmd/pulumi-resource-$name" "$version" || return 1
    mkdir -p "$out" &&
      (cd "$dir" && go build -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi-$name/provider/$major/pkg/version.Version=$version" \
        -o "$out/pulumi-resource-$name" "./cmd/pulumi-resource-$name") &&
      echo "$want" >"$stamp" || return 1
  fi
  # Into the plugin cache, unless that exact binary is there already.
  local cached=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$name-v$version/pulumi-resource-$name
  cmp -s "$cached" "$out/pulumi-resource-$name" ||
    "$bin/pulumi" plugin install resource "$name" "$version" --file "$out/pulumi-resource-$name" --reinstall
}

# shellcheck source=tools/steps.sh
. "$root/tools/steps.sh"

# The CLI first: installing a provider needs it.
wanted cli && step pulumi build_cli
wanted language-host && step pulumi-language-python build_language_host
for entry in "${PROVIDERS[@]}"; do
  read -r name major version <<<"$entry"
  wanted "$name" && step "pulumi-resource-$name" build_provider "$name" "$major" "$version"
done

echo
for stamp in "$bin"/.*.source "$home"/providers/*/.source; do
  [ -f "$stamp" ] || continue
  case $stamp in
    "$bin"/*) what=$(basename "$stamp" .source); what=${what#.} ;;
    *) what=pulumi-resource-$(basename "$(dirname "$stamp")") ;;
  esac
  printf '%-38s %s\n' "$what" "$(cat "$stamp")"
done
echo "put the CLI and language host on PATH: export PATH=$bin:\$PATH"
echo "providers: in ${PULUMI_HOME:-$HOME/.pulumi}/plugins (pulumi plugin ls)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "engine: not built: ${failed[*]} (the command and error are above)" >&2
  exit 1
fi
