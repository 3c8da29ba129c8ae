"""Offline plans: the program run under Pulumi's mock runtime, and what plans tell.

`engine` runs the program and records every registration; `fakes` answers data sources
and provider outputs; `model` is the plan; `diff` and `render` compare and print plans;
`worktree` plans another git revision with that revision's own code; `footprint` is
what a plan takes from a project; `replacements` which input changes replace a resource.
May import `infra.stack` and `infra.errors`.
"""
