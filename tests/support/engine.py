"""The real Pulumi engine, driven as an operator drives it: the CLI in a project folder.

Used by the engine tier (tests/engine). `Engine` runs `pulumi` with a state backend, a
passphrase and clouds.yaml given in its environment, never from the user's own; `Preview`
reads `pulumi preview --json`, and `facets` puts a real resource and an offline one in the
same terms so the two can be compared field by field.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.plan.diff import StackDiff
from infra.plan.engine import plan_stack
from infra.plan.model import Plan, PlannedResource
from infra.stack.deployment import Deployment
from infra.stack.files import load_project, load_stack_file
from infra.stack.validation import validate_stack_file
from tests.support.urns import alias_urns

ROOT = Path(__file__).resolve().parents[2]
PULUMI_VERSION = "v3.274.1"  # tools/engine.sh
DEFAULT_BIN = Path.home() / ".cache" / "ukdac" / "engine" / f"pulumi-{PULUMI_VERSION}" / "bin"


def engine_only(urn: str) -> bool:
    """What the offline plan does not record: the stack itself and the default providers
    the engine makes (the program's own providers it does record)."""
    _, _, type_, name = urn.split("::", 3)
    return type_ == "pulumi:pulumi:Stack" or (
        type_.startswith("pulumi:providers:") and name.startswith("default")
    )


# What a preview's step operations mean in `ukdac diff`'s words.
OPERATIONS = {
    "same": "keep",
    "create": "add",
    "update": "update",
    "delete": "remove",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
}


def project_file(name: str = "ukdac", main: Path = ROOT / "infra" / "program") -> str:
    """A Pulumi.yaml running `main` (the real program) with the repository's virtualenv."""
    return (
        f"name: {name}\n"
        "runtime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {ROOT / '.venv'}\n"
        f"main: {main}/\n"
        "stackConfigDir: stacks\n"
    )


class EngineFailed(AssertionError):
    """A pulumi command failed where the test expected it to succeed (or the reverse)."""


def diagnostics(output: str) -> str:
    """The part of the engine's text output that says what went wrong."""
    start = output.find("Diagnostics:")
    if start < 0:
        return output[-4000:]
    end = min(
        (
            i
            for i in (output.find("\nOutputs:", start), output.find("\nResources:", start))
            if i > 0
        ),
        default=len(output),
    )
    return output[start:end][:8000]


@dataclass
class Engine:
    """The pulumi CLI in `project` with exactly the environment `env` adds."""

    bin: Path
    project: Path
    env: Mapping[str, str]
    log: list[str] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AWS_"))}
        base["PATH"] = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        base.update(self.env)
        return base

    def run(
        self, *args: str, check: bool = True, timeout: float = 900, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / "pulumi"), *args, "--non-interactive"]
        result = subprocess.run(
            command,
            cwd=cwd or self.project,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.log.append(f"$ pulumi {' '.join(args)} -> {result.returncode}")
        if check and result.returncode != 0:
            raise EngineFailed(
                f"pulumi {' '.join(args)} exited {result.returncode}:\n"
                f"{diagnostics(result.stdout)}\n{result.stderr[-4000:]}"
            )
        return result

    def init(self, stack: str) -> None:
        self.run("stack", "init", stack, "--secrets-provider", "passphrase")

    def preview(self, stack: str, *flags: str, check: bool = True) -> Preview:
        result = self.run("preview", "--stack", stack, "--json", *flags, check=check)
        return Preview.parse(result)

    def export(self, stack: str) -> list[dict[str, Any]]:
        result = self.run("stack", "export", "--stack", stack)
        resources: list[dict[str, Any]] = json.loads(result.stdout)["deployment"]["resources"]
        return resources


@dataclass(frozen=True)
class Preview:
    """What `pulumi preview --json` said: each resource's operation and new state."""

    returncode: int
    operations: Mapping[str, str]  # URN -> "add" / "update" / "replace" / "remove" / "keep"
    states: Mapping[str, Mapping[str, Any]]  # URN -> newState (old state for a delete)
    diagnostics: Sequence[str]
    text: str
    steps: Sequence[tuple[str, str]] = ()  # (URN, the engine's own op), in the engine's order

    @classmethod
    def parse(cls, result: subprocess.CompletedProcess[str]) -> Preview:
        try:
            document = json.loads(result.stdout)
        except json.JSONDecodeError:
            document = {}
        operations: dict[str, str] = {}
        states: dict[str, Mapping[str, Any]] = {}
        for step in document.get("steps", []):
            urn = step["urn"]
            if engine_only(urn):
                continue
            operation = OPERATIONS.get(step["op"], step["op"])
            # A replacement is several steps of one URN: "replace" wins over its parts.
            if operations.get(urn) != "replace":
                operations[urn] = operation
            state = step.get("newState") or step.get("oldState")
            if state:
                states[urn] = state
        diagnostics = [d.get("message", "") for d in document.get("diagnostics", [])]
        steps = [(step["urn"], step["op"]) for step in document.get("steps", [])]
        return cls(
            result.returncode,
            operations,
            states,
            diagnostics,
            result.stdout + result.stderr,
            steps,
        )

    def changes(self) -> dict[str, str]:
        """Every URN whose operation is not "keep"."""
        return {urn: op for urn, op in self.operations.items() if op != "keep"}


def _provider(reference: str | None) -> str | None:
    return reference.rsplit("::", 1)[0] if reference else None


def facets(state: Mapping[str, Any]) -> dict[str, Any]:
    """A real resource state (preview step or stack export) in comparable terms."""
    inputs = state.get("inputs") or {}
    return {
        "type": state["type"],
        "parent": state.get("parent"),
        "provider": _provider(state.get("provider")) if state.get("custom") else None,
        "physicalName": inputs.get("name") if state.get("custom") else None,
        "protect": bool(state.get("protect")),
        "ignoreChanges": sorted(state.get("ignoreChanges") or []),
        "deleteBeforeReplace": bool(state.get("deleteBeforeReplace")),
        "replaceOnChanges": sorted(state.get("replaceOnChanges") or []),
        "aliases": sorted(state.get("aliases") or []),
    }


def planned_facets(resource: PlannedResource) -> dict[str, Any]:
    """The same terms for a resource of the offline plan."""
    options = resource.options
    aliases = sorted(alias_urns(resource))
    return {
        "type": resource.type,
        "parent": resource.parent,
        "provider": resource.provider if resource.custom else None,
        "physicalName": resource.inputs.get("name") if resource.custom else None,
        "protect": bool(options.get("protect")),
        "ignoreChanges": sorted(options.get("ignoreChanges", [])),
        "deleteBeforeReplace": bool(options.get("deleteBeforeReplace")),
        "replaceOnChanges": sorted(options.get("replaceOnChanges", [])),
        "aliases": aliases,
    }


def mismatches(
    real: Mapping[str, Mapping[str, Any]], plan: Plan, fields: Sequence[str]
) -> list[str]:
    """Where the engine's resources and the offline plan's differ, one line each."""
    problems: list[str] = []
    offline = {r.urn: r for r in plan.resources}
    real_urns = {u for u in real if not engine_only(u)}
    for urn in sorted(real_urns - set(offline)):
        problems.append(f"only in the engine: {urn}")
    for urn in sorted(set(offline) - real_urns):
        problems.append(f"only in the offline plan: {urn}")
    for urn in sorted(real_urns & set(offline)):
        engine_side, plan_side = facets(real[urn]), planned_facets(offline[urn])
        for name in fields:
            if engine_side[name] != plan_side[name]:
                problems.append(
                    f"{urn}: {name} is {engine_side[name]!r} in the engine, "
                    f"{plan_side[name]!r} offline"
                )
    return problems


def offline_operations(diff: StackDiff) -> dict[str, str]:
    """`ukdac diff`'s operation for every resource it says changes (keeps left out)."""
    return {r.urn: r.kind for r in diff.resources if r.kind != "keep"}


def write_stack(root: Path, stack: str, document: dict[str, Any]) -> Path:
    """Write a stack file, keeping the encryption salt `pulumi stack init` put in it."""
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    if path.exists():
        salt = (yaml.safe_load(path.read_text()) or {}).get("encryptionsalt")
        if salt and "encryptionsalt" not in document:
            document = {**document, "encryptionsalt": salt}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def policy_flags(engine: Engine, stack: str) -> list[str]:
    """`--policy-pack` with the config `ukdac policy-config` writes for the stack."""
    config = engine.project / f"policy-{stack}.json"
    config.write_text(ukdac(engine, "policy-config", stack).stdout)
    return ["--policy-pack", str(ROOT / "policies"), "--policy-pack-config", str(config)]


def ukdac(engine: Engine, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The ukdac CLI in the engine's project, with its environment (pulumi on PATH)."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ukdac"), *args],
        cwd=engine.project,
        env=engine.environment(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ukdac {' '.join(args)}: {result.stdout}\n{result.stderr}")
    return result


def offline(engine: Engine, stack: str) -> Plan:
    return plan_stack(load_project(engine.project), stack)


def deployment_of(engine: Engine, stack: str) -> Deployment:
    return validate_stack_file(load_stack_file(load_project(engine.project), stack))


def assert_policies_ran(text: str) -> None:
    """Every policy evaluated: none skipped for an unknown value, and the providers came from
    the plugin cache (no "using ... from $PATH")."""
    assert "can't run policy" not in text, text[-3000:]
    assert "from $PATH" not in text, text[-3000:]


def inventory(conn: Any) -> dict[str, set[str]]:
    """Every resource of the project, by kind: what `destroy` must leave as it found."""
    project = conn.current_project_id
    user = conn.current_user_id
    ec2 = conn.identity.get(f"/users/{user}/credentials/OS-EC2").json()["credentials"]
    return {
        "servers": {s.id for s in conn.compute.servers()},
        "server groups": {g.id for g in conn.compute.server_groups()},
        "keypairs": {k.name for k in conn.compute.keypairs()},
        "volumes": {v.id for v in conn.block_storage.volumes()},
        "networks": {n.id for n in conn.network.networks(project_id=project)},
        "subnets": {s.id for s in conn.network.subnets(project_id=project)},
        "routers": {r.id for r in conn.network.routers(project_id=project)},
        "ports": {p.id for p in conn.network.ports(project_id=project)},
        "security groups": {g.id for g in conn.network.security_groups(project_id=project)},
        "floating IPs": {ip.id for ip in conn.network.ips(project_id=project)},
        "containers": {c.name for c in conn.object_store.containers()},
        "application credentials": {c.id for c in conn.identity.application_credentials(user=user)},
        "EC2 credentials": {c["access"] for c in ec2},
    }


# Compared on a preview (what the engine reports before anything exists) ...
PREVIEW_FIELDS = ("type", "parent", "provider", "physicalName", "protect", "ignoreChanges")
# ... and on the deployed state, which also keeps replaceOnChanges and aliases. The engine
# keeps no deleteBeforeReplace in its state: that one shows in the order of a replacement's
# steps (tests/engine/test_prod.py).
STATE_FIELDS = (*PREVIEW_FIELDS, "replaceOnChanges", "aliases")


def first_up(engine: Engine, stack: str) -> Plan:
    """A new stack's first preview and `up`, each held to the offline plan, then a preview
    and a refresh that must find nothing to change. Returns the offline plan."""
    engine.init(stack)
    plan = offline(engine, stack)
    preview = engine.preview(stack, *policy_flags(engine, stack))
    assert preview.returncode == 0, preview.text[-3000:]
    assert_policies_ran(preview.text)
    assert mismatches(preview.states, plan, PREVIEW_FIELDS) == []
    assert set(preview.operations.values()) == {"add"}
    engine.run("up", "--stack", stack, "--yes", "--skip-preview", *policy_flags(engine, stack))
    assert mismatches({r["urn"]: r for r in engine.export(stack)}, plan, STATE_FIELDS) == []
    engine.run("preview", "--stack", stack, "--expect-no-changes")
    engine.run("refresh", "--stack", stack, "--yes", "--expect-no-changes")
    return plan


def remove_containers(conn: Any, names: set[str]) -> None:
    """Empty and delete the named containers of the project (those retained on delete)."""
    for container in list(conn.object_store.containers()):
        if container.name in names:
            for item in conn.object_store.objects(container.name):
                conn.object_store.delete_object(item, container=container.name)
            conn.object_store.delete_container(container.name)


def left_behind(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """What a stack's life added to the project, by kind (only kinds with something)."""
    return {kind: after[kind] - before[kind] for kind in after if after[kind] - before[kind]}
