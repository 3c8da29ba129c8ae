"""`python -m infra.cli` (how `ukdac diff --base-ref` runs another revision's planner)."""

from infra.cli.entrypoint import run

run()
