"""The one adapter to a real Pulumi deployment: the `pulumi` CLI, when it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from infra.errors import UkdacError


class PulumiCliMissing(UkdacError):
    """The command needs the Pulumi CLI and a logged-in state backend."""


def require_cli() -> str:
    """The path of the pulumi CLI, or a clear error before anything else is touched."""
    return _pulumi()


def _pulumi() -> str:
    path = shutil.which("pulumi")
    if path is None:
        raise PulumiCliMissing(
            "this needs the pulumi CLI (https://www.pulumi.com/docs/install/) and "
            "`pulumi login` to the state backend; it is not installed here"
        )
    return path


def stack_outputs(stack: str) -> dict[str, Any]:
    """Every output of a deployed stack, secrets shown (run in the project's folder)."""
    result = subprocess.run(
        [_pulumi(), "stack", "output", "--stack", stack, "--json", "--show-secrets"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UkdacError(f"pulumi stack output failed: {result.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(result.stdout)
    return outputs


def read_stack_outputs(stack: str, names: list[str]) -> dict[str, str]:
    """Named outputs of a deployed stack, secrets shown."""
    outputs = stack_outputs(stack)
    return {name: str(outputs.get(name, "")) for name in names}


def _stack(project_root: str, stack: str, create: bool) -> Any:
    _pulumi()
    from pulumi import automation

    if create:
        return automation.create_or_select_stack(stack_name=stack, work_dir=project_root)
    return automation.select_stack(stack_name=stack, work_dir=project_root)


class PulumiFailed(UkdacError):
    """A pulumi operation failed; the engine's own output (streamed above) says why."""


def up(project_root: str, stack: str, on_output: Callable[[str], None]) -> None:
    """`pulumi up` of the stack through the Automation API, streaming its output."""
    from pulumi.automation.errors import CommandError

    try:
        _stack(project_root, stack, create=True).up(on_output=on_output)
    except CommandError:
        raise PulumiFailed(
            f"pulumi up of {stack} failed (the engine's diagnostics are above); fix the "
            f"cause and run `pulumi up -s {stack}` again, or `ukdac sandbox destroy` it"
        ) from None


def destroy(project_root: str, stack: str, on_output: Callable[[str], None]) -> None:
    """`pulumi destroy`, then remove the stack from the backend."""
    from pulumi.automation.errors import CommandError

    try:
        selected = _stack(project_root, stack, create=False)
        selected.destroy(on_output=on_output)
        selected.workspace.remove_stack(stack)
    except CommandError:
        raise PulumiFailed(
            f"pulumi destroy of {stack} failed (the engine's diagnostics are above); the "
            "stack and its file are kept: fix the cause and run it again"
        ) from None
