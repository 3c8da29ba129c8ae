"""`ukdac backups env`'s service: rclone's environment from a stack's outputs, as shell."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.errors import UkdacError
from infra.ops.backups import BackupsNotDeployed, rclone_environment, shell_exports

OUTPUTS: dict[str, Any] = {
    "backupStore": {"endpoint": "https://rgw.example.org:6780", "bucket": "ukdac-test-backups"},
    "backupKeys": {"accessKeyId": "AK", "secretAccessKey": "it's $ecret"},
    "backupPassphrase": "pass phrase",
}


def test_the_environment_names_the_bucket_folder_keys_and_passphrase() -> None:
    environment = rclone_environment("ukdac-test", OUTPUTS, "vault")
    assert environment["RCLONE_CONFIG_SAFE_REMOTE"] == "store:ukdac-test-backups/vault"
    assert environment["RCLONE_CONFIG_STORE_ENDPOINT"] == "https://rgw.example.org:6780"
    assert environment["RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY"] == "it's $ecret"
    assert environment["BACKUP_PASSPHRASE"] == "pass phrase"


@pytest.mark.parametrize("missing", ["backupStore", "backupKeys", "backupPassphrase"])
def test_a_stack_without_backups_is_told_what_to_do(missing: str) -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k != missing}
    with pytest.raises(BackupsNotDeployed, match=r"ukdac:backups.enabled.*pulumi up -s ukdac-dev"):
        rclone_environment("ukdac-dev", outputs, "etcd")


def test_an_unknown_prefix_names_the_known_ones() -> None:
    with pytest.raises(UkdacError, match="choose one of etcd, vault"):
        rclone_environment("ukdac-test", OUTPUTS, "qserv")


def test_the_exports_evaluate_to_the_environment_with_the_password_obscured(
    tmp_path: Path,
) -> None:
    """Evaluated by sh (quotes and `$` survive), the passphrase obscured by `rclone obscure`
    as in the jobs (a stand-in rclone here, which says what it was given)."""
    rclone = tmp_path / "rclone"
    rclone.write_text('#!/bin/sh\n[ "$1" = obscure ] && printf "obscured(%s)" "$2"\n')
    rclone.chmod(0o755)
    environment = rclone_environment("ukdac-test", OUTPUTS, "etcd")
    script = shell_exports(environment) + "env\n"
    result = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
    )
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    for key, value in environment.items():
        assert seen[key] == value
    assert seen["RCLONE_CONFIG_SAFE_PASSWORD"] == "obscured(pass phrase)"
