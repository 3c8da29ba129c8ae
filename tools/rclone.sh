#!/usr/bin/env bash
# Build rclone at the version the snapshot jobs pin (image/rclone in infra/versions.py) from
# its Go module, for the cloud tier, which runs the uploader's own script against the test
# cloud's object store. The binary goes outside the repository (never committed), with its
# own module and build caches; a second run reuses it. Prints the binary's path.
#
#   UKDAC_TOOLS_HOME  where it lives (default ~/.cache/ukdac/tools)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's|.*"rclone/rclone:\([0-9][0-9.]*\)".*|\1|p' "$root/infra/versions.py")
[ -n "$version" ] || { echo "rclone.sh: no image/rclone pin in infra/versions.py" >&2; exit 1; }
home=${UKDAC_TOOLS_HOME:-$HOME/.cache/ukdac/tools}
bin=$home/rclone-v$version
if [ ! -x "$bin/rclone" ]; then
  mkdir -p "$bin" "$home/go/mod" "$home/go/build"
  GOMODCACHE=$home/go/mod GOCACHE=$home/go/build GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    CGO_ENABLED=0 GOBIN=$bin go install -trimpath "github.com/rclone/rclone@v$version" >&2
fi
# Whole output first: under pipefail a `| head` would SIGPIPE rclone and fail the check.
reported=$("$bin/rclone" version)
case "${reported%%$'\n'*}" in
  "rclone v$version" | "rclone v$version-"*) ;;
  *) echo "rclone.sh: $bin/rclone reports '${reported%%$'\n'*}', not v$version" >&2; exit 1 ;;
esac
echo "$bin/rclone"
