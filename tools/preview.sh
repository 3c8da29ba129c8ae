#!/usr/bin/env bash
# A real `pulumi preview` of one stack with the policy pack, as the preview workflow runs it:
#
#   tools/preview.sh STACK [extra pulumi preview flags, e.g. --json or --expect-no-changes]
#
# Needs the pulumi CLI on PATH (the official installer, or `make engine`), the stack's
# clouds.yaml entry, the state backend (`pulumi login ...`) and its secrets passphrase.
# Output goes to stdout, and to the job summary when GITHUB_STEP_SUMMARY is set.
set -euo pipefail
stack=${1:?usage: tools/preview.sh STACK [pulumi preview flags]}
shift
cd "$(dirname "$0")/.."
command -v pulumi >/dev/null || { echo "preview: no pulumi CLI on PATH (see make engine)" >&2; exit 2; }
make --quiet venv
config=$(mktemp)
trap 'rm -f "$config"' EXIT
.venv/bin/ukdac policy-config "$stack" > "$config"
export PULUMI_SKIP_UPDATE_CHECK=true
status=0
pulumi preview --stack "$stack" --diff --non-interactive \
  --policy-pack policies --policy-pack-config "$config" "$@" | tee preview-"$stack".txt || status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  { echo "### pulumi preview: $stack"; echo '```'; cat preview-"$stack".txt; echo '```'; } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
