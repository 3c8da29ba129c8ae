"""The Kubernetes layer of a stack, on the cluster the cloud layer made, in dependency order:
cloud provider and storage, metadata guard, ingress, cert-manager, Vault, Argo CD, Qserv."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kubernetes.cert_manager import CertManager, CertManagerArgs, Rfc2136
from components.kubernetes.certificate import Certificate, CertificateArgs
from components.kubernetes.cloud_provider import CloudProvider, CloudProviderArgs
from components.kubernetes.ingress import ImageRef, Ingress, IngressArgs
from components.kubernetes.join_token import JoinToken, JoinTokenArgs
from components.kubernetes.metadata_guard import MetadataGuard, MetadataGuardArgs
from components.kubernetes.phalanx_bootstrap import (
    AppOfApps,
    Bootstrapped,
    PhalanxBootstrap,
    PhalanxBootstrapArgs,
)
from components.kubernetes.qserv import Qserv, QservArgs
from components.kubernetes.ready import ClusterAccess
from components.kubernetes.snapshots import (
    Bucket,
    Schedule,
    Snapshots,
    SnapshotsArgs,
    etcd_snapshot,
    vault_snapshot,
)
from components.kubernetes.vault import TLS_SECRET, Vault, VaultArgs
from components.openstack.kubeadm_cluster import KubeadmCluster
from infra.program.cloud_layer import BACKUP_CREDENTIAL, CloudLayer
from infra.program.mirror import chart, manifest
from infra.stack.clock import join_token_expiry, today
from infra.stack.deployment import Deployment
from infra.stack.phalanx import argocd_objects, argocd_values, vault_secrets_operator_values
from infra.versions import QSERV_OPERATOR_MANIFEST, pinned


@dataclass
class PlatformLayer:
    cloud_provider: CloudProvider
    ingress: Ingress
    cert_manager: CertManager
    vault: Vault
    phalanx: PhalanxBootstrap | None
    qserv: Qserv | None
    backups: Snapshots | None


# The main hostname's certificate: the controller's default, in the Secret phalanx's docs
# name for it (`ingress-nginx/ingress-certificate`).
INGRESS_NAMESPACE = "ingress-nginx"
MAIN_CERTIFICATE = "ingress-certificate"


def controller_image() -> ImageRef:
    reference = pinned("image/ingress-nginx-controller")
    reference, _, digest = reference.partition("@")
    path, _, tag = reference.rpartition(":")
    registry, _, image = path.partition("/")
    chroot_digest = pinned("image/ingress-nginx-controller-chroot").partition("@")[2]
    return ImageRef(registry, image, tag, digest=digest, chroot_digest=chroot_digest)


def images(d: Deployment) -> dict[str, tuple[str, str]]:
    """Every container image reference this stack sets: name -> (reference, where it is set)."""
    found = {
        "ingress-nginx controller": (
            pinned("image/ingress-nginx-controller"),
            "infra/versions.py (image/ingress-nginx-controller)",
        )
    }
    if d.config.backups.enabled:
        for name, pin in (
            ("etcd snapshot", "image/etcd"),
            ("Vault snapshot", "image/vault"),
            ("snapshot upload", "image/rclone"),
        ):
            found[name] = (pinned(pin), f"infra/versions.py ({pin})")
    if d.config.qserv.enabled:
        default = "the stack's {key}, or its default {pin} in infra/versions.py"
        found["Qserv"] = (
            d.config.qserv.image,
            default.format(key="qserv.image", pin="image/qserv"),
        )
        found["Qserv MariaDB"] = (
            d.config.qserv.db_image,
            default.format(key="qserv.dbImage", pin="image/qserv-db"),
        )
    return found


def tag_only_images(d: Deployment) -> list[str]:
    """Warnings for images pinned by a tag alone, which a registry can move."""
    return [
        f"{name} image {reference} is pinned by tag only: add its digest "
        f"(`{reference.split('@')[0]}@sha256:...`) in {where}"
        for name, (reference, where) in images(d).items()
        if "@sha256:" not in reference
    ]


def _label(label: str) -> tuple[str, str]:
    key, _, value = label.partition("=")
    return key, value


def build_phalanx_bootstrap(
    d: Deployment, on_cluster: pulumi.ResourceOptions, depends_on: list[pulumi.Resource]
) -> PhalanxBootstrap | None:
    """vault-secrets-operator, Argo CD and the app of apps, once Vault can be read."""
    cfg = d.config
    credentials = cfg.vault.read_credentials
    if credentials is None:
        pulumi.log.warn(
            "phalanx is not bootstrapped yet: vault-secrets-operator needs an AppRole that "
            f"reads {d.vault_url} ({d.vault_path_prefix}). Initialise Vault, run `phalanx "
            "secrets sync` and `phalanx vault create-read-approle`, then set "
            "ukdac:vault.readCredentials (docs/runbooks/phalanx.md)"
        )
        return None
    return PhalanxBootstrap(
        "phalanx",
        PhalanxBootstrapArgs(
            vault_secrets_operator=Bootstrapped(
                "vault-secrets-operator",
                "vault-secrets-operator",
                chart(cfg.mirror, "vault-secrets-operator"),
                vault_secrets_operator_values(d),
            ),
            role_id=pulumi.Output.secret(credentials.role_id.get_secret_value()),
            secret_id=pulumi.Output.secret(credentials.secret_id.get_secret_value()),
            argocd=Bootstrapped("argocd", "argocd", chart(cfg.mirror, "argo-cd"), argocd_values(d)),
            argocd_objects=argocd_objects(d),
            # Until December 2026 the app of apps was a child of an `ArgoCd` component.
            app_of_apps_aliases=[
                pulumi.Alias(
                    name=f"argocd-{cfg.phalanx.app_of_apps_name}",
                    parent=f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::"
                    "ukdac:kubernetes:ArgoCd::argocd",
                )
            ],
            app_of_apps=AppOfApps(
                name=cfg.phalanx.app_of_apps_name,
                repository=cfg.phalanx.repository,
                revision=cfg.phalanx.revision,
                environment=cfg.phalanx.environment,
                auto_sync=cfg.phalanx.auto_sync,
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=depends_on)
        ),
    )


# Vault's Kubernetes auth role the snapshot job logs in with (docs/runbooks/backups.md).
VAULT_SNAPSHOT_ROLE = "snapshot"


def build_backups(
    d: Deployment, cloud: CloudLayer, vault: Vault, on_cluster: pulumi.ResourceOptions
) -> Snapshots | None:
    """etcd's and Vault's snapshot schedules, with the passphrase that decrypts them."""
    cfg = d.config
    credential = cloud.object_store.extra_credentials.get(BACKUP_CREDENTIAL)
    if not cfg.backups.enabled or credential is None:
        return None
    (physical,) = [b.physical_name for b in d.buckets if b.name == cfg.backups.bucket]
    schedules = []
    if isinstance(cloud.cluster, KubeadmCluster):
        schedules.append(
            Schedule(
                name="etcd-snapshots",
                namespace="kube-system",
                schedule=cfg.backups.schedule,
                prefix="etcd",  # (infra/ops/backups.py PREFIXES)
                snapshot=etcd_snapshot(pinned("image/etcd")),
            )
        )
    else:
        pulumi.log.warn(
            "backups: Magnum runs etcd on its masters, out of ukdac's reach; only Vault is "
            "snapshotted (back etcd up through Magnum's operator)"
        )
    if cfg.vault.mode == "ha":
        snapshot = vault_snapshot(
            pinned("image/vault"), vault.active_address, TLS_SECRET, VAULT_SNAPSHOT_ROLE
        )
        schedules.append(
            Schedule(
                name="vault-snapshots",
                namespace=vault.namespace_name,
                schedule=cfg.backups.schedule,
                prefix="vault",  # (infra/ops/backups.py PREFIXES)
                snapshot=snapshot,
                service_account="vault-snapshot",
                depends_on=(vault.release,),
            )
        )
    else:
        pulumi.log.warn(
            f"backups: Vault in {cfg.vault.mode} mode keeps file storage, which has no "
            "snapshots; only vault.mode: ha (raft) is snapshotted (docs/runbooks/backups.md)"
        )
    return Snapshots(
        "backup",
        SnapshotsArgs(
            bucket=Bucket(
                endpoint=cfg.buckets.s3_endpoint,
                bucket=physical,
                access_key=pulumi.Output.secret(credential.access),
                secret_key=pulumi.Output.secret(credential.secret),
                retention_days=cfg.backups.retention_days,
            ),
            uploader_image=pinned("image/rclone"),
            schedules=tuple(schedules),
            protect=d.protect_stateful,
        ),
        opts=on_cluster,
    )


def build_platform_layer(d: Deployment, cloud: CloudLayer) -> PlatformLayer:
    cfg = d.config
    for warning in tag_only_images(d):
        pulumi.log.warn(warning)
    # The cluster the backend made, unless the stack names another (`cluster.kubeconfig`).
    override = cfg.cluster.kubeconfig
    access = ClusterAccess(
        "cluster-access",
        pulumi.Output.secret(override.get_secret_value())
        if override is not None
        else cloud.cluster.kubeconfig,
        existing=override is not None,
    )
    on_cluster = pulumi.ResourceOptions(providers=[access.provider])
    if isinstance(cloud.cluster, KubeadmCluster):
        JoinToken(
            "join-token",
            JoinTokenArgs(
                token_id=cloud.cluster.token_id,
                token_secret=cloud.cluster.token_secret,
                expires=join_token_expiry(today()),
            ),
            opts=on_cluster,
        )

    storage = CloudProvider(
        "cloud-provider",
        CloudProviderArgs(
            cluster_name=d.names.cluster,
            cloud_conf=cloud.credentials.cloud_conf,
            cinder_csi_chart=chart(cfg.mirror, "openstack-cinder-csi"),
            occm_chart=(
                chart(cfg.mirror, "openstack-cloud-controller-manager")
                if cfg.cluster.backend == "kubeadm"
                else None
            ),
        ),
        opts=on_cluster,
    )
    MetadataGuard("metadata-guard", MetadataGuardArgs(cni=cfg.cluster.cni), opts=on_cluster)
    ingress = Ingress(
        "ingress",
        IngressArgs(
            chart=chart(cfg.mirror, "ingress-nginx"),
            image=controller_image(),
            public_address=cloud.cluster.floating_ip,
            namespace=INGRESS_NAMESPACE,
            default_certificate=f"{INGRESS_NAMESPACE}/{MAIN_CERTIFICATE}",
            proxy_protocol=cfg.cluster.endpoint == "loadbalancer",
            # Magnum's nodes carry no floating IP: the cloud controller's balancer does.
            exposure="service" if cfg.cluster.backend == "magnum" else "host-ports",
        ),
        opts=on_cluster,
    )
    dns01 = cfg.tls.dns01
    certs = CertManager(
        "cert-manager",
        CertManagerArgs(
            chart=chart(cfg.mirror, "cert-manager"),
            chosen_issuer=cfg.tls.issuer,
            ingress_class=ingress.class_name,
            acme_email=cfg.tls.acme_email,
            dns01=(
                Rfc2136(
                    dns01.nameserver,
                    dns01.tsig_key_name,
                    dns01.tsig_algorithm,
                    pulumi.Output.secret(dns01.tsig_secret.get_secret_value()),
                )
                if dns01
                else None
            ),
        ),
        opts=on_cluster,
    )
    storage_class = (
        storage.retain_storage_class if d.protect_stateful else storage.default_storage_class
    )
    vault = Vault(
        "vault",
        VaultArgs(
            chart=chart(cfg.mirror, "vault"),
            mode=cfg.vault.mode,
            hostname=d.hostnames.vault,
            issuer=certs.issuer,
            ingress_class=ingress.class_name,
            storage_class=storage_class,
            protect=d.protect_stateful,
            allowed_cidrs=d.vault_allowed_cidrs,
        ),
        depends_on=[certs.release],
        opts=on_cluster,
    )
    Certificate(
        "main-certificate",
        CertificateArgs(
            namespace=INGRESS_NAMESPACE,
            secret_name=MAIN_CERTIFICATE,
            dns_names=(d.hostnames.rsp,),
            issuer=certs.issuer,
        ),
        opts=pulumi.ResourceOptions.merge(
            on_cluster,
            pulumi.ResourceOptions(
                depends_on=[certs.release, *certs.issuers.values(), ingress.release]
            ),
        ),
    )
    phalanx = build_phalanx_bootstrap(
        d, on_cluster, depends_on=[certs.release, *certs.issuers.values(), ingress.release]
    )
    qserv = None
    if cfg.qserv.enabled:
        qserv = Qserv(
            "qserv",
            QservArgs(
                operator_manifest=manifest(
                    cfg.mirror, QSERV_OPERATOR_MANIFEST.format(commit=pinned("qserv-operator"))
                ),
                image=cfg.qserv.image,
                db_image=cfg.qserv.db_image,
                storage_class=storage_class,
                czar_replicas=cfg.qserv.czar.replicas,
                czar_storage=cfg.qserv.czar.storage,
                worker_replicas=cfg.qserv.worker.replicas,
                worker_storage=cfg.qserv.worker.storage,
                services_storage=cfg.qserv.storage,
                preferred_nodes=cloud.cluster.node_selector(*_label(cfg.qserv.ingest_node_label)),
                protect=d.protect_stateful,
            ),
            depends_on=[certs.release, *certs.issuers.values(), *storage.classes],
            opts=on_cluster,
        )
    backups = build_backups(d, cloud, vault, on_cluster)
    return PlatformLayer(storage, ingress, certs, vault, phalanx, qserv, backups)
