"""The etcd restore runbook (docs/runbooks/backups.md, "Restore etcd (kubeadm)"), run for
real: the snapshot taken and uploaded as the CronJob does it, the control plane's data
destroyed, then each step of the runbook, from the bucket back to a cluster the program
agrees with.

The local control plane differs from a kubeadm node in what does not matter here: its
etcd's client port is 12379 (leaving 2379 to a real one), its processes are stopped and
started by process id instead of by moving static pod manifests.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from infra.stack.model import MirrorConfig
from tests.kube import control_plane
from tests.kube.jobs import run_cron_job
from tests.kube.objects import helm_revisions, stored_differences
from tests.kube.shapes import (
    MakeEngine,
    deploy,
    destroy_and_check,
    releases,
    shape,
    up_and_check,
)
from tests.support.engine import (
    Engine,
    deployment_of,
    inventory,
    left_behind,
    remove_containers,
    ukdac,
    write_stack,
)

CRYPT_MAGIC = b"RCLONE\x00\x00"  # the header of every file rclone's crypt remote writes


def _rclone(engine: Engine, exports: str, rclone: Path, *commands: str) -> str:
    """rclone as the runbook sets it up: `eval "$(ukdac backups env STACK)"` (its output,
    `exports`, evaluated), then `commands`."""
    environment = engine.environment()
    environment["PATH"] = f"{rclone.parent}{os.pathsep}{environment['PATH']}"
    result = subprocess.run(
        ["sh", "-c", "\n".join(["set -eu", f"eval {shlex.quote(exports)}", *commands])],
        cwd=engine.project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, f"{commands}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result.stdout


def _etcdutl(*args: str) -> str:
    result = subprocess.run(
        [str(control_plane.BIN / "etcdutl"), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_a_test_stack_restored_from_its_etcd_snapshot(
    cluster: Path,
    make_engine: MakeEngine,
    mirror: MirrorConfig,
    demo: Any,
    admin: Any,
    rclone: Path,
    tmp_path: Path,
) -> None:
    stack = "kube-test"
    bucket = f"{stack}-backups"
    remove_containers(demo, {bucket})  # what an interrupted run of this test retained
    before = inventory(demo)
    document = shape("kubetest", "test", "10.44.0.0/24", mirror)
    document["config"]["ukdac:cluster"]["endpoint"] = "floating-ip"  # no Octavia here
    rgw = urlsplit(admin.object_store.get_endpoint())  # RGW serves S3 on Swift's port
    document["config"]["ukdac:buckets"] = {"s3Endpoint": f"{rgw.scheme}://{rgw.netloc}"}
    engine, plan = deploy(make_engine, stack, document)
    at_snapshot = engine.export(stack)

    # The snapshot, as the CronJob takes and uploads it: its stored pod run on this host.
    run_cron_job(
        "kube-system",
        "etcd-snapshots",
        tmp_path / "job",
        host_paths={"/etc/kubernetes/pki/etcd": control_plane.STATE / "pki" / "etcd"},
        rewrites={"https://127.0.0.1:2379": control_plane.ETCD_URL},
        tools=[control_plane.BIN, rclone.parent],
    )
    (stored,) = [o.name for o in demo.object_store.objects(bucket)]
    assert stored.startswith("etcd/") and stored.endswith("-etcd.db.bin"), stored
    head = demo.object_store.download_object(stored, container=bucket)[: len(CRYPT_MAGIC)]
    assert head == CRYPT_MAGIC, "the bucket holds the snapshot unencrypted"

    # A change after the snapshot: Vault's ingress admits another range (a new revision).
    stack_file = engine.project / "stacks" / f"Pulumi.{stack}.yaml"
    current = yaml.safe_load(stack_file.read_text())
    current["config"]["ukdac:vault"]["allowedCidrs"] = ["192.0.2.0/24"]
    write_stack(engine.project, stack, current)
    changed = up_and_check(engine, stack)
    (vault,) = [
        f"{r.inputs['namespace']}/{r.inputs['name']}"
        for r in releases(changed)
        if r.inputs["name"] == "vault"
    ]
    assert helm_revisions()[vault] == (2, "deployed")

    # The cluster's state is lost.
    control_plane.down()
    shutil.rmtree(control_plane.STATE / "etcd")

    # 1. Fetch and decrypt the snapshot (rclone from the stack's outputs); check it.
    restore = tmp_path / "restore"
    restore.mkdir()
    exports = ukdac(engine, "backups", "env", stack, "--prefix", "etcd").stdout
    listing = _rclone(engine, exports, rclone, "rclone lsl safe:").split()
    name = listing[-1]
    assert name == stored.removeprefix("etcd/").removesuffix(".bin"), listing
    _rclone(engine, exports, rclone, f"rclone copyto safe:{name} {restore / 'etcd.db'}")
    status = json.loads(_etcdutl("snapshot", "status", str(restore / "etcd.db"), "-w", "json"))
    assert status["totalKey"] > 0, status
    # 2. The control plane's etcd and API server are stopped (above).
    # 3. Restore into a new data folder as the one member, then put it in place.
    peer = control_plane.ETCD_PEER_URL
    _etcdutl("snapshot", "restore", str(restore / "etcd.db"),
             "--data-dir", str(restore / "etcd-restored"), "--name", control_plane.ETCD_NAME,
             "--initial-cluster", f"{control_plane.ETCD_NAME}={peer}",
             "--initial-advertise-peer-urls", peer)  # fmt: skip
    shutil.move(restore / "etcd-restored", control_plane.STATE / "etcd")
    # 4. Start again; the nodes are back.
    control_plane.up()
    listed = control_plane.kubectl_json("GET", "/api/v1/nodes")
    assert isinstance(listed, dict)
    nodes = {n["metadata"]["name"] for n in listed["items"]}
    assert nodes == {n.name for n in control_plane.nodes_of(deployment_of(engine, stack))}

    # Every object is back as it was at the snapshot, Vault's release at its revision then.
    differences = stored_differences(plan, at_snapshot)
    assert differences == {}, f"restore: objects differ from the snapshot's\n{differences}"
    assert helm_revisions()[vault] == (1, "deployed")

    # 5. `pulumi up --refresh`: the state says revision 2 was applied, so a plain `up` has
    # nothing to do (checked); refreshed, it puts back what changed since the snapshot.
    engine.run("preview", "--stack", stack, "--expect-no-changes")
    up_and_check(engine, stack, "--refresh")
    assert helm_revisions()[vault] == (2, "deployed")

    destroy_and_check(engine, stack, changed)
    assert left_behind(before, inventory(demo)) == {"containers": {bucket}}
    remove_containers(demo, {bucket})  # retained on delete: an operator removes it
