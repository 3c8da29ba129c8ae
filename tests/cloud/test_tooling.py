"""Preflight, clean-up and error handling against the real OpenStack services of the test cloud."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli.app import app
from infra.ops.cleanup import CSI_CLUSTER_KEY, delete_leftovers, find_leftovers
from infra.ops.cloud import CloudError, connect
from infra.ops.preflight import Check, run_preflight
from infra.plan.engine import plan_stack
from infra.stack.deployment import Deployment
from infra.stack.files import Project, load_stack_file
from infra.stack.validation import validate_stack_file
from tests.cloud.conftest import sandbox_stack

STACK = "ukdac-sbx-cloudtest"


def deployment(project: Project, stack: str) -> Deployment:
    stack_file = load_stack_file(project, stack)
    return validate_stack_file(stack_file)


def preflight(project: Project, stack: str) -> tuple[list[Check], int]:
    d = deployment(project, stack)
    cloud = connect(d.config.cloud.name, d.config.cloud.region)
    checks = run_preflight(cloud, d, plan_stack(project, stack))
    return checks, cloud.requests


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_preflight_passes_for_a_stack_that_fits(cloud_project: Callable[..., Project]) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    checks, _ = preflight(project, STACK)
    failed = [c for c in checks if not c.ok]
    assert failed == []
    rows = by_name(checks)
    assert rows["image cirros-fake"].available == "found"
    assert rows["external network public"].available == "external"
    assert rows["quota: instances"].need == "3"
    assert rows["quota: cores"].need == "3"  # m1.small + 2 x m1.tiny, 1 vCPU each
    assert rows["quota: ram (MB)"].need == str(2048 + 2 * 512)
    assert rows["EC2 credentials"].available == "created and removed"
    assert rows["access rules"].available == "a restricted credential made a call it allows"
    assert rows["object store"].ok


def test_preflight_reports_a_missing_image_and_flavor(
    cloud_project: Callable[..., Project],
) -> None:
    document = sandbox_stack("cloudtest")
    document["config"]["ukdac:cloud"]["image"] = "no-such-image"
    document["config"]["ukdac:cluster"]["nodeGroups"][0]["flavor"] = "m9.huge"
    project = cloud_project({STACK: document})
    rows = by_name(preflight(project, STACK)[0])
    assert not rows["image no-such-image"].ok and rows["image no-such-image"].available == "missing"
    assert not rows["flavor m9.huge"].ok


@pytest.fixture
def lowered_cores(admin: Any, demo: Any) -> Iterator[int]:
    """The demo project's core quota lowered to 2 for one test, then put back."""
    project_id = demo.current_project_id
    before = admin.get_compute_quotas(project_id).cores
    admin.set_compute_quotas(project_id, cores=2)
    try:
        yield 2
    finally:
        admin.set_compute_quotas(project_id, cores=before)


def test_preflight_reports_the_exact_shortfall_of_a_lowered_quota(
    cloud_project: Callable[..., Project], lowered_cores: int, demo: Any
) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    used = demo.compute.get_limits().absolute.total_cores_used
    rows = by_name(preflight(project, STACK)[0])
    cores = rows["quota: cores"]
    assert not cores.ok
    assert cores.need == "3" and cores.available == str(max(lowered_cores - used, 0))


def test_preflight_cli_exits_1_listing_the_shortfall(
    cloud_project: Callable[..., Project], lowered_cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(app, ["preflight", STACK], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "shortfall: quota: cores: needs 3" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_request_count_does_not_grow_with_the_stack(cloud_project: Callable[..., Project]) -> None:
    project = cloud_project(
        {
            STACK: sandbox_stack("cloudtest", workers=2),
            "ukdac-sbx-big": sandbox_stack("big", workers=200),
        }
    )
    _, small = preflight(project, STACK)
    big_checks, big = preflight(project, "ukdac-sbx-big")
    assert small == big
    assert not by_name(big_checks)["quota: instances"].ok  # 201 servers do not fit, and it says so


@pytest.fixture
def partly_deployed(
    cloud_project: Callable[..., Project], demo: Any
) -> Iterator[tuple[Project, str]]:
    """STACK's network, subnet and first worker (with its named port) already exist, as after
    an earlier `up`, next to a server of another stack on the same network."""
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    plan = plan_stack(project, STACK)

    def name(token: str, suffix: str = "") -> str:
        return next(str(r.inputs["name"]) for r in plan.find(token) if r.name.endswith(suffix))

    network = demo.network.create_network(name=name("openstack:networking/network:Network"))
    made: list[tuple[str, Any]] = [("network", network)]
    try:
        subnet = demo.network.create_subnet(
            name=name("openstack:networking/subnet:Subnet"),
            network_id=network.id,
            ip_version=4,
            cidr="10.20.7.0/24",
        )
        made.append(("subnet", subnet))
        worker = name("openstack:compute/instance:Instance", "workers-0")
        port = demo.network.create_port(network_id=network.id, name=f"{worker}-port")
        made.append(("port", port))
        image = demo.image.find_image("cirros-fake")
        tiny = demo.compute.find_flavor("m1.tiny")
        for server_name, networks in (
            (worker, [{"port": port.id}]),
            ("ukdac-sbx-other-workers-0", [{"uuid": network.id}]),
        ):
            server = demo.compute.create_server(
                name=server_name, image_id=image.id, flavor_id=tiny.id, networks=networks
            )
            made.append(("server", demo.compute.wait_for_server(server, wait=120)))
        yield project, network.id
    finally:
        for kind, item in reversed(made):
            if kind == "server":
                demo.compute.delete_server(item)
                demo.compute.wait_for_delete(item, wait=120)
            elif kind == "port":
                demo.network.delete_port(item, ignore_missing=True)
            elif kind == "subnet":
                demo.network.delete_subnet(item, ignore_missing=True)
            else:
                demo.network.delete_network(item, ignore_missing=True)


def test_preflight_of_a_deployed_stack_asks_only_for_what_is_new(
    partly_deployed: tuple[Project, str], demo: Any
) -> None:
    project, network_id = partly_deployed
    rows = by_name(preflight(project, STACK)[0])
    assert rows["quota: instances"].need == "2 (3 planned, 1 exist)"  # not the other stack's
    assert rows["quota: cores"].need == "2 (3 planned, 1 exist)"
    assert rows["quota: ram (MB)"].need == f"{2048 + 512} ({2048 + 2 * 512} planned, 512 exist)"
    assert rows["quota: networks"].need == "0 (1 planned, 1 exist)"
    assert rows["quota: subnets"].need == "0 (1 planned, 1 exist)"
    dhcp = [
        p for p in demo.network.ports(network_id=network_id) if p.device_owner == "network:dhcp"
    ]
    held_ports = 1 + len(dhcp)  # the worker's named port, and Neutron's DHCP port if any
    assert rows["quota: ports"].need == f"{5 - held_ports} (5 planned, {held_ports} exist)"
    assert rows["quota: routers"].need == "1"  # nothing held: shown as before


# ---------------------------------------------------------------------------------------------
# Clean-up
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def made_by_kubernetes(demo: Any) -> Iterator[dict[str, list[str]]]:
    """Volumes and floating IPs as Cinder CSI and the cloud controller make them, plus decoys."""
    ids: dict[str, list[str]] = {"ours": [], "decoys": []}
    public = demo.network.find_network("public")

    def volume(cluster: str | None, bucket: str) -> None:
        metadata = (
            {CSI_CLUSTER_KEY: cluster, "csi.storage.k8s.io/pvc/name": "data-0"} if cluster else {}
        )
        made = demo.block_storage.create_volume(
            size=1, name=f"pvc-{uuid.uuid4()}", metadata=metadata
        )
        ids[bucket].append(made.id)

    def fip(cluster: str | None, bucket: str) -> None:
        description = (
            f"Floating IP for Kubernetes external service rsp/ingress from cluster {cluster}"
            if cluster
            else ""
        )
        made = demo.network.create_ip(floating_network_id=public.id, description=description)
        ids[bucket].append(made.id)

    for _ in range(2):
        volume(STACK, "ours")
    fip(STACK, "ours")
    volume("ukdac-sbx-other", "decoys")
    volume("ukdac-prod", "decoys")
    volume(f"{STACK}-2", "decoys")  # a longer name that starts the same: not ours
    volume(None, "decoys")
    fip("ukdac-prod", "decoys")
    fip(None, "decoys")
    for volume_id in ids["ours"] + ids["decoys"]:
        if demo.block_storage.find_volume(volume_id):
            demo.block_storage.wait_for_status(
                demo.block_storage.get_volume(volume_id), "available", wait=60
            )
    try:
        yield ids
    finally:
        for item in ids["ours"] + ids["decoys"]:
            if demo.block_storage.find_volume(item):
                demo.block_storage.delete_volume(item, ignore_missing=True)
            if demo.network.find_ip(item):
                demo.network.delete_ip(item, ignore_missing=True)


def test_cleanup_deletes_exactly_what_the_stack_left(
    made_by_kubernetes: dict[str, list[str]], demo: Any
) -> None:
    cloud = connect("osbox-demo")
    found = find_leftovers(cloud, STACK, f"{STACK}-net")
    assert {item.id for item in found} == set(made_by_kubernetes["ours"])
    assert {item.kind for item in found} == {"volume", "floating IP"}
    lines = delete_leftovers(cloud, found, timeout=120)
    assert len(lines) == 3
    for item in made_by_kubernetes["ours"]:
        assert demo.block_storage.find_volume(item) is None and demo.network.find_ip(item) is None
    for item in made_by_kubernetes["decoys"]:
        assert demo.block_storage.find_volume(item) or demo.network.find_ip(item), item
    assert find_leftovers(cloud, STACK, f"{STACK}-net") == []


def test_cleanup_cli_is_a_dry_run_without_yes(
    made_by_kubernetes: dict[str, list[str]],
    cloud_project: Callable[..., Project],
    monkeypatch: pytest.MonkeyPatch,
    demo: Any,
) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(app, ["cleanup", STACK], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "dry run: --yes deletes these" in result.stdout
    assert all(demo.block_storage.find_volume(v) for v in made_by_kubernetes["ours"][:2])
    result = CliRunner().invoke(app, ["cleanup", STACK, "--yes"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and result.stdout.count("deleted ") == 3


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def _clouds_copy(
    clouds_yaml: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None]
) -> Path:
    document = yaml.safe_load(clouds_yaml.read_text())
    change(document["clouds"]["osbox-demo"])
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_bad_password_wrong_cloud_and_stopped_service_give_clean_errors(
    clouds_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CloudError, match=r"not in any clouds\.yaml"):
        connect("no-such-cloud")

    bad = _clouds_copy(clouds_yaml, tmp_path, lambda c: c["auth"].update(password="wrong"))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(bad))
    with pytest.raises(CloudError, match=r"refused \(401\)"):
        connect("osbox-demo")

    stopped = _clouds_copy(
        clouds_yaml, tmp_path, lambda c: c["auth"].update(auth_url="http://127.0.0.1:9/v3")
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(stopped))
    with pytest.raises(CloudError, match="cannot reach the endpoint") as caught:
        connect("osbox-demo")
    assert "\n" not in str(caught.value)


def test_os_cloud_overrides_the_stack_and_the_cli_reports_without_traceback(
    cloud_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest", cloud="no-such-cloud")})
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(app, ["preflight", STACK], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "not in any clouds.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    monkeypatch.setenv("OS_CLOUD", "osbox-demo")
    result = CliRunner().invoke(app, ["preflight", STACK], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def stopped_cinder(clouds_yaml: Path) -> Iterator[None]:
    """Cinder's API process group stopped for one test; up.sh (idempotent) restarts it."""
    import os
    import signal
    import subprocess

    cloud_dir = clouds_yaml.parents[2]
    pid = int((cloud_dir / "run" / "cinder-api.pid").read_text())
    os.killpg(pid, signal.SIGTERM)
    try:
        yield
    finally:
        up = Path(__file__).with_name("up.sh")
        subprocess.run(
            [str(up)],
            env={**os.environ, "OSBOX_DIR": str(cloud_dir)},
            check=True,
            capture_output=True,
        )


def test_a_stopped_service_gives_a_clean_error(
    cloud_project: Callable[..., Project], stopped_cinder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(app, ["preflight", STACK], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "cannot reach the endpoint after retries" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_preflight_refuses_a_state_backend_in_the_environments_own_project(
    cloud_project: Callable[..., Project], demo: Any
) -> None:
    """The cluster's services hold this project's EC2 credentials, which reach its buckets."""
    project = cloud_project({STACK: sandbox_stack("cloudtest")})
    d = deployment(project, STACK)
    plan = plan_stack(project, STACK)
    bucket = f"state-{uuid.uuid4().hex[:8]}"
    demo.object_store.create_container(name=bucket)
    try:
        cloud = connect(d.config.cloud.name, d.config.cloud.region)

        def state_row(backend: str | None) -> Check:
            return by_name(run_preflight(cloud, d, plan, backend))["state backend"]

        inside = state_row(f"s3://{bucket}?endpoint=127.0.0.1:8080&s3ForcePathStyle=true")
        assert (inside.ok, inside.available) == (False, f"bucket {bucket} is in this project")
        elsewhere = state_row("s3://ukdac-pulumi-state?endpoint=object.example.org")
        assert elsewhere.ok, elsewhere
        assert not state_row("file:///home/me/.pulumi").ok
        assert state_row(None).available == "PULUMI_BACKEND_URL unset: not checked"
    finally:
        demo.object_store.delete_container(bucket)
