"""`python -m infra`: the ukdac command line."""

from infra.cli.entrypoint import run

run()
