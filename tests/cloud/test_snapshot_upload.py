"""The snapshot uploader's own script and rclone settings, run for real: rclone at the pinned
version (built by tools/rclone.sh) against the test cloud's object store over S3, with an
EC2 credential of the project. What lands in the bucket is ciphertext; the passphrase reads
it back; a newer snapshot prunes those older than the retention, never itself."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from components.kubernetes.snapshots import (
    REMOTE,
    SECRET_SETTINGS,
    rclone_settings,
    upload_script,
)

PASSPHRASE = "correct horse battery staple"
DAY = 24 * 3600


@pytest.fixture(scope="module")
def rclone() -> Path:
    value = os.environ.get("UKDAC_RCLONE")
    if value and Path(value).is_file():
        return Path(value)
    reason = "UKDAC_RCLONE is unset: `make test-cloud` builds rclone with tools/rclone.sh"
    if os.environ.get("UKDAC_REQUIRE_CLOUD"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def bucket(demo: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """A container of the demo project and an EC2 credential of its user: (name, env)."""
    name = f"backups-{uuid.uuid4().hex[:8]}"
    demo.object_store.create_container(name=name)
    path = f"/users/{demo.current_user_id}/credentials/OS-EC2"
    made = demo.identity.post(path, json={"tenant_id": demo.current_project_id}).json()
    credential = made["credential"]
    url = urlsplit(demo.object_store.get_endpoint())  # RGW serves S3 on the same host:port
    env = rclone_settings(f"{url.scheme}://{url.netloc}", name, "etcd")
    secrets = (credential["access"], credential["secret"], PASSPHRASE)
    env.update(zip(SECRET_SETTINGS, secrets, strict=True))
    try:
        yield name, env
    finally:
        for item in demo.object_store.objects(name):
            demo.object_store.delete_object(item, container=name)
        demo.object_store.delete_container(name)
        demo.identity.delete(f"{path}/{credential['access']}")


def _through_crypt(stored: str) -> str:
    """The name a stored object has through the crypt remote (its folder is the remote's)."""
    return stored.removeprefix("etcd/").removesuffix(".bin")


def _upload(
    rclone: Path, env: dict[str, str], folder: Path, retention_days: int
) -> subprocess.CompletedProcess[str]:
    script = upload_script("etcd.db", retention_days, directory=str(folder))
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env={
            **os.environ,
            **env,
            "PATH": f"{rclone.parent}:{os.environ['PATH']}",
            "HOME": str(folder),
            "RCLONE_CACHE_DIR": str(folder / ".cache"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_snapshot_is_stored_encrypted_and_reads_back_with_the_passphrase(
    rclone: Path, bucket: tuple[str, dict[str, str]], demo: Any, tmp_path: Path
) -> None:
    name, env = bucket
    snapshot = tmp_path / "etcd.db"
    snapshot.write_bytes(b"etcd snapshot: every Secret of the cluster\n" * 100)
    result = _upload(rclone, env, tmp_path, 14)
    assert result.returncode == 0, result.stderr
    (stored,) = list(demo.object_store.objects(name))
    # rclone's crypt keeps the name readable (filename_encryption off) and marks the
    # encrypted file with `.bin`: what the restore runbook lists.
    assert stored.name.startswith("etcd/") and stored.name.endswith("Z-etcd.db.bin")
    ciphertext = demo.object_store.download_object(stored.name, container=name)
    assert b"every Secret" not in ciphertext and len(ciphertext) > len(snapshot.read_bytes())
    # The passphrase (and only rclone's crypt remote with it) reads it back.
    obscured = subprocess.run(
        [str(rclone), "obscure", PASSPHRASE], capture_output=True, text=True, check=True
    ).stdout.strip()
    restored = tmp_path / "restored.db"
    subprocess.run(
        [str(rclone), "copyto", f"{REMOTE}:{_through_crypt(stored.name)}", str(restored)],
        env={**os.environ, **env, f"RCLONE_CONFIG_{REMOTE.upper()}_PASSWORD": obscured},
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert restored.read_bytes() == snapshot.read_bytes()


def test_a_new_snapshot_prunes_only_those_older_than_the_retention(
    rclone: Path, bucket: tuple[str, dict[str, str]], demo: Any, tmp_path: Path
) -> None:
    name, env = bucket
    snapshot = tmp_path / "etcd.db"
    snapshot.write_bytes(b"old")
    old = time.time() - 30 * DAY  # rclone keeps the file's time as the object's
    os.utime(snapshot, (old, old))
    assert _upload(rclone, env, tmp_path, 365).returncode == 0  # kept: within a year
    (first,) = list(demo.object_store.objects(name))
    time.sleep(1.1)  # the next one is named by a later second
    snapshot.write_bytes(b"new")
    result = _upload(rclone, env, tmp_path, 14)
    assert result.returncode == 0, result.stderr
    # The 30-day-old snapshot is gone; the new one, stored just before the prune, stays.
    (left,) = list(demo.object_store.objects(name))
    assert left.name > first.name
