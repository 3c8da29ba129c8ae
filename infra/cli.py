"""The `ukdac` command line: parses arguments, calls a service, prints. Nothing else."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
import yaml
from rich.console import Console
from rich.table import Table

from infra.deployment import Deployment, leaf_paths, validate_stack_file
from infra.diff import StackDiff, diff_plans
from infra.errors import ConfigError, UkdacError, format_path
from infra.offline.engine import plan_stack
from infra.phalanx import application_values, environment_values, vault_secrets
from infra.plan import Plan
from infra.profiles import deep_merge, defaults_for
from infra.pulumi_cli import read_stack_outputs
from infra.render import markdown, render_diff, render_plan
from infra.schema import stack_file_schema
from infra.schema_docs import render as render_config_docs
from infra.stackfile import Project, load_project, load_stack_file
from infra.worktree import checkout, plan_tree, stacks_at
from policies.rules import POLICIES
from policies.rules import run_all as run_policies
from policies.views import from_plan as view_from_plan

app = typer.Typer(
    help="Plan, check and diff the LSST:UK Data Access Centre's Pulumi stacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="The stack configuration: schema, checks, effective values.")
app.add_typer(config_app, name="config")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn ukdac's own errors into a message and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except UkdacError as error:
            err.print(f"[red]error:[/red] {error}", markup=True, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return wrapper


def _project() -> Project:
    return load_project(Path.cwd())


def _stacks(project: Project, stacks: list[str] | None, every: bool) -> list[str]:
    if every or not stacks:
        if not every:
            raise UkdacError("name a stack, or pass --all")
        return project.stacks()
    return stacks


@app.command()
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
    project = _project()
    names = _stacks(project, stacks, every)
    if json_file and len(names) != 1:
        raise UkdacError("--json takes one stack; use --json-dir for several")
    for name in names:
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
    except ValueError as exc:
        raise UkdacError(f"{path}: not a ukdac plan ({exc.__class__.__name__})") from None


@app.command()
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
    output: Annotated[Path | None, typer.Option(help="Write the result to this file.")] = None,
) -> None:
    """Show what changes between two plans: added, removed and changed resources."""
    diffs: list[StackDiff]
    if base_ref:
        project = _project()
        names = args or sorted(set(project.stacks()) | set(stacks_at(project.root, base_ref)))
        with checkout(project.root, base_ref) as tree:
            base = plan_tree(tree, names, project.display(project.stack_dir))
        heads = {n: plan_stack(project, n) if n in project.stacks() else None for n in names}
        diffs = [diff_plans(base[n], heads[n]) for n in names if base[n] or heads[n]]
    else:
        if not args or len(args) != 2:
            raise UkdacError("give BASE.json HEAD.json, or stack names with --base-ref REF")
        diffs = [diff_plans(_read_plan(Path(args[0])), _read_plan(Path(args[1])))]
    if as_markdown:
        text = markdown(diffs)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    else:
        console = Console(file=output.open("w"), width=120) if output else out
        console.print(render_diff(diffs))


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of a stack file."""
    sys.stdout.write(json.dumps(stack_file_schema(), indent=2) + "\n")


@config_app.command("docs")
def config_docs(
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Generate the configuration reference (docs/configuration.md)."""
    text = render_config_docs()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@config_app.command("check")
@reports_errors
def config_check(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
) -> None:
    """Validate stack files: every problem at once, with the key path and what is allowed."""
    project = _project()
    failures: list[ConfigError] = []
    for name in _stacks(project, stacks, every):
        stack_file = load_stack_file(project, name)
        try:
            validate_stack_file(stack_file)
            out.print(f"[green]ok[/green] {stack_file.display}")
        except ConfigError as problem:
            failures.append(problem)
    if failures:
        for failure in failures:
            err.print(failure.render(), soft_wrap=True)
        raise typer.Exit(2)


@config_app.command("show")
@reports_errors
def config_show(stack: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """Print the effective configuration of a stack and where each value comes from."""
    project = _project()
    stack_file = load_stack_file(project, stack)
    raw = stack_file.namespace()
    deployment = validate_stack_file(stack_file)
    environment = deployment.config.environment
    merged = deep_merge(defaults_for(environment), raw)
    from_file = set(leaf_paths(raw))
    table = Table(title=f"{stack} ({environment})", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    table.add_column("from")
    for path in leaf_paths(merged):
        value: Any = merged
        for part in path:
            value = value[part]
        origin = "stack file" if path in from_file else f"{environment} profile"
        table.add_row(format_path(path), json.dumps(value), origin)
    out.print(table)


def policy_names() -> list[str]:
    return [policy.name for policy in POLICIES]


def _deployment(stack: str) -> Deployment:
    return validate_stack_file(load_stack_file(_project(), stack))


@app.command("phalanx-values")
@reports_errors
def phalanx_values(
    stack: Annotated[str, typer.Argument(help="Stack name.")],
    output_dir: Annotated[
        Path | None, typer.Option(help="Write the files into this phalanx checkout.")
    ] = None,
) -> None:
    """The phalanx values ukdac derives: the environment file and per-application values."""
    d = _deployment(stack)
    env = d.config.phalanx.environment
    files = {f"environments/values-{env}.yaml": environment_values(d)}
    for app_name, values in application_values(d).items():
        files[f"applications/{app_name}/values-{env}.yaml"] = values
    for path, values in files.items():
        text = f"# Written by ukdac from stacks/Pulumi.{stack}.yaml\n" + yaml.safe_dump(
            values, sort_keys=False
        )
        if output_dir:
            target = output_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            out.print(f"wrote {target}")
        else:
            sys.stdout.write(f"--- # {path}\n{text}")


@app.command()
@reports_errors
def secrets(
    stack: Annotated[str, typer.Argument(help="Stack name.")],
    show: Annotated[
        bool, typer.Option(help="Show the values (reads the deployed stack's outputs).")
    ] = False,
) -> None:
    """Which Vault paths and keys phalanx expects, and which stack output holds each value."""
    d = _deployment(stack)
    values: dict[str, str] = {}
    if show:
        values = read_stack_outputs(stack, [output for *_, output in vault_secrets(d)])
    table = Table(title=f"Vault secrets for {stack} ({d.vault_url})", title_justify="left")
    table.add_column("path")
    table.add_column("key")
    table.add_column("value")
    table.add_column("from stack output")
    for path, key, output in vault_secrets(d):
        table.add_row(path, key, values.get(output, "********"), output)
    out.print(table)
    if not show:
        out.print("Values are masked; --show reads them from the deployed stack.")


@app.command("policy-config")
@reports_errors
def policy_config(stack: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """The policy pack's config for a stack (`pulumi preview --policy-pack-config FILE`)."""
    d = _deployment(stack)
    config = {
        "environment": d.config.environment,
        "adminCidrs": [str(c) for c in d.config.cloud.admin_cidrs],
    }
    sys.stdout.write(json.dumps({name: config for name in policy_names()}, indent=2) + "\n")


@app.command("policy-check")
@reports_errors
def policy_check(
    stacks: Annotated[list[str] | None, typer.Argument(help="Stack names.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Check every stack in stacks/.")] = False,
) -> None:
    """Run the policy pack's rules over the offline plans (exit 1 on any violation)."""
    project = _project()
    failed = False
    for name in _stacks(project, stacks, every):
        d = _deployment(name)
        view = view_from_plan(
            plan_stack(project, name), tuple(str(c) for c in d.config.cloud.admin_cidrs)
        )
        violations = run_policies(view)
        for violation in violations:
            err.print(f"[red]{name}[/red] {violation.policy}: {violation.message}", soft_wrap=True)
        if not violations:
            out.print(f"[green]ok[/green] {name}: {len(policy_names())} policies")
        failed = failed or bool(violations)
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
