"""The kube tier's stacks: shapes sized for the test cloud whose platform layer targets the
local control plane, brought up and torn down with the checks every shape shares."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from infra.plan.model import Plan
from infra.stack.model import MirrorConfig
from infra.versions import pinned
from tests.cloud.conftest import sandbox_stack
from tests.kube import control_plane
from tests.kube.objects import dump, helm_releases, namespaces, stored_differences
from tests.support.engine import (
    ROOT,
    Engine,
    deployment_of,
    offline,
    policy_flags,
    project_file,
)

# Tests take `cluster` before `make_engine`: the control plane is then stopped after the
# engine's teardown has destroyed what a failed test left (its platform layer included).
MakeEngine = Callable[[dict[str, dict[str, Any]]], Engine]
RELEASE = "kubernetes:helm.sh/v3:Release"


def shape(name: str, environment: str, node_cidr: str, mirror: MirrorConfig) -> dict[str, Any]:
    """A stack of `environment` sized for the test cloud, charts and files from the mirror."""
    document = sandbox_stack(name, workers=1)
    config = document["config"]
    config["ukdac:environment"] = environment
    config["ukdac:fqdn"] = f"{name}.example.org"
    del config["ukdac:sandbox"]
    config["ukdac:network"] = {"nodeCidr": node_cidr}
    config["ukdac:phalanx"] = {"environment": name}
    config["ukdac:mirror"] = {"charts": mirror.charts, "files": mirror.files}
    return document


def start(engine: Engine, stack: str) -> None:
    """A new stack whose platform layer targets the local control plane (its kubeconfig and
    a Vault AppRole as secrets, so phalanx is bootstrapped too); its nodes added."""
    engine.init(stack)
    secrets = {
        "ukdac:cluster.kubeconfig": control_plane.inline_kubeconfig(),
        "ukdac:vault.readCredentials.roleId": "local-role-id",
        "ukdac:vault.readCredentials.secretId": "local-secret-id",
    }
    for key, value in secrets.items():
        engine.run("config", "set", "--stack", stack, "--secret", "--path", key, value)
    control_plane.add_nodes(control_plane.nodes_of(deployment_of(engine, stack)))


def deploy(make_engine: MakeEngine, stack: str, document: dict[str, Any]) -> tuple[Engine, Plan]:
    """A new stack of `document`, started and brought up (checked as `up_and_check` does)."""
    engine = make_engine({stack: document})
    start(engine, stack)
    return engine, up_and_check(engine, stack)


def up_and_check(engine: Engine, stack: str, *flags: str) -> Plan:
    """`up` (with `flags`), then: every release deployed, every object stored as planned,
    no changes."""
    plan = offline(engine, stack)
    policies = policy_flags(engine, stack)
    engine.run("up", "--stack", stack, "--yes", "--skip-preview", *policies, *flags, timeout=1800)
    planned = {f"{r.inputs['namespace']}/{r.inputs['name']}" for r in releases(plan)}
    assert planned and helm_releases() == dict.fromkeys(planned, "deployed"), dump(helm_releases())
    differences = stored_differences(plan, engine.export(stack))
    assert differences == {}, f"up: stored objects differ from the plan\n{dump(differences)}"
    engine.run("preview", "--stack", stack, "--expect-no-changes")
    engine.run("refresh", "--stack", stack, "--yes", "--expect-no-changes")
    return plan


def releases(plan: Plan) -> list[Any]:
    return [r for r in plan.resources if r.type == RELEASE]


def destroy_and_check(engine: Engine, stack: str, plan: Plan) -> None:
    """`destroy`: no namespace is left terminating, every Namespace the program declares is
    gone, and the only releases left are those handed over to Argo CD (retained by design).

    Helm leaves the namespaces it made for a release (`create_namespace`) after uninstalling
    it: they stay, empty and Active (checked: no release left in them)."""
    declared = {
        str(r.inputs["metadata"]["name"])
        for r in plan.resources
        if r.type == "kubernetes:core/v1:Namespace" and not r.options.get("retainOnDelete")
    }
    handed_over = {
        f"{r.inputs['namespace']}/{r.inputs['name']}"
        for r in releases(plan)
        if r.options.get("retainOnDelete")
    }
    engine.run("destroy", "--stack", stack, "--yes", "--remove", timeout=1800)
    phases = namespaces()
    assert "Terminating" not in phases.values(), f"destroy: stuck namespaces {phases}"
    # (A namespace retained on delete, prod's Vault or one handed over to Argo CD, stays.)
    assert declared and not declared & set(phases), f"destroy: left {declared & set(phases)}"
    assert set(helm_releases()) == handed_over, f"destroy: releases left {helm_releases()}"
    for release in handed_over:  # what Argo CD would own from then on: removed by hand here
        namespace, name = release.split("/")
        control_plane.kubectl_json(
            "DELETE",
            f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm%2Cname%3D{name}",
        )


def with_pin(engine: Engine, where: Path, pin: str, version: str) -> Engine:
    """The engine running the program as a pull request changing one pin in
    infra/versions.py has it: `infra`, `components` and `policies` copied to `where`, the
    pin edited there, and that copy first on PYTHONPATH (before the installed one) for the
    program and the policy pack alike."""
    for package in ("infra", "components", "policies"):
        shutil.copytree(ROOT / package, where / package, ignore=shutil.ignore_patterns("*.pyc"))
    versions = where / "infra" / "versions.py"
    text = versions.read_text()
    current = f'"{pin}": Pin("{pinned(pin)}"'
    assert text.count(current) == 1, f"{pin} is not pinned as {current} in infra/versions.py"
    versions.write_text(text.replace(current, f'"{pin}": Pin("{version}"'))
    (engine.project / "Pulumi.yaml").write_text(project_file(main=where / "infra" / "program"))
    return dataclasses.replace(engine, env={**engine.env, "PYTHONPATH": str(where)})


def mirror_chart_version(mirror: MirrorConfig, name: str, version: str) -> None:
    """Another version of a mirrored chart: the pinned one's files under its new version."""
    assert mirror.charts is not None
    source = Path(mirror.charts) / f"{name}-{pinned(f'chart/{name}')}"
    target = Path(mirror.charts) / f"{name}-{version}"
    shutil.copytree(source, target, dirs_exist_ok=True)
    chart_file = target / "Chart.yaml"
    chart = yaml.safe_load(chart_file.read_text())
    chart["version"] = version
    chart_file.write_text(yaml.safe_dump(chart))
