"""The whole program under the real engine: OpenStack on the test cloud, every release and
object of the platform layer on the local control plane.

Each shape is one test, its steps in order (each builds on the deployed state of the one
before); an assertion names the step it checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.plan.diff import diff_plans
from infra.plan.model import Plan
from infra.stack.model import MirrorConfig
from infra.versions import pinned
from tests.kube.objects import helm_revisions, stored_differences
from tests.kube.shapes import (
    MakeEngine,
    deploy,
    destroy_and_check,
    mirror_chart_version,
    releases,
    shape,
    up_and_check,
    with_pin,
)
from tests.support.engine import (
    inventory,
    left_behind,
    offline,
    offline_operations,
    remove_containers,
    write_stack,
)


def test_a_dev_stack_up_upgraded_and_destroyed(
    cluster: Path, make_engine: MakeEngine, mirror: MirrorConfig, demo: Any, tmp_path: Path
) -> None:
    stack = "kube-dev"
    before = inventory(demo)
    engine, plan = deploy(make_engine, stack, shape("kubedev", "dev", "10.41.0.0/24", mirror))

    # A values change: Vault's ingress admits another range; its release is upgraded in
    # place (a new Helm revision), nothing is replaced.
    stack_file = engine.project / "stacks" / f"Pulumi.{stack}.yaml"
    current = yaml.safe_load(stack_file.read_text())  # its secrets and salt stay
    current["config"]["ukdac:vault"]["allowedCidrs"] = ["192.0.2.0/24"]
    write_stack(engine.project, stack, current)
    head = offline(engine, stack)
    operations = offline_operations(diff_plans(plan, head))
    vault = next(r.urn for r in releases(head) if r.inputs["name"] == "vault")
    assert operations.get(vault) == "update", operations
    assert "replace" not in operations.values(), operations
    plan = up_and_check(engine, stack)
    assert helm_revisions()[_named(plan, "vault")] == (2, "deployed")

    # A chart version bump, as a pull request changing its pin makes it: cert-manager's
    # release is upgraded in place to the new chart (the engine's own preview says update).
    old = pinned("chart/cert-manager")
    major, minor, patch = old.removeprefix("v").split(".")
    new = f"v{major}.{minor}.{int(patch) + 1}"
    mirror_chart_version(mirror, "cert-manager", new)
    bumped = with_pin(engine, tmp_path / "bumped", "chart/cert-manager", new)
    release = next(r.urn for r in releases(plan) if r.inputs["name"] == "cert-manager")
    previewed = bumped.preview(stack).operations
    assert previewed.get(release) == "update", previewed
    assert "replace" not in previewed.values(), previewed
    up_and_check(bumped, stack)
    assert helm_revisions()[_named(plan, "cert-manager")] == (2, "deployed")
    (stored,) = [r for r in bumped.export(stack) if r["urn"] == release]
    assert stored["outputs"]["version"] == new

    destroy_and_check(bumped, stack, plan)
    assert left_behind(before, inventory(demo)) == {}


def _named(plan: Plan, name: str) -> str:
    """namespace/name of the planned release `name`."""
    (release,) = [r for r in releases(plan) if r.inputs["name"] == name]
    return f"{release.inputs['namespace']}/{name}"


def test_a_prod_stack_protects_its_stateful_objects(
    cluster: Path, make_engine: MakeEngine, mirror: MirrorConfig, demo: Any
) -> None:
    stack = "kube-prod"
    retained = {"kube-prod-backups", "kube-prod-tap-results"}
    remove_containers(demo, retained)  # what an interrupted run of this test retained
    before = inventory(demo)
    document = shape("kubeprod", "prod", "10.42.0.0/24", mirror)
    document["config"]["ukdac:cluster"]["endpoint"] = "floating-ip"
    document["config"]["ukdac:buckets"] = {"containers": [{"name": "tap-results"}]}
    engine, plan = deploy(make_engine, stack, document)

    # Protected objects of the platform layer refuse deletion: destroy stops, naming them,
    # and the API server still has them.
    protected = [
        r for r in plan.resources if r.type.startswith("kubernetes:") and r.options.get("protect")
    ]
    assert protected, "prod: no protected Kubernetes object planned"
    refused = engine.run("destroy", "--stack", stack, "--yes", check=False, timeout=1800)
    assert refused.returncode != 0
    assert "protected" in refused.stdout + refused.stderr
    assert stored_differences(plan, engine.export(stack)) == {}, "prod: a protected object went"

    # Teardown as the runbook has it: unprotect deliberately, then destroy.
    engine.run("state", "unprotect", "--all", "--yes", "--stack", stack)
    destroy_and_check(engine, stack, plan)
    assert left_behind(before, inventory(demo)) == {"containers": retained}
    remove_containers(demo, retained)  # retained on delete: an operator removes them


def test_a_dev_stack_with_cilium_up_and_down(
    cluster: Path, make_engine: MakeEngine, mirror: MirrorConfig, demo: Any
) -> None:
    stack = "kube-cilium"
    before = inventory(demo)
    document = shape("kubecilium", "dev", "10.43.0.0/24", mirror)
    document["config"]["ukdac:cluster"]["cni"] = "cilium"
    engine, plan = deploy(make_engine, stack, document)
    destroy_and_check(engine, stack, plan)
    assert left_behind(before, inventory(demo)) == {}
