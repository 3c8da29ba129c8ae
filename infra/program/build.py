"""The UKDAC program: wires the layers for one validated stack and exports their outputs."""

from __future__ import annotations

import pulumi

from infra.program.allowances import Allowances
from infra.program.cloud_layer import build_cloud_layer
from infra.program.platform_layer import build_platform_layer
from infra.stack.deployment import Deployment
from infra.stack.phalanx import application_values, environment_values


def build(d: Deployment) -> None:
    """Declare every resource of the stack `d` describes and export its outputs."""
    allowances = Allowances(d.config.allow)
    _build(d)
    allowances.report()


def _build(d: Deployment) -> None:
    cfg = d.config
    cloud = build_cloud_layer(d)

    pulumi.export("environment", cfg.environment)
    pulumi.export("fqdn", d.hostnames.rsp)
    pulumi.export(
        "hostnames",
        {"rsp": d.hostnames.rsp, "vault": d.hostnames.vault},
    )
    pulumi.export("vaultUrl", d.vault_url)
    pulumi.export("vaultPathPrefix", d.vault_path_prefix)
    pulumi.export("networkId", cloud.network.network_id)
    pulumi.export("subnetId", cloud.network.subnet_id)
    pulumi.export("routerId", cloud.network.router_id)
    pulumi.export("clusterBackend", cfg.cluster.backend)
    pulumi.export("controlPlaneIp", cloud.cluster.floating_ip)
    pulumi.export("apiUrl", cloud.cluster.api_url)
    pulumi.export("kubeconfig", cloud.cluster.kubeconfig)
    pulumi.export("nodes", cloud.cluster.nodes)
    pulumi.export("buckets", cloud.object_store.bucket_names)
    pulumi.export("s3Endpoint", cloud.object_store.s3_endpoint)
    pulumi.export("s3AccessKey", cloud.object_store.access_key)
    pulumi.export("s3SecretKey", cloud.object_store.secret_key)
    pulumi.export("applicationCredentialId", cloud.credentials.credential_id)
    pulumi.export("cloudConf", cloud.credentials.cloud_conf)
    pulumi.export("layers", cfg.layers)
    pulumi.export("phalanxEnvironment", environment_values(d))
    pulumi.export("phalanxApplications", application_values(d))
    if cfg.layers == "cloud":
        return  # staged bring-up: the cluster exists, nothing is declared on it yet
    platform = build_platform_layer(d, cloud)
    pulumi.export("defaultStorageClass", platform.cloud_provider.default_storage_class)
    pulumi.export("ingressClass", platform.ingress.class_name)
    pulumi.export("clusterIssuer", platform.cert_manager.issuer)
    pulumi.export("argocdUrl", d.hostnames.argocd_url)
    pulumi.export("phalanxBootstrapped", platform.phalanx is not None)
    if platform.backups is not None:
        # Keep it outside this stack's state too: without it no snapshot restores.
        pulumi.export("backupPassphrase", platform.backups.passphrase)
        # Where the snapshots are, and keys that read them (`ukdac backups env`).
        pulumi.export("backupStore", platform.backups.store)
        pulumi.export("backupKeys", platform.backups.keys)
