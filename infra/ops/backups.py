"""Reading the snapshots from outside the cluster: rclone set up as the snapshot jobs are.

A restore starts when the cluster, and the Secrets the jobs read, are gone: what rclone
needs then comes from the stack's outputs (`backupStore`, `backupKeys`, `backupPassphrase`),
and its settings from the function that writes the jobs' (components/kubernetes/snapshots.py).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from components.kubernetes.snapshots import PASSWORD_LINE, SECRET_SETTINGS, rclone_settings
from infra.errors import UkdacError

# Folders in the backup bucket, one per snapshot (infra/program/platform_layer.py).
PREFIXES = ("etcd", "vault")


class BackupsNotDeployed(UkdacError):
    """The stack exports no backup store: backups are off, or it predates the output."""


def rclone_environment(stack: str, outputs: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """rclone's environment for the snapshots under `prefix`, from the stack's outputs."""
    store, keys = outputs.get("backupStore"), outputs.get("backupKeys")
    passphrase = outputs.get("backupPassphrase")
    if not (isinstance(store, Mapping) and isinstance(keys, Mapping) and passphrase):
        raise BackupsNotDeployed(
            f"stack {stack} exports no backupStore, backupKeys and backupPassphrase: backups "
            "are off (ukdac:backups.enabled), or it was last deployed by an older ukdac "
            f"(run `pulumi up -s {stack}`)"
        )
    if prefix not in PREFIXES:
        raise UkdacError(f"no snapshots under '{prefix}': choose one of {', '.join(PREFIXES)}")
    secrets = (keys["accessKeyId"], keys["secretAccessKey"], str(passphrase))
    return {
        **rclone_settings(store["endpoint"], store["bucket"], prefix),
        **dict(zip(SECRET_SETTINGS, secrets, strict=True)),
    }


def shell_exports(environment: Mapping[str, str]) -> str:
    """`export` lines for `eval`, ending with the one that obscures the passphrase as the
    jobs do (so `rclone` must be on the PATH of the shell that evaluates them)."""
    lines = [f"export {key}={shlex.quote(value)}" for key, value in sorted(environment.items())]
    return "\n".join([*lines, PASSWORD_LINE]) + "\n"
