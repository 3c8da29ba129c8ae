"""A program that breaks every policy the engine can check, or none (config `broken`).

The policy tier previews it with the pack: each broken rule must refuse the preview. The
OpenStack resources are real (the provider checks them against the test cloud); the
Kubernetes kinds are components of the same type tokens, since the engine tier has no
Kubernetes provider (the policies read only their type and properties).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_openstack as openstack

config = pulumi.Config()
broken = config.require_bool("broken")
cloud = openstack.Provider("cloud", cloud=config.require("cloud"))
on_cloud = pulumi.ResourceOptions(provider=cloud)


class Kind(pulumi.ComponentResource):
    """An object of a Kubernetes kind: its type token and properties, nothing applied."""

    def __init__(self, type_: str, name: str, props: dict[str, Any], protect: bool = False) -> None:
        super().__init__(type_, name, props, pulumi.ResourceOptions(protect=protect))
        self.register_outputs(props)


group = openstack.networking.SecGroup("web", name="violations-web", opts=on_cloud)
for name, port, source in (
    # world-ingress-only-http-https: SSH from anywhere (also ssh-and-api-from-admins)
    ("ssh", 22, "0.0.0.0/0" if broken else "129.215.0.0/16"),
    # ssh-and-api-from-admins: the API from a range that is not the admins'
    ("api", 6443, "10.0.0.0/8" if broken else "129.215.0.0/16"),
):
    openstack.networking.SecGroupRule(
        name,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=port,
        port_range_max=port,
        remote_ip_prefix=source,
        security_group_id=group.id,
        opts=on_cloud,
    )
# prod-stateful-protected: a prod bucket without protect
openstack.objectstorage.Container(
    "data",
    name="violations-data",
    opts=pulumi.ResourceOptions(provider=cloud, protect=not broken),
)
# vault-dev-only-in-sandbox, charts-pinned: Vault in dev mode from a floating chart version
Kind(
    "kubernetes:helm.sh/v3:Release",
    "vault",
    {
        "chart": "vault",
        "version": "~0.34" if broken else "0.34.1",
        "repositoryOpts": {"repo": "https://helm.releases.hashicorp.com"},
        "values": {"server": {"dev": {"enabled": broken}}},
    },
    protect=True,  # prod's Vault holds data
)
# prod-real-certificates: the staging ACME server behind prod's issuer name
Kind(
    "kubernetes:cert-manager.io/v1:ClusterIssuer",
    "letsencrypt",
    {
        "metadata": {"name": "letsencrypt"},
        "spec": {
            "acme": {
                "server": "https://acme-staging-v02.api.letsencrypt.org/directory"
                if broken
                else "https://acme-v02.api.letsencrypt.org/directory"
            }
        },
    },
)
# prod-no-auto-sync: an Argo CD Application that syncs by itself
Kind(
    "kubernetes:argoproj.io/v1alpha1:Application",
    "app",
    {"spec": {"syncPolicy": {"automated": {"prune": True}} if broken else {}}},
)
