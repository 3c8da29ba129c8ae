"""HashiCorp Vault, the secrets store phalanx reads: dev, standalone or HA with raft.

Outside dev mode Vault speaks only TLS, on its listener and between raft peers, with a
certificate from a CA of its own (cert-manager: a self-signed issuer makes the CA, the CA's
issuer signs the server certificate); the ingress verifies Vault against that CA. Vault
reads its certificate at start and on SIGHUP only, so the server certificate lives a year
and the renewal runbook restarts the pods (docs/runbooks/vault.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import NAMESPACE, BuiltinObject
from components.kubernetes.helm import ChartRef, release

TLS_SECRET = "vault-server-tls"  # noqa: S105 (a Secret object's name)
CA_SECRET = "vault-ca"  # noqa: S105 (a Secret object's name)
TLS_DIR = f"/vault/userconfig/{TLS_SECRET}"
# The name the ingress checks Vault's certificate against.
SERVICE_NAME = "vault.{namespace}.svc"

# The TCP listener of a server-mode Vault: TLS only, from the mounted certificate. (Dev mode
# runs the chart's own in-memory server and takes no listener from here.)
LISTENER = f"""listener "tcp" {{
  tls_cert_file = "{TLS_DIR}/tls.crt"
  tls_key_file = "{TLS_DIR}/tls.key"
  tls_min_version = "tls12"
  address = "[::]:8200"
  cluster_address = "[::]:8201"
}}
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
    """Raft storage whose peers join each other over TLS, trusting Vault's own CA."""
    peers = (f"https://{release_name}-{i}.{release_name}-internal:8200" for i in range(replicas))
    joins = "".join(
        f'  retry_join {{\n    leader_api_addr = "{peer}"\n'
        f'    leader_ca_cert_file = "{TLS_DIR}/ca.crt"\n  }}\n'
        for peer in peers
    )
    return (
        f'ui = true\n{LISTENER}storage "raft" {{\n  path = "/vault/data"\n{joins}}}\n'
        'service_registration "kubernetes" {}\n'
    )


def server_names(namespace: str, replicas: int, release_name: str = "vault") -> list[str]:
    """Every name Vault is reached by: its Services, each pod behind the headless one."""
    services = [release_name, f"{release_name}-active", f"{release_name}-standby"]
    names = [
        name
        for service in services
        for name in (
            service,
            f"{service}.{namespace}",
            f"{service}.{namespace}.svc",
            f"{service}.{namespace}.svc.cluster.local",
        )
    ]
    internal = f"{release_name}-internal"
    names += [
        f"*.{internal}",
        f"*.{internal}.{namespace}.svc",
        f"*.{internal}.{namespace}.svc.cluster.local",
    ]
    names += [f"{release_name}-{i}.{internal}" for i in range(replicas)]
    return names


def tls_objects(namespace: str, replicas: int) -> list[dict[str, Any]]:
    """Vault's CA and server certificate, as cert-manager objects in Vault's namespace."""
    selfsigned, ca_issuer = "vault-selfsigned", "vault-ca"
    return [
        _object("Issuer", selfsigned, namespace, {"selfSigned": {}}),
        _object(
            "Certificate",
            CA_SECRET,
            namespace,
            {
                "isCA": True,
                "commonName": "Vault CA",
                "secretName": CA_SECRET,
                "duration": "87600h",  # ten years; the server certificate is what rotates
                "privateKey": {"algorithm": "ECDSA", "size": 256},
                "issuerRef": {"kind": "Issuer", "name": selfsigned},
            },
        ),
        _object("Issuer", ca_issuer, namespace, {"ca": {"secretName": CA_SECRET}}),
        _object(
            "Certificate",
            TLS_SECRET,
            namespace,
            {
                "secretName": TLS_SECRET,
                "commonName": SERVICE_NAME.format(namespace=namespace),
                "dnsNames": server_names(namespace, replicas),
                "ipAddresses": ["127.0.0.1"],  # the vault CLI inside each pod
                "duration": "8760h",
                "renewBefore": "720h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "usages": ["server auth", "digital signature", "key encipherment"],
                "issuerRef": {"kind": "Issuer", "name": ca_issuer},
            },
        ),
    ]


def _object(kind: str, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _allow_list(cidrs: tuple[str, ...]) -> dict[str, str]:
    """ingress-nginx's source allow-list (and its older name, which some controllers read)."""
    if not cidrs:
        return {}
    ranges = ",".join(cidrs)
    return {
        "nginx.ingress.kubernetes.io/allowlist-source-range": ranges,
        "nginx.ingress.kubernetes.io/whitelist-source-range": ranges,
    }


def _backend_tls(namespace: str) -> dict[str, str]:
    """ingress-nginx speaks TLS to Vault and verifies it against Vault's CA."""
    return {
        "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
        "nginx.ingress.kubernetes.io/proxy-ssl-secret": f"{namespace}/{TLS_SECRET}",
        "nginx.ingress.kubernetes.io/proxy-ssl-verify": "on",
        "nginx.ingress.kubernetes.io/proxy-ssl-name": SERVICE_NAME.format(namespace=namespace),
        "nginx.ingress.kubernetes.io/proxy-ssl-server-name": "on",
    }


def uses_tls(mode: str) -> bool:
    """Every mode but dev (a sandbox's in-memory Vault, never published)."""
    return mode != "dev"


def vault_values(args: VaultArgs) -> dict[str, Any]:
    """Chart values for the mode; the UI is on and served at `hostname` with TLS."""
    tls = uses_tls(args.mode)
    server: dict[str, Any] = {
        "ingress": {
            "enabled": True,
            "ingressClassName": args.ingress_class,
            "annotations": {
                "cert-manager.io/cluster-issuer": args.issuer,
                **_allow_list(args.allowed_cidrs),
                **(_backend_tls(args.namespace) if tls else {}),
            },
            "hosts": [{"host": args.hostname, "paths": []}],
            "tls": [{"secretName": "vault-tls", "hosts": [args.hostname]}],
        }
    }
    if tls:
        server["extraEnvironmentVars"] = {"VAULT_CACERT": f"{TLS_DIR}/ca.crt"}
        server["volumes"] = [{"name": TLS_SECRET, "secret": {"secretName": TLS_SECRET}}]
        server["volumeMounts"] = [{"name": TLS_SECRET, "mountPath": TLS_DIR, "readOnly": True}]
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
    return {
        "global": {"tlsDisable": not tls},
        "injector": {"enabled": False},
        "ui": {"enabled": True},
        "server": server,
    }


class Vault(pulumi.ComponentResource):
    """The `vault` release; `url` is where phalanx finds it."""

    url: str

    def __init__(
        self,
        name: str,
        args: VaultArgs,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`depends_on`: what installs cert-manager's CRDs and controller."""
        super().__init__("ukdac:kubernetes:Vault", name, None, opts)
        # The namespace first: the certificates must exist before the pods that mount them.
        self.namespace = BuiltinObject(
            f"{name}-namespace",
            NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect or None
            ),
        )
        self.tls = [
            k8s.apiextensions.CustomResource(
                f"{name}-{obj['kind'].lower()}-{obj['metadata']['name']}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=k8s.meta.v1.ObjectMetaArgs(**obj["metadata"]),
                spec=obj["spec"],
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.namespace, *(depends_on or [])]
                ),
            )
            for obj in (tls_objects(args.namespace, args.replicas) if uses_tls(args.mode) else [])
        ]
        self.release = release(
            "vault",
            args.chart,
            args.namespace,
            vault_values(args),
            parent=self,
            depends_on=[self.namespace, *self.tls],
            protect=args.protect,
        )
        self.url = f"https://{args.hostname}"
        self.namespace_name = args.namespace
        # The active node, inside the cluster, by a name in its certificate (raft only).
        self.active_address = f"https://vault-active.{args.namespace}.svc:8200"
        self.register_outputs({"url": self.url})
