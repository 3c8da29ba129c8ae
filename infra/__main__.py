"""`python -m infra`: the ukdac command line."""

from infra.cli.app import app

app()
