"""Scheduled snapshots, encrypted before they leave the cluster, kept in an S3 bucket.

One CronJob per snapshot: an init container takes the snapshot into an emptyDir (etcd's
`etcdctl snapshot save`, Vault's `vault operator raft snapshot save`: each in its own
image, which knows how), then rclone uploads it through a `crypt` remote, so the bucket
holds ciphertext (an etcd snapshot is every Secret of the cluster), and deletes the
snapshots older than the retention. The passphrase (made here, one for every schedule) and
the S3 keys reach the pod through one Secret per schedule, as environment variables rclone
reads; nothing is written to a config file.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.kubernetes.builtin_objects import (
    CRON_JOB,
    SECRET,
    SERVICE_ACCOUNT,
    BuiltinObject,
)
from components.kubernetes.control_planes import CONTROL_PLANE_LABEL, CONTROL_PLANE_TOLERATION

SNAPSHOT_DIR = "/snapshot"
REMOTE = "safe"  # the crypt remote; `store` is the bucket under it


@dataclass(frozen=True)
class Bucket:
    """Where snapshots go: an S3 endpoint and bucket, the keys, and how long they stay."""

    endpoint: str
    bucket: str
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]
    retention_days: int


@dataclass(frozen=True)
class Snapshot:
    """How one thing is snapshotted: `take` is the init container that writes
    SNAPSHOT_DIR/`file`; `pod` adds to the pod spec (node selection, host network,
    volumes); `owner` is the user the file belongs to, whom the uploader runs as."""

    file: str  # e.g. etcd.db; stored as <prefix>/<UTC time>-<file>
    take: Mapping[str, Any]
    pod: Mapping[str, Any] = field(default_factory=dict)
    owner: int = 65532


@dataclass(frozen=True)
class Schedule:
    """One snapshot, when and where it runs, and where in the bucket it goes."""

    name: str  # the CronJob's
    namespace: str
    schedule: str  # cron, in the controller-manager's time zone (UTC on kubeadm nodes)
    prefix: str  # folder in the bucket, e.g. etcd
    snapshot: Snapshot
    service_account: str | None = None  # made here, and the pod runs as it
    deadline_seconds: int = 3600
    depends_on: tuple[pulumi.Resource, ...] = ()  # what must exist first (its namespace)


@dataclass(frozen=True)
class SnapshotsArgs:
    bucket: Bucket
    uploader_image: str
    schedules: tuple[Schedule, ...]
    protect: bool = False  # the passphrase: losing it loses every snapshot


# The uploader's secret settings, from the schedule's Secret; the rest are plain.
SECRET_SETTINGS = (
    "RCLONE_CONFIG_STORE_ACCESS_KEY_ID",
    "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY",
    "BACKUP_PASSPHRASE",
)


def rclone_settings(endpoint: str, bucket: str, prefix: str) -> dict[str, str]:
    """rclone's remotes as environment variables: `store`, the bucket over S3, and REMOTE,
    a crypt remote on `store:<bucket>/<prefix>` (its password from BACKUP_PASSPHRASE)."""
    safe = REMOTE.upper()
    return {
        "RCLONE_CONFIG_STORE_TYPE": "s3",
        "RCLONE_CONFIG_STORE_PROVIDER": "Ceph",
        "RCLONE_CONFIG_STORE_ENDPOINT": endpoint,
        f"RCLONE_CONFIG_{safe}_TYPE": "crypt",
        f"RCLONE_CONFIG_{safe}_REMOTE": f"store:{bucket}/{prefix}",
        # Names stay readable (pick a snapshot by its time); contents are encrypted.
        f"RCLONE_CONFIG_{safe}_FILENAME_ENCRYPTION": "off",
        f"RCLONE_CONFIG_{safe}_DIRECTORY_NAME_ENCRYPTION": "false",
    }


# rclone reads its crypt password in its own obscured form: a shell line that sets it from
# BACKUP_PASSPHRASE (the job's script, and an operator's `ukdac backups env`).
PASSWORD_LINE = (
    f'export RCLONE_CONFIG_{REMOTE.upper()}_PASSWORD="$(rclone obscure "$BACKUP_PASSPHRASE")"'
)


def upload_script(file: str, retention_days: int, directory: str = SNAPSHOT_DIR) -> str:
    """The uploader's shell: copy the new snapshot, then (only if that worked) prune."""
    source = shlex.quote(f"{directory}/{file}")
    return "\n".join(
        [
            "set -eu",
            PASSWORD_LINE,
            'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
            f'rclone copyto {source} "{REMOTE}:$stamp-{file}"',
            f"rclone delete --min-age {retention_days}d {REMOTE}:",
        ]
    )


_LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}
ETCD_PKI = "/etc/kubernetes/pki/etcd"


def etcd_snapshot(image: str) -> Snapshot:
    """kubeadm's stacked etcd: on a control plane, through its local member, with the
    health-check client certificate kubeadm issues (root-only files, so a root-only
    snapshot)."""
    file = "etcd.db"
    take = {
        "name": "snapshot",
        "image": image,
        "command": [
            "/usr/local/bin/etcdctl",
            "--endpoints=https://127.0.0.1:2379",
            f"--cacert={ETCD_PKI}/ca.crt",
            f"--cert={ETCD_PKI}/healthcheck-client.crt",
            f"--key={ETCD_PKI}/healthcheck-client.key",
            "snapshot",
            "save",
            f"{SNAPSHOT_DIR}/{file}",
        ],
        "volumeMounts": [{"name": "etcd-pki", "mountPath": ETCD_PKI, "readOnly": True}],
        "securityContext": {**_LOCKED_DOWN, "runAsUser": 0},
    }
    pod = {
        "hostNetwork": True,  # etcd listens on the node's loopback
        "nodeSelector": {CONTROL_PLANE_LABEL: ""},
        "tolerations": [CONTROL_PLANE_TOLERATION],
        "volumes": [{"name": "etcd-pki", "hostPath": {"path": ETCD_PKI, "type": "Directory"}}],
    }
    return Snapshot(file, take, pod, owner=0)


def vault_snapshot(image: str, address: str, ca_secret: str, role: str) -> Snapshot:
    """Vault's raft storage: log in with the pod's service-account token (Vault's
    Kubernetes auth, `role`), then save a snapshot from the active node."""
    file = "vault.snap"
    script = "\n".join(
        [
            "set -eu",
            'VAULT_TOKEN="$(vault write -field=token auth/kubernetes/login '
            f'role={role} jwt=@/var/run/secrets/kubernetes.io/serviceaccount/token)"',
            "export VAULT_TOKEN",
            f"vault operator raft snapshot save {SNAPSHOT_DIR}/{file}",
        ]
    )
    take = {
        "name": "snapshot",
        "image": image,
        "command": ["/bin/sh", "-c", script],
        "env": [
            {"name": "VAULT_ADDR", "value": address},
            {"name": "VAULT_CACERT", "value": "/vault/ca/ca.crt"},
            {"name": "HOME", "value": SNAPSHOT_DIR},
        ],
        "volumeMounts": [{"name": "vault-ca", "mountPath": "/vault/ca", "readOnly": True}],
        "securityContext": {**_LOCKED_DOWN, "runAsUser": 100, "runAsNonRoot": True},
    }
    pod = {
        "volumes": [
            {
                "name": "vault-ca",
                "secret": {"secretName": ca_secret, "items": [{"key": "ca.crt", "path": "ca.crt"}]},
            }
        ],
    }
    return Snapshot(file, take, pod)


def _environment(secret: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}} for key in keys
    ]


class Snapshots(pulumi.ComponentResource):
    """The passphrase, then per schedule the uploader's Secret and the CronJob.

    `store` (endpoint, bucket) is where the snapshots are, `keys` (accessKeyId,
    secretAccessKey; secret) what reads them: with the passphrase, all a restore needs once
    the cluster, and the Secrets in it, are gone."""

    passphrase: pulumi.Output[str]
    store: dict[str, str]
    keys: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: SnapshotsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:Snapshots", name, None, opts)
        secret = random.RandomPassword(
            f"{name}-passphrase",
            length=48,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.passphrase = pulumi.Output.secret(secret.result)
        bucket = args.bucket
        self.store = {"endpoint": bucket.endpoint, "bucket": bucket.bucket}
        self.keys = pulumi.Output.secret(
            pulumi.Output.all(bucket.access_key, bucket.secret_key).apply(
                lambda keys: {"accessKeyId": keys[0], "secretAccessKey": keys[1]}
            )
        )
        for schedule in args.schedules:
            self._schedule(schedule, args)
        self.register_outputs(
            {"passphrase": self.passphrase, "store": self.store, "keys": self.keys}
        )

    def _schedule(self, job: Schedule, args: SnapshotsArgs) -> None:
        bucket, snapshot = args.bucket, job.snapshot
        secret_name = f"{job.name}-upload"
        after = pulumi.ResourceOptions(parent=self, depends_on=list(job.depends_on))
        # Only the keys and the passphrase are secret; the rest is plain configuration.
        values: tuple[pulumi.Input[str], ...] = (
            bucket.access_key,
            bucket.secret_key,
            self.passphrase,
        )
        secrets = dict(zip(SECRET_SETTINGS, values, strict=True))
        settings = {
            **rclone_settings(bucket.endpoint, bucket.bucket, job.prefix),
            "HOME": SNAPSHOT_DIR,
            "RCLONE_CACHE_DIR": f"{SNAPSHOT_DIR}/.cache",
        }
        upload_secret = BuiltinObject(
            secret_name,
            SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=job.namespace),
            type="Opaque",
            stringData=secrets,
            opts=after,
        )
        volume = {"name": "snapshot", "mountPath": SNAPSHOT_DIR}
        made: list[pulumi.Resource] = [upload_secret]
        if job.service_account is not None:
            made.append(
                BuiltinObject(
                    f"{job.name}-service-account",
                    SERVICE_ACCOUNT,
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=job.service_account, namespace=job.namespace
                    ),
                    opts=after,
                )
            )
        upload = {
            "name": "upload",
            "image": args.uploader_image,
            "command": ["/bin/sh", "-c", upload_script(snapshot.file, bucket.retention_days)],
            "env": [
                *({"name": key, "value": value} for key, value in sorted(settings.items())),
                *_environment(secret_name, sorted(secrets)),
            ],
            "volumeMounts": [volume],
            "securityContext": {
                **_LOCKED_DOWN,
                "runAsUser": snapshot.owner,
                "runAsNonRoot": snapshot.owner != 0,
            },
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        }
        take = dict(snapshot.take)
        take["volumeMounts"] = [volume, *take.get("volumeMounts", [])]
        pod: dict[str, Any] = {
            "restartPolicy": "OnFailure",
            "initContainers": [take],
            "containers": [upload],
            "volumes": [{"name": "snapshot", "emptyDir": {}}, *snapshot.pod.get("volumes", [])],
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            **{k: v for k, v in snapshot.pod.items() if k != "volumes"},
        }
        if job.service_account is not None:
            pod["serviceAccountName"] = job.service_account
        else:
            pod["automountServiceAccountToken"] = False
        BuiltinObject(
            job.name,
            CRON_JOB,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=job.name, namespace=job.namespace),
            spec={
                "schedule": job.schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": job.deadline_seconds,
                        "template": {"metadata": {"labels": {"app": job.name}}, "spec": pod},
                    }
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=made),
        )
