"""The command line (`ukdac`, or `python -m infra`): a Typer application.

`app.py` registers every command; each other module is one command group that parses
arguments, calls public functions of `infra.stack`, `infra.plan` and `infra.ops`, and
prints. It may import every other part of `infra`; nothing else imports it. `entrypoint.py`
runs it as a process.
"""
