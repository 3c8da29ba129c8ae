# Sourced by the build scripts (tools/engine.sh, tools/kube.sh): `step LABEL COMMAND...` runs
# one build step, prints how it went and how long it took, and records a failure in `failed`
# so that every step runs and the script can end by naming what failed.
failed=()
step() {
  local label=$1 start=$SECONDS
  shift
  if "$@"; then
    printf '%-28s ok (%d s)\n' "$label" $((SECONDS - start))
  else
    printf '%-28s FAILED (%d s)\n' "$label" $((SECONDS - start))
    failed+=("$label")
  fi
}
