"""Preflight's arithmetic and verdicts on an in-memory project (the real answers of each
call are checked against the test cloud in tests/cloud/test_tooling.py)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from components.openstack.cloud_credentials import CLOUD_PROVIDER_ACCESS_RULES
from infra.ops import preflight as preflight_module
from infra.ops.preflight import Check, run_preflight
from infra.plan.footprint import footprint
from tests.support.fake_project import FakeProject, Limits, fake_project_cloud
from tests.support.stacks import config, planned

STACK = "ukdac-sbx-sample"  # three m1.large servers, two server groups, kubeadm


def _md5_fingerprint(public_key: str) -> str:
    """How Nova shows an OpenSSH key's fingerprint (MD5 of the key blob, colon-separated)."""
    digest = hashlib.md5(base64.b64decode(public_key.split()[1]), usedforsecurity=False)
    return ":".join(f"{b:02x}" for b in digest.digest())


def _project(**changes: Any) -> FakeProject:
    """A project that has everything the sample sandbox needs, with plenty of quota."""
    d = config(STACK)
    project = FakeProject(
        images={d.config.cloud.image},
        flavors={"m1.large": (4, 8192)},
        external_networks={d.config.cloud.external_network},
        network_quota={
            key: (100, 0)
            for key in (
                "floating_ips",
                "networks",
                "subnets",
                "routers",
                "ports",
                "security_groups",
                "security_group_rules",
            )
        },
        volume_quota={"volumes": (10, 0), "gigabytes": (1000, 0)},
    )
    for key, value in changes.items():
        setattr(project, key, value)
    return project


@pytest.fixture(autouse=True)
def restricted_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A restricted credential's connection is the fake project's own."""
    monkeypatch.setattr(
        preflight_module,
        "as_application_credential",
        lambda conn, credential_id, secret: conn.as_credential(),
    )


def _rows(project: FakeProject, stack: str = STACK, backend: str | None = None) -> dict[str, Check]:
    plan = planned(stack)
    checks = run_preflight(fake_project_cloud(project), config(stack), plan, backend)
    return {c.name: c for c in checks}


def test_a_project_with_everything_passes_and_each_need_is_the_plans() -> None:
    rows = _rows(_project())
    assert [name for name, row in rows.items() if not row.ok] == []
    needs = footprint(planned(STACK))
    assert rows["quota: instances"].need == str(needs.instances) == "3"
    assert rows["quota: cores"].need == str(3 * 4)
    assert rows["quota: ram (MB)"].need == str(3 * 8192)
    assert rows["quota: server groups"].need == "2"
    assert rows["quota: security group rules"].need == str(needs.security_group_rules)
    assert rows["quota: floating IPs"].available == "100"
    assert rows[f"image {config(STACK).config.cloud.image}"].need == "present"
    assert rows[f"image {config(STACK).config.cloud.image}"].available == "found"
    assert rows["flavor m1.large"].available == "found"
    assert rows["flavor m1.large"].need == "3 server(s)"
    assert rows["keypair ukdac-sbx-sample-keypair"].available == "absent (will be created)"
    assert rows["EC2 credentials"].available == "created and removed"
    assert rows["access rules"].ok


def test_what_is_missing_is_named() -> None:
    d = config(STACK)
    project = _project(images=set(), flavors={}, external_networks=set())
    project.internal_networks = {d.config.cloud.external_network}
    rows = _rows(project)
    assert rows[f"image {d.config.cloud.image}"].available == "missing"
    assert not rows[f"image {d.config.cloud.image}"].ok
    assert (rows["flavor m1.large"].available, rows["flavor m1.large"].ok) == ("missing", False)
    network = rows[f"external network {d.config.cloud.external_network}"]
    assert (network.available, network.ok) == ("not external", False)
    # Unknown flavors count no cores: the missing flavor is the finding, not the quota.
    assert rows["quota: cores"].need == "0"
    assert _rows(_project(external_networks=set()))[network.name].available == "missing"


def test_a_keypair_with_another_key_fails_and_the_same_key_passes() -> None:
    d = config(STACK)
    name = f"keypair {d.names.keypair}"
    same = _md5_fingerprint(d.config.cloud.keypair_public_key)
    assert _rows(_project(keypairs={d.names.keypair: same}))[name].available == "same key"
    other = _rows(_project(keypairs={d.names.keypair: "00:11"}))[name]
    assert (other.available, other.ok) == ("another key", False)


@pytest.mark.parametrize(
    ("limit", "used", "ok", "shown"),
    [
        (5, 2, True, "3"),  # exactly enough for three servers
        (5, 3, False, "2"),
        (2, 5, False, "0"),  # over quota already: no headroom, never negative
        (-1, 50, True, "unlimited"),
    ],
)
def test_quota_headroom_is_the_limit_less_what_is_used(
    limit: int, used: int, ok: bool, shown: str
) -> None:
    row = _rows(_project(limits=Limits(instances=limit, instances_used=used)))["quota: instances"]
    assert (row.ok, row.available) == (ok, shown)


def test_cores_and_ram_are_the_flavors_times_the_servers() -> None:
    limits = Limits(total_cores=12, total_ram=3 * 8192 - 1)
    rows = _rows(_project(limits=limits))
    assert rows["quota: cores"].ok  # 12 needed, 12 free
    assert not rows["quota: ram (MB)"].ok


def test_servers_the_stack_already_runs_need_no_new_quota() -> None:
    names = sorted(
        r.inputs["name"] for r in planned(STACK).find("openstack:compute/instance:Instance")
    )
    running = [
        SimpleNamespace(id=f"srv-{i}", name=name, flavor=SimpleNamespace(original_name="m1.large"))
        for i, name in enumerate(names[:2])
    ]
    limits = Limits(instances=3, instances_used=2, total_cores=12, total_cores_used=8)
    rows = _rows(_project(servers=running, limits=limits))
    assert rows["quota: instances"].need == "1 (3 planned, 2 exist)"
    assert rows["quota: instances"].ok
    assert rows["quota: cores"].need == "4 (12 planned, 8 exist)"
    assert rows["quota: cores"].ok


def test_volume_and_network_quotas_are_read_per_key() -> None:
    project = _project()
    project.network_quota["security_group_rules"] = (30, 0)
    project.network_quota["ports"] = (10, 6)  # 4 free for 5 ports
    project.volume_quota["volumes"] = (0, 0)
    rows = _rows(project)
    assert not rows["quota: security group rules"].ok  # 34 rules planned
    assert (rows["quota: ports"].ok, rows["quota: ports"].available) == (False, "4")
    assert rows["quota: volumes"].ok  # the sample asks for no volume
    assert rows["quota: networks"].ok


def test_a_bare_network_limit_counts_as_nothing_used() -> None:
    """Without details, older Neutron answers each quota as its limit alone."""
    project = _project()
    project.network_quota["ports"] = 5
    row = _rows(project)["quota: ports"]
    assert (row.ok, row.available) == (True, "5")


def test_a_refused_ec2_credential_fails_and_a_made_one_is_removed() -> None:
    project = _project()
    _rows(project)
    assert ("ec2", "access-1") in project.made and ("ec2", "access-1") in project.removed
    ec2 = "/users/user-1/credentials/OS-EC2"
    assert (ec2, {"tenant_id": "project-1"}) in project.requests  # for this project
    assert (f"{ec2}/access-1", None) in project.requests
    for project in (_project(ec2_refused=True), _project(ec2_http_error=True)):
        refused = _rows(project)["EC2 credentials"]
        assert not refused.ok and refused.available.startswith("refused:"), refused


def test_access_rules_are_proved_with_a_throwaway_credential() -> None:
    project = _project()
    assert _rows(project)["access rules"].ok
    # The probe is one of the cloud provider's own rules, so what passes is what they need.
    (options,) = [body for what, body in project.requests if what == "application credential"]
    (probe,) = options["access_rules"]
    assert probe in [dataclasses.asdict(rule) for rule in CLOUD_PROVIDER_ACCESS_RULES]
    made = [m for m in project.made if m[0] == "application credential"]
    assert made and made == [r for r in project.removed if r[0] == "application credential"]
    unenforced = _project(rules_enforced=False)
    row = _rows(unenforced)["access rules"]
    assert not row.ok and "applicationCredentialAccessRules: false" in row.available
    assert [m for m in unenforced.made if m[0] == "application credential"] == [
        r for r in unenforced.removed if r[0] == "application credential"
    ], "the throwaway credential is removed even when the call fails"
    refused = _rows(_project(credentials_refused=True))["access rules"]
    assert not refused.ok and "cannot make an application credential" in refused.available


def test_the_state_backend_must_live_outside_the_project() -> None:
    project = _project(buckets={"ukdac-pulumi-state"})
    inside = _rows(project, backend="s3://ukdac-pulumi-state?endpoint=x")["state backend"]
    assert (inside.ok, inside.available) == (False, "bucket ukdac-pulumi-state is in this project")
    assert _rows(project, backend="s3://elsewhere?endpoint=x")["state backend"].ok
    assert not _rows(project, backend="file:///home/me")["state backend"].ok
    assert _rows(project, backend="https://api.pulumi.com")["state backend"].ok
    no_objects = _project(services=set(), buckets={"ukdac-pulumi-state"})
    row = _rows(no_objects, backend="s3://ukdac-pulumi-state")["state backend"]
    assert row.ok and not _rows(no_objects)["object store"].ok


def test_magnum_is_looked_for_only_on_magnum() -> None:
    assert "Magnum service" not in _rows(_project())
    d = config(STACK)
    cluster = d.config.cluster.model_copy(update={"backend": "magnum"})
    on_magnum = dataclasses.replace(d, config=d.config.model_copy(update={"cluster": cluster}))
    plan = planned(STACK, "magnum")

    def row(services: set[str]) -> Check:
        checks = run_preflight(fake_project_cloud(_project(services=services)), on_magnum, plan)
        return {c.name: c for c in checks}["Magnum service"]

    assert (row({"object-store"}).ok, row({"object-store"}).available) == (False, "missing")
    assert row({"object-store", "container-infra"}).ok


def test_octavia_is_looked_for_only_behind_a_load_balancer() -> None:
    assert "load balancer service" not in _rows(_project())  # the sandbox: a floating IP
    d = config(STACK)
    cluster = d.config.cluster.model_copy(update={"endpoint": "loadbalancer"})
    balanced = dataclasses.replace(d, config=d.config.model_copy(update={"cluster": cluster}))

    def row(services: set[str]) -> Check:
        checks = run_preflight(
            fake_project_cloud(_project(services=services)), balanced, planned(STACK)
        )
        return {c.name: c for c in checks}["load balancer service"]

    missing = row({"object-store"})
    assert not missing.ok and "set cluster.endpoint: floating-ip" in missing.available
    assert row({"object-store", "load-balancer"}).ok


def test_preflight_names_a_credential_role_the_user_does_not_hold() -> None:
    """Found by the real engine: a cloud without Octavia has no `load-balancer_member`, and
    the first `up` failed at the application credential, half made."""
    assert _rows(_project())["credential roles"].ok
    row = _rows(_project(roles={"member", "reader"}))["credential roles"]
    assert not row.ok
    assert row.need == "member, load-balancer_member"
    assert row.available.startswith("not held: load-balancer_member (ask the cloud's admins")
