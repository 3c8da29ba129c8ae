"""The UKDAC program: wires the components for one validated stack, in dependency order."""

from __future__ import annotations

import pulumi
import pulumi_openstack as openstack

from components.openstack.network import Network, NetworkArgs
from infra.deployment import Deployment


def build(d: Deployment) -> None:
    """Declare every resource of the stack `d` describes and export its outputs."""
    cfg = d.config
    cloud = openstack.Provider("openstack", cloud=cfg.cloud.name, region=cfg.cloud.region)
    on_cloud = pulumi.ResourceOptions(providers=[cloud])
    external = openstack.networking.get_network_output(
        name=cfg.cloud.external_network,
        external=True,
        opts=pulumi.InvokeOutputOptions(provider=cloud),
    )
    network = Network(
        "network",
        NetworkArgs(
            name_prefix=d.prefix,
            cidr=str(cfg.network.node_cidr),
            dns_nameservers=tuple(str(ip) for ip in cfg.cloud.dns_nameservers),
            external_network_id=external.id,
            tags=(f"ukdac-stack={d.stack}",),
        ),
        opts=on_cloud,
    )

    pulumi.export("environment", cfg.environment)
    pulumi.export("fqdn", d.hostnames.rsp)
    pulumi.export(
        "hostnames",
        {"rsp": d.hostnames.rsp, "vault": d.hostnames.vault, "argocd": d.hostnames.argocd},
    )
    pulumi.export("vaultUrl", d.vault_url)
    pulumi.export("vaultPathPrefix", d.vault_path_prefix)
    pulumi.export("networkId", network.network_id)
    pulumi.export("subnetId", network.subnet_id)
    pulumi.export("routerId", network.router_id)
