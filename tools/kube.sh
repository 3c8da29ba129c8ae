#!/usr/bin/env bash
# Build a local Kubernetes control plane and Pulumi's Kubernetes provider from the Go module
# proxy alone: `make kube`.
#
#   pulumi-resource-kubernetes   github.com/pulumi/pulumi-kubernetes/provider/v4 at the served
#                                pseudo-version, its schema embedded with the Python SDK's pin
#   kube-apiserver, kube-controller-manager, kube-scheduler
#                                k8s.io/kubernetes, its staging modules mapped to their tags
#   etcd                         a tiny main around go.etcd.io/etcd/server/v3's etcdmain
#   kwok                         sigs.k8s.io/kwok: nodes and pods without kubelets, and its
#                                stage files (the module's kustomize/stage/)
#   etcdctl, etcdutl             what the etcd snapshot job and the restore runbook run, at
#                                the version of the image ukdac pins (image/etcd); rclone,
#                                the uploader, is tools/rclone.sh's (shared with the cloud tier)
#
# Built slowest first (the provider, then the API server), outside the repository, each with a
# stamp of what it was built from: a second run rebuilds nothing. Binaries go to
# $UKDAC_KUBE_HOME/bin; the provider is also installed into Pulumi's plugin cache.
#
#   UKDAC_ENGINE_HOME  where `make engine` keeps the CLI and the Go caches (shared with it)
#   UKDAC_KUBE_HOME    binaries and stage files (default ~/.cache/ukdac/kube)
#   KUBE_PARTS         "all" (default) or some of: provider apiserver kwok controller-manager
#                      etcd etcdctl etcdutl scheduler
set -euo pipefail

KUBERNETES_VERSION=v1.35.4   # the control plane (k8s.io/kubernetes; staging modules v0.35.4)
ETCD_VERSION=v3.6.17         # go.etcd.io/etcd/server/v3
KWOK_VERSION=v0.8.0          # sigs.k8s.io/kwok
# github.com/pulumi/pulumi-kubernetes/provider/v4: the newest the module proxy serves
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
PULUMI_VERSION=v3.274.1      # the CLI `make engine` built (it installs the provider)

root=$(cd "$(dirname "$0")/.." && pwd)
pin() { sed -n "s/^$1==//p" "$root/constraints.txt"; }
# etcdctl and etcdutl at the release of the image the snapshot job runs them from (its tag
# 3.6.5-0 is release 3.6.5, build 0).
ETCD_TOOLS_VERSION=v$(sed -n 's|.*"registry\.k8s\.io/etcd:\([0-9][0-9.]*\)-[0-9]*".*|\1|p' "$root/infra/versions.py")
[ "$ETCD_TOOLS_VERSION" != v ] || { echo "kube: no image/etcd pin in infra/versions.py" >&2; exit 1; }
PROVIDER_VERSION=$(pin pulumi_kubernetes)
engine_home=${UKDAC_ENGINE_HOME:-$HOME/.cache/ukdac/engine}
home=${UKDAC_KUBE_HOME:-$HOME/.cache/ukdac/kube}
bin=$home/bin
src=$home/src
export GOMODCACHE=$engine_home/go/mod GOCACHE=$engine_home/go/build GOFLAGS=-mod=mod CGO_ENABLED=0
export GOTOOLCHAIN=local GOPROXY=${GOPROXY:-https://proxy.golang.org} PULUMI_SKIP_UPDATE_CHECK=true
parts=${KUBE_PARTS:-all}
[ "$parts" = all ] &&
  parts="provider apiserver kwok controller-manager etcd etcdctl etcdutl scheduler"
mkdir -p "$bin" "$src" "$GOMODCACHE" "$GOCACHE"

wanted() { [[ " $parts " == *" $1 "* ]]; }
current() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
go_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

build_provider() {
  local stamp=$bin/.pulumi-resource-kubernetes.source want="$PROVIDER_VERSION $PROVIDER_MODULE"
  if ! current "$stamp" "$want" || [ ! -x "$bin/pulumi-resource-kubernetes" ]; then
    local dir tree=$src/pulumi-kubernetes
    dir=$(go_dir "$PROVIDER_MODULE") || return 1
    rm -rf "$tree" && cp -R "$dir" "$tree" && chmod -R u+w "$tree" || return 1
    # Its go.mod points the SDK module at ../sdk (a monorepo path): take the required version.
    (cd "$tree" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4) || return 1
    # What the provider's generate step does: schema with its version set, mapping compacted.
    python3 "$root/tools/embed_schema.py" "$tree/cmd/pulumi-resource-kubernetes" \
      "$PROVIDER_VERSION" || return 1
    (cd "$tree" && go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PROVIDER_VERSION" \
      -o "$bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes) &&
      echo "$want" >"$stamp" || return 1
  fi
  local cli=$engine_home/pulumi-$PULUMI_VERSION/bin/pulumi
  local cached=${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-v$PROVIDER_VERSION/pulumi-resource-kubernetes
  [ -x "$cli" ] || { echo "kube: no pulumi CLI at $cli: run make engine first" >&2; return 1; }
  cmp -s "$cached" "$bin/pulumi-resource-kubernetes" ||
    "$cli" plugin install resource kubernetes "$PROVIDER_VERSION" \
      --file "$bin/pulumi-resource-kubernetes" --reinstall
}

kubernetes_module() {  # a main module whose go.mod maps k8s.io/kubernetes's staging modules
  local tree=$src/kubernetes-$KUBERNETES_VERSION staging=${KUBERNETES_VERSION/v1./v0.}
  [ -f "$tree/.ready" ] && return 0
  local dir
  dir=$(go_dir "k8s.io/kubernetes@$KUBERNETES_VERSION") || return 1
  rm -rf "$tree" && mkdir -p "$tree" || return 1
  {
    echo "module ukdac.local/kube"
    echo "go 1.25"
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    # Every k8s.io module kubernetes requires at v0.0.0 lives in its staging/ tree: its tag.
    sed -n 's/^[[:space:]]*\(k8s\.io\/[a-z0-9-]*\) v0\.0\.0$/\1/p' "$dir/go.mod" | sort -u |
      while read -r module; do echo "replace $module => $module $staging"; done
  } >"$tree/go.mod"
  echo 'package kube' >"$tree/kube.go"
  touch "$tree/.ready"
}

build_kubernetes() {  # command name under k8s.io/kubernetes/cmd
  local name=$1 stamp=$bin/.$1.source want="k8s.io/kubernetes@$KUBERNETES_VERSION"
  current "$stamp" "$want" && [ -x "$bin/$name" ] && return 0
  kubernetes_module || return 1
  local minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  local v=k8s.io/component-base/version
  (cd "$src/kubernetes-$KUBERNETES_VERSION" && go build -trimpath \
    -ldflags "-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
    -o "$bin/$name" "k8s.io/kubernetes/cmd/$name") && echo "$want" >"$stamp"
}

build_etcd() {
  local stamp=$bin/.etcd.source want="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  current "$stamp" "$want" && [ -x "$bin/etcd" ] && return 0
  local tree=$src/etcd-$ETCD_VERSION
  rm -rf "$tree" && mkdir -p "$tree" || return 1
  printf 'module ukdac.local/etcd\ngo 1.25\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$tree/go.mod"
  cat >"$tree/main.go" <<'GO'
// etcd's own entry point: the root module that holds etcd's main is not served at this version.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$tree" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" .) && echo "$want" >"$stamp"
}

build_etcd_tool() {  # etcdctl or etcdutl: their modules' own main packages
  local name=$1 module=go.etcd.io/etcd/$1/v3
  local stamp=$bin/.$name.source want="$module@$ETCD_TOOLS_VERSION"
  current "$stamp" "$want" && [ -x "$bin/$name" ] && return 0
  local tree=$src/$name-$ETCD_TOOLS_VERSION
  # Built from a module that requires it: its own go.mod replaces its siblings by paths.
  rm -rf "$tree" && mkdir -p "$tree" || return 1
  printf 'module ukdac.local/%s\ngo 1.25\nrequire %s %s\n' "$name" "$module" \
    "$ETCD_TOOLS_VERSION" >"$tree/go.mod"
  echo "package tools" >"$tree/tools.go"
  (cd "$tree" && go build -trimpath -ldflags "-s -w" -o "$bin/$name" "$module") &&
    echo "$want" >"$stamp"
}

build_kwok() {
  local stamp=$bin/.kwok.source want="sigs.k8s.io/kwok@$KWOK_VERSION"
  current "$stamp" "$want" && [ -x "$bin/kwok" ] && [ -d "$home/stage" ] && return 0
  local dir
  dir=$(go_dir "sigs.k8s.io/kwok@$KWOK_VERSION") || return 1
  GOBIN=$bin go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || return 1
  # Its stage files: node initialise and heartbeat, pod ready, complete and delete.
  rm -rf "$home/stage" && mkdir -p "$home/stage" &&
    for set in node/fast node/heartbeat-with-lease pod/general; do
      find "$dir/kustomize/stage/$set" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml \
        -exec cp {} "$home/stage/" \; || return 1
    done && chmod u+w "$home/stage"/* &&
    echo "$want" >"$stamp"
}

# shellcheck source=tools/steps.sh
. "$root/tools/steps.sh"

# Slowest first, so a cold machine spends its time where it must.
wanted provider && step pulumi-resource-kubernetes build_provider
wanted apiserver && step kube-apiserver build_kubernetes kube-apiserver
wanted kwok && step kwok build_kwok
wanted controller-manager && step kube-controller-manager build_kubernetes kube-controller-manager
wanted etcd && step etcd build_etcd
wanted etcdctl && step etcdctl build_etcd_tool etcdctl
wanted etcdutl && step etcdutl build_etcd_tool etcdutl
wanted scheduler && step kube-scheduler build_kubernetes kube-scheduler

echo
for stamp in "$bin"/.*.source; do
  [ -f "$stamp" ] || continue
  what=$(basename "$stamp" .source)
  printf '%-30s %s\n' "${what#.}" "$(cat "$stamp")"
done
[ ${#failed[@]} -eq 0 ] || { echo "kube: failed: ${failed[*]}" >&2; exit 1; }
