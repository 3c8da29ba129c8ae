"""The `ukdac` console script: every command group, registered on the one Typer app."""

from infra import cli_ops as _ops  # noqa: F401  (registers preflight, cleanup, sandbox)
from infra.cli import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
