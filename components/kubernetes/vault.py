"""HashiCorp Vault, the secrets store phalanx reads: dev, standalone or HA with raft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from components.kubernetes.helm import ChartRef, release

LISTENER = """listener "tcp" {
  tls_disable     = 1
  address         = "[::]:8200"
  cluster_address = "[::]:8201"
}
"""


@dataclass(frozen=True)
class VaultArgs:
    chart: ChartRef
    mode: Literal["dev", "standalone", "ha"]
    hostname: str
    issuer: str
    ingress_class: str
    storage_class: str
    storage_size: str = "10Gi"
    replicas: int = 3
    namespace: str = "vault"
    protect: bool = False
    # Source ranges the ingress admits (ingress-nginx allow-list); empty admits everyone.
    allowed_cidrs: tuple[str, ...] = ()


def raft_config(replicas: int, release_name: str = "vault") -> str:
    peers = (f"http://{release_name}-{i}.{release_name}-internal:8200" for i in range(replicas))
    joins = "".join(f'  retry_join {{\n    leader_api_addr = "{peer}"\n  }}\n' for peer in peers)
    return (
        f'ui = true\n{LISTENER}storage "raft" {{\n  path = "/vault/data"\n{joins}}}\n'
        'service_registration "kubernetes" {}\n'
    )


def _allow_list(cidrs: tuple[str, ...]) -> dict[str, str]:
    """ingress-nginx's source allow-list (and its older name, which some controllers read)."""
    if not cidrs:
        return {}
    ranges = ",".join(cidrs)
    return {
        "nginx.ingress.kubernetes.io/allowlist-source-range": ranges,
        "nginx.ingress.kubernetes.io/whitelist-source-range": ranges,
    }


def vault_values(args: VaultArgs) -> dict[str, Any]:
    """Chart values for the mode; the UI is on and served at `hostname` with TLS."""
    server: dict[str, Any] = {
        "ingress": {
            "enabled": True,
            "ingressClassName": args.ingress_class,
            "annotations": {
                "cert-manager.io/cluster-issuer": args.issuer,
                **_allow_list(args.allowed_cidrs),
            },
            "hosts": [{"host": args.hostname, "paths": []}],
            "tls": [{"secretName": "vault-tls", "hosts": [args.hostname]}],
        }
    }
    if args.mode == "dev":
        server["dev"] = {"enabled": True}
        server["dataStorage"] = {"enabled": False}
    else:
        server["dataStorage"] = {
            "enabled": True,
            "size": args.storage_size,
            "storageClass": args.storage_class,
        }
        if args.mode == "standalone":
            server["standalone"] = {
                "enabled": True,
                "config": f'ui = true\n{LISTENER}storage "file" {{\n  path = "/vault/data"\n}}\n',
            }
        else:
            server["ha"] = {
                "enabled": True,
                "replicas": args.replicas,
                "raft": {"enabled": True, "setNodeId": True, "config": raft_config(args.replicas)},
            }
    return {"injector": {"enabled": False}, "ui": {"enabled": True}, "server": server}


class Vault(pulumi.ComponentResource):
    """The `vault` release; `url` is where phalanx finds it."""

    url: str

    def __init__(
        self, name: str, args: VaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:Vault", name, None, opts)
        self.release = release(
            "vault",
            args.chart,
            args.namespace,
            vault_values(args),
            parent=self,
            protect=args.protect,
        )
        self.url = f"https://{args.hostname}"
        self.register_outputs({"url": self.url})
