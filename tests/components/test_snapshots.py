"""The snapshot uploader's script, run by `sh` with a stand-in `rclone` that records its
calls: the passphrase reaches rclone obscured, the new snapshot is stored under its time,
and old ones are pruned only after the new one is safe."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from components.kubernetes.snapshots import SNAPSHOT_DIR, upload_script

pytestmark = pytest.mark.skipif(not shutil.which("sh"), reason="needs sh")

# `rclone obscure X` prints obscured-X; other calls are logged with the password rclone
# would see, and fail with $FAIL_ON when the subcommand matches.
RCLONE = """#!/bin/sh
if [ "$1" = obscure ]; then echo "obscured-$2"; exit 0; fi
echo "$* | $RCLONE_CONFIG_SAFE_PASSWORD" >> "$LOG"
[ "$1" = "${FAIL_ON:-}" ] && exit 3
exit 0
"""


def _upload(tmp_path: Path, fail_on: str = "") -> tuple[int, list[str]]:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "rclone").write_text(RCLONE)
    (tools / "rclone").chmod(stat.S_IRWXU)
    log = tmp_path / "log"
    script = upload_script("etcd.db", 14)
    env = {
        **os.environ,
        "PATH": f"{tools}:{os.environ['PATH']}",
        "LOG": str(log),
        "FAIL_ON": fail_on,
        "BACKUP_PASSPHRASE": "correct horse",
    }
    result = subprocess.run(
        ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return result.returncode, log.read_text().splitlines() if log.exists() else []


def test_the_snapshot_is_stored_by_time_then_old_ones_are_pruned(tmp_path: Path) -> None:
    code, calls = _upload(tmp_path)
    assert code == 0
    copy, prune = calls
    verb, source, target, *_ = copy.split()
    assert (verb, source) == ("copyto", f"{SNAPSHOT_DIR}/etcd.db")
    assert target.startswith("safe:") and target.endswith("Z-etcd.db")
    assert prune.startswith("delete --min-age 14d safe: ")
    # The crypt remote's password is the passphrase in rclone's obscured form.
    assert all(call.endswith("| obscured-correct horse") for call in calls)


def test_a_failed_upload_prunes_nothing(tmp_path: Path) -> None:
    code, calls = _upload(tmp_path, fail_on="copyto")
    assert code != 0
    assert [c.split()[0] for c in calls] == ["copyto"]
