"""Backups as each stack plans them: which snapshots run where, what they may touch, and
where they go (its own retained bucket, its own S3 keys, an encryption passphrase kept
protected)."""

from __future__ import annotations

from typing import Any

import pytest

from components.kubernetes.vault import server_names
from infra.ops.backups import PREFIXES, rclone_environment
from infra.plan.model import Plan, PlannedResource, is_secret
from tests.support.stacks import STACKS, config, planned

CRON_JOB = "kubernetes:batch/v1:CronJob"


def _jobs(plan: Plan) -> dict[str, PlannedResource]:
    return {r.inputs["metadata"]["name"]: r for r in plan.find(CRON_JOB)}


def _pod(job: PlannedResource) -> dict[str, Any]:
    spec: dict[str, Any] = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("stack", STACKS)
def test_snapshots_run_where_the_profile_says(stack: str) -> None:
    d = config(stack)
    jobs = _jobs(planned(stack))
    expected = set()
    if d.config.backups.enabled:
        expected.add("etcd-snapshots")
        if d.config.vault.mode == "ha":
            expected.add("vault-snapshots")
    assert set(jobs) == expected
    assert d.config.backups.enabled == (d.config.environment in ("test", "prod"))
    for job in jobs.values():
        assert job.inputs["spec"]["schedule"] == d.config.backups.schedule
        assert job.inputs["spec"]["concurrencyPolicy"] == "Forbid"


@pytest.mark.parametrize("stack", ["ukdac-test", "ukdac-prod"])
def test_snapshots_go_to_a_retained_bucket_of_their_own_with_their_own_keys(stack: str) -> None:
    d = config(stack)
    plan = planned(stack)
    (bucket,) = [b for b in d.buckets if b.name == d.config.backups.bucket]
    assert bucket.retain and bucket.physical_name == f"{stack}-backups"
    (credential,) = [r for r in plan.resources if r.name == "object-store-backup-credential"]
    (store_credential,) = [r for r in plan.resources if r.name == "object-store-s3-credential"]
    for secret in (r for r in plan.resources if r.name.endswith("-snapshots-upload")):
        sources = secret.property_dependencies["stringData"]
        assert credential.urn in sources and store_credential.urn not in sources
    (passphrase,) = [r for r in plan.resources if r.name == "backup-passphrase"]
    assert bool(passphrase.options.get("protect")) == d.protect_stateful
    assert is_secret(plan.outputs["backupPassphrase"])


def test_etcd_is_snapshotted_on_a_control_plane_through_its_local_member() -> None:
    job = _jobs(planned("ukdac-prod", show_secrets=True))["etcd-snapshots"]
    assert job.inputs["metadata"]["namespace"] == "kube-system"
    pod = _pod(job)
    assert pod["hostNetwork"] is True
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    (pki,) = [v for v in pod["volumes"] if v["name"] == "etcd-pki"]
    assert pki["hostPath"]["path"] == "/etc/kubernetes/pki/etcd"
    (take,) = pod["initContainers"]
    assert take["volumeMounts"][1] == {
        "name": "etcd-pki",
        "mountPath": "/etc/kubernetes/pki/etcd",
        "readOnly": True,
    }
    assert "--endpoints=https://127.0.0.1:2379" in take["command"]
    assert take["command"][-3:] == ["snapshot", "save", "/snapshot/etcd.db"]


def test_vault_is_snapshotted_from_its_active_node_by_a_name_its_certificate_holds() -> None:
    job = _jobs(planned("ukdac-prod"))["vault-snapshots"]
    pod = _pod(job)
    (take,) = pod["initContainers"]
    env = {e["name"]: e.get("value") for e in take["env"]}
    host = env["VAULT_ADDR"].removeprefix("https://").removesuffix(":8200")
    assert host in server_names("vault", 3)
    assert pod["serviceAccountName"] == "vault-snapshot"
    # Restricted Pod Security: non-root, no privilege escalation, no capabilities, seccomp.
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in (*pod["initContainers"], *pod["containers"]):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}


def test_what_is_not_snapshotted_is_said(stack: str = "ukdac-test") -> None:
    plan = planned(stack)
    assert any("Vault in standalone mode keeps file storage" in w for w in plan.warnings)
    magnum = planned("ukdac-prod", "magnum")
    assert set(_jobs(magnum)) == {"vault-snapshots"}
    assert any("Magnum runs etcd on its masters" in w for w in magnum.warnings)


@pytest.mark.parametrize("stack", ["ukdac-test", "ukdac-prod"])
def test_the_outputs_set_rclone_up_exactly_as_each_job_is(stack: str) -> None:
    """A restore starts without the cluster: `ukdac backups env` rebuilds the jobs'
    environment from the stack's outputs, secrets included."""
    plan = planned(stack, show_secrets=True)
    assert is_secret(planned(stack).outputs["backupKeys"])
    for job in _jobs(plan).values():
        (upload,) = _pod(job)["containers"]
        (secret,) = [r for r in plan.resources if r.name == f"{job.name}-upload"]
        stored = secret.inputs["stringData"]
        environment = {
            e["name"]: e["value"] if "value" in e else stored[e["valueFrom"]["secretKeyRef"]["key"]]
            for e in upload["env"]
            if e["name"] not in ("HOME", "RCLONE_CACHE_DIR")  # the pod's own folders
        }
        prefix = environment["RCLONE_CONFIG_SAFE_REMOTE"].rsplit("/", 1)[1]
        assert prefix in PREFIXES
        assert rclone_environment(stack, plan.outputs, prefix) == environment
