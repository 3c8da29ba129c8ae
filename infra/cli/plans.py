"""`ukdac plan` and `ukdac diff`: offline plans of stacks, and what changes between two."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from infra.cli.common import current_project, out, progress, reports_errors, stack_names
from infra.errors import UkdacError
from infra.plan.diff import StackDiff, diff_plans
from infra.plan.model import Plan
from infra.plan.render import diff_document, markdown, render_diff, render_plan
from infra.plan.worktree import plan_both, stacks_at

# The mock runtime (pulumi's SDK) is imported when a plan is made, not to diff two plan files.


@reports_errors
def plan(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names, e.g. ukdac-dev.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Plan every stack in stacks/.")] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the plan of one stack to this file.")
    ] = None,
    json_dir: Annotated[
        Path | None, typer.Option(help="Write each stack's plan to DIR/<stack>.json.")
    ] = None,
    show_secrets: Annotated[
        bool, typer.Option(help="Reveal secret inputs (offline they are fakes).")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors.")] = False,
) -> None:
    """Plan stacks offline: the resource tree, counts by type and stack outputs."""
    from infra.plan.engine import plan_stack

    project = current_project()
    names = stack_names(project, stacks, every)
    if json_file and len(names) != 1:
        raise UkdacError("--json takes one stack; use --json-dir for several")
    for name in names:
        with progress(f"planning {name}"):
            result = plan_stack(project, name, show_secrets=show_secrets)
        if json_file:
            result.write(json_file)
        if json_dir:
            json_dir.mkdir(parents=True, exist_ok=True)
            result.write(json_dir / f"{name}.json")
        if not quiet:
            out.print(render_plan(result))


def _read_plan(path: Path) -> Plan:
    try:
        return Plan.read(path)
    except FileNotFoundError:
        raise UkdacError(f"{path}: no such plan file") from None
    except IsADirectoryError:
        raise UkdacError(f"{path}: a directory, not a plan file") from None
    except OSError as exc:
        raise UkdacError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise UkdacError(f"{path}: not a ukdac plan ({exc.__class__.__name__})") from None


def _write(output: Path, text: str) -> None:
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UkdacError(f"{output}: cannot be written ({exc.strerror})") from None


@reports_errors
def diff(
    args: Annotated[
        list[str] | None,
        typer.Argument(help="BASE.json HEAD.json, or stack names with --base-ref."),
    ] = None,
    base_ref: Annotated[
        str | None,
        typer.Option(help="Plan the base from this git ref (in a temporary worktree)."),
    ] = None,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a pull-request comment body.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: per stack, each resource's operation.")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="Write the result to this file.")] = None,
    json_output: Annotated[
        Path | None,
        typer.Option(help="Also write the JSON document to this file (one planning for both)."),
    ] = None,
    any_stacks: Annotated[
        bool, typer.Option(help="Compare plans of two different stacks or projects.")
    ] = False,
) -> None:
    """Show what changes between two plans: created, updated, replaced, deleted."""
    if as_markdown and as_json:
        raise UkdacError("give --markdown or --json, not both")
    if base_ref:
        diffs = _diffs_from_git(base_ref, args)
    else:
        if not args or len(args) != 2:
            raise UkdacError("give BASE.json HEAD.json, or stack names with --base-ref REF")
        diffs = [_diff_files(Path(args[0]), Path(args[1]), any_stacks)]
    document = (
        json.dumps(diff_document(diffs), indent=2, default=str) + "\n"
        if as_json or json_output
        else ""
    )
    if json_output:
        _write(json_output, document)
    if as_json or as_markdown:
        text = document if as_json else markdown(diffs)
        if output:
            _write(output, text)
        else:
            sys.stdout.write(text)
    elif output:
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(render_diff(diffs))
        _write(output, console.export_text())
    else:
        out.print(render_diff(diffs))


def _diffs_from_git(base_ref: str, stacks: list[str] | None) -> list[StackDiff]:
    from infra.plan.engine import plan_stack

    project = current_project()
    stack_dir = project.display(project.stack_dir)
    names = stacks or sorted(
        set(project.stacks()) | set(stacks_at(project.root, base_ref, stack_dir))
    )
    base, heads = plan_both(project, base_ref, names, plan_stack)
    return [diff_plans(base[n], heads[n]) for n in names if base[n] or heads[n]]


def _diff_files(base_path: Path, head_path: Path, any_stacks: bool) -> StackDiff:
    base, head = _read_plan(base_path), _read_plan(head_path)
    if (base.project, base.stack) != (head.project, head.stack) and not any_stacks:
        raise UkdacError(
            f"{base_path} plans {base.project}/{base.stack} but {head_path} plans "
            f"{head.project}/{head.stack}; pass --any-stacks to compare them anyway"
        )
    return diff_plans(base, head)
