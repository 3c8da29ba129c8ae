"""`ukdac sandbox ...`: per-developer stacks made, listed, destroyed and reaped."""

from __future__ import annotations

import getpass
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from infra.cli.common import (
    current_project,
    deployment,
    engine_output,
    err,
    labelled,
    out,
    reports_errors,
    say,
)
from infra.cli.ops import preflight_passes
from infra.errors import UkdacError
from infra.ops.pulumi_cli import PulumiCliMissing, PulumiFailed, destroy, require_cli, up
from infra.ops.sandbox import SandboxError, check_name, create, list_sandboxes, stack_name
from infra.stack.profiles import FLAVORS, Flavor

# openstacksdk and the mock runtime are imported by the commands that use them (start-up).

app = typer.Typer(help="Per-developer sandboxes: create, list, destroy, reap.")


def _default_owner() -> str:
    result = subprocess.run(
        ["git", "config", "user.email"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or getpass.getuser()


def _default_key() -> Path:
    for name in ("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"):
        path = Path.home() / ".ssh" / name
        if path.is_file():
            return path
    raise SandboxError("no SSH public key in ~/.ssh: pass --public-key FILE")


@reports_errors
def sandbox_create(
    name: Annotated[str, typer.Argument(help="Sandbox name (DNS label, 2-20 characters).")],
    owner: Annotated[str | None, typer.Option(help="Owner (default: git user.email).")] = None,
    days: Annotated[int, typer.Option(help="Days until it may be reaped.", min=1, max=90)] = 14,
    public_key: Annotated[Path | None, typer.Option(help="SSH public key file.")] = None,
    deploy: Annotated[bool, typer.Option("--up", help="Run preflight and pulumi up.")] = False,
    layers: Annotated[
        str, typer.Option(help="all, or cloud: the OpenStack layer alone (no cluster services).")
    ] = "all",
) -> None:
    """Write stacks/Pulumi.ukdac-sbx-NAME.yaml from the template and validate it."""
    check_name(name)
    if deploy:
        require_cli()
    project = current_project()
    key = (public_key or _default_key()).read_text(encoding="utf-8").strip()
    today = date.today()
    sandbox = create(
        project, name, owner or _default_owner(), today + timedelta(days=days), key, today, layers
    )
    try:
        deployment(sandbox.stack)
    except UkdacError:
        sandbox.path.unlink()
        raise
    out.print(
        f"wrote {project.display(sandbox.path)}: nodes in {sandbox.node_cidr}, "
        f"owner {sandbox.owner}, expires {sandbox.expires}"
    )
    if deploy:
        if not preflight_passes(sandbox.stack):
            raise typer.Exit(1)
        up(str(project.root), sandbox.stack, on_output=engine_output)


@reports_errors
def sandbox_list(
    cloud_sizes: Annotated[
        bool, typer.Option("--flavors", help="Ask the cloud for flavor sizes (vCPU, RAM).")
    ] = False,
) -> None:
    """Every sandbox with its owner, expiry and footprint (vCPU and RAM from the site's
    flavor table, or from the cloud with --flavors)."""
    from infra.ops.cloud import connect
    from infra.plan.engine import plan_stack
    from infra.plan.footprint import footprint

    project = current_project()
    today = date.today()
    sizes = dict(FLAVORS)
    skipped: list[str] = []
    sandboxes = list_sandboxes(project, skipped)
    for warning in skipped:
        err.print(labelled("warning:", "yellow", warning), soft_wrap=True)
    if cloud_sizes and sandboxes:
        d = deployment(sandboxes[0].stack)
        cloud = connect(d.config.cloud.name, d.config.cloud.region)
        flavors = cloud.call(lambda: list(cloud.connection.compute.flavors(details=True)))
        sizes = {f.name: Flavor(int(f.vcpus), int(f.ram)) for f in flavors}
    table = Table(title="sandboxes", title_justify="left")
    for column in ("name", "owner", "expires", "servers", "vCPU", "RAM (GB)", "volumes", "FIPs"):
        table.add_column(column)
    for sandbox in sandboxes:
        need = footprint(plan_stack(project, sandbox.stack))
        size = need.size(sizes)
        expires = Text(str(sandbox.expires))
        if sandbox.expired(today):
            expires.append(" (expired)", "red")
        table.add_row(
            sandbox.name,
            sandbox.owner,
            expires,
            ", ".join(f"{n}x {f}" for f, n in sorted(need.flavors.items())),
            "?" if size is None else str(size[0]),
            "?" if size is None else f"{size[1] / 1024:g}",
            str(need.volumes),
            str(need.floating_ips),
        )
    out.print(table)
    if not cloud_sizes:
        out.print("vCPU and RAM from the site's flavor table; --flavors asks the cloud")


def _destroy(name: str) -> None:
    from infra.ops.cleanup import controller_names, delete_leftovers, find_leftovers
    from infra.ops.cloud import connect

    project = current_project()
    stack = stack_name(check_name(name))
    path = project.stack_path(stack)
    if not path.exists():
        raise SandboxError(f"no sandbox {name}: {project.display(path)} does not exist")
    d = deployment(stack)
    if d.config.environment != "sandbox":
        raise SandboxError(f"{stack} is not a sandbox ({d.config.environment})")
    require_cli()  # before touching the cloud: a half-done destroy helps nobody
    say(f"{stack}: looking for what Kubernetes made in the cloud ({d.config.cloud.name})")
    cloud = connect(d.config.cloud.name, d.config.cloud.region)
    leftovers = find_leftovers(cloud, d.names.cluster, d.names.network, controller_names(cloud, d))
    say(f"{stack}: {len(leftovers)} leftover(s) to delete before pulumi destroy")
    for line in delete_leftovers(cloud, leftovers):
        say(line)
    say(f"{stack}: pulumi destroy, then the stack is removed from the backend")
    destroy(str(project.root), stack, on_output=engine_output)
    # `pulumi stack rm` removes the stack's config file itself; a file left behind (an older
    # CLI, --preserve-config) goes too.
    path.unlink(missing_ok=True)
    say(f"removed {stack} and {project.display(path)}")


@reports_errors
def sandbox_destroy(name: Annotated[str, typer.Argument(help="Sandbox name.")]) -> None:
    """Clean up, `pulumi destroy`, remove the stack and its file."""
    _destroy(name)


@reports_errors
def sandbox_reap(
    yes: Annotated[bool, typer.Option("--yes", help="Destroy the expired sandboxes.")] = False,
) -> None:
    """List the expired sandboxes; --yes destroys them."""
    from infra.ops.cloud import CloudError

    today = date.today()
    skipped: list[str] = []
    expired = [s for s in list_sandboxes(current_project(), skipped) if s.expired(today)]
    for warning in skipped:
        err.print(labelled("warning:", "yellow", warning), soft_wrap=True)
    if not expired:
        out.print("no expired sandbox")
        return
    for sandbox in expired:
        out.print(f"{sandbox.name}: owner {sandbox.owner}, expired {sandbox.expires}")
    if yes:
        for sandbox in expired:
            try:
                _destroy(sandbox.name)
            except (CloudError, PulumiCliMissing, PulumiFailed) as error:
                err.print(labelled(f"{sandbox.name}:", "red", str(error)), soft_wrap=True)
                raise typer.Exit(1) from None
    else:
        out.print("dry run: --yes destroys them")


app.command("create")(sandbox_create)
app.command("list")(sandbox_list)
app.command("destroy")(sandbox_destroy)
app.command("reap")(sandbox_reap)
