"""Keep pods away from the metadata service, which serves user data holding cluster secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

METADATA = "169.254.169.254/32"


@dataclass(frozen=True)
class MetadataGuardArgs:
    cni: Literal["calico", "cilium"]
    exempt_namespaces: tuple[str, ...] = ("kube-system", "calico-system", "tigera-operator")


def policy(args: MetadataGuardArgs) -> tuple[str, str, dict[str, Any]]:
    """(apiVersion, kind, spec) of the CNI's cluster-wide egress deny."""
    if args.cni == "calico":
        exempt = ", ".join(f"'{n}'" for n in args.exempt_namespaces)
        return (
            "crd.projectcalico.org/v1",
            "GlobalNetworkPolicy",
            {
                "order": 10,
                "namespaceSelector": f"projectcalico.org/name not in {{{exempt}}}",
                "types": ["Egress"],
                "egress": [
                    {"action": "Deny", "destination": {"nets": [METADATA]}},
                    {"action": "Pass"},
                ],
            },
        )
    return (
        "cilium.io/v2",
        "CiliumClusterwideNetworkPolicy",
        {
            "endpointSelector": {
                "matchExpressions": [
                    {
                        "key": "k8s:io.kubernetes.pod.namespace",
                        "operator": "NotIn",
                        "values": list(args.exempt_namespaces),
                    }
                ]
            },
            "egressDeny": [{"toCIDR": [METADATA]}],
        },
    )


class MetadataGuard(pulumi.ComponentResource):
    """One cluster-wide policy in the CNI's own API (plain NetworkPolicy cannot deny by CIDR)."""

    def __init__(
        self, name: str, args: MetadataGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:MetadataGuard", name, None, opts)
        api_version, kind, spec = policy(args)
        self.policy = k8s.apiextensions.CustomResource(
            f"{name}-deny-metadata",
            api_version=api_version,
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(name="deny-metadata-service"),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
