"""The whole program under the real engine: OpenStack on the test cloud, every release and
object of the platform layer on the local control plane."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.stack.model import MirrorConfig
from tests.cloud.conftest import sandbox_stack
from tests.kube import control_plane
from tests.support.engine import Engine, deployment_of, offline, policy_flags

MakeEngine = Callable[[dict[str, dict[str, Any]]], Engine]


def dev_shape(mirror: MirrorConfig) -> dict[str, Any]:
    document = sandbox_stack("kubedev", workers=1)
    config = document["config"]
    config["ukdac:environment"] = "dev"
    config["ukdac:fqdn"] = "kubedev.example.org"
    del config["ukdac:sandbox"]
    config["ukdac:network"] = {"nodeCidr": "10.41.0.0/24"}
    config["ukdac:phalanx"] = {"environment": "kubedev"}
    config["ukdac:mirror"] = {"charts": mirror.charts, "files": mirror.files}
    return document


def start(engine: Engine, stack: str, cluster: Path) -> None:
    """A new stack whose platform layer targets the local control plane; its nodes added."""
    engine.init(stack)
    engine.run(
        "config", "set", "--stack", stack, "--secret", "--path", "ukdac:cluster.kubeconfig",
        control_plane.inline_kubeconfig(),
    )  # fmt: skip
    control_plane.add_nodes(control_plane.nodes_of(deployment_of(engine, stack)))


def test_a_dev_stack_up_no_change_and_destroy(
    make_engine: MakeEngine, cluster: Path, mirror: MirrorConfig, demo: Any
) -> None:
    stack = "kube-dev"
    engine = make_engine({stack: dev_shape(mirror)})
    start(engine, stack, cluster)
    plan = offline(engine, stack)
    assert plan.resources
    engine.run(
        "up",
        "--stack",
        stack,
        "--yes",
        "--skip-preview",
        *policy_flags(engine, stack),
        timeout=1800,
    )
    engine.run("preview", "--stack", stack, "--expect-no-changes")
    engine.run("destroy", "--stack", stack, "--yes", "--remove", timeout=1800)
