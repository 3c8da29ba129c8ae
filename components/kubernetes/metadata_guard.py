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


# Calico: a tier of its own, evaluated before the default tier where Kubernetes
# NetworkPolicies live. Its one policy denies the metadata address; everything else meets
# the tier's default action, Pass, and goes on to the default tier's policies unchanged.
TIER = "metadata-guard"
TIER_ORDER = 100


def tier() -> tuple[str, str, str, dict[str, Any]]:
    """(apiVersion, kind, name, spec) of the Calico tier ahead of the default tier."""
    return (
        "crd.projectcalico.org/v1",
        "Tier",
        TIER,
        {"order": TIER_ORDER, "defaultAction": "Pass"},
    )


def policy(args: MetadataGuardArgs) -> tuple[str, str, str, dict[str, Any]]:
    """(apiVersion, kind, name, spec) of the CNI's cluster-wide egress deny."""
    if args.cni == "calico":
        exempt = ", ".join(f"'{n}'" for n in args.exempt_namespaces)
        return (
            "crd.projectcalico.org/v1",
            "GlobalNetworkPolicy",
            f"{TIER}.deny-metadata-service",
            {
                "tier": TIER,
                "order": 10,
                "namespaceSelector": f"projectcalico.org/name not in {{{exempt}}}",
                "types": ["Egress"],
                "egress": [{"action": "Deny", "destination": {"nets": [METADATA]}}],
            },
        )
    return (
        "cilium.io/v2",
        "CiliumClusterwideNetworkPolicy",
        "deny-metadata-service",
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
            # A deny-only policy must not switch its pods to default-deny egress (no DNS).
            "enableDefaultDeny": {"egress": False, "ingress": False},
        },
    )


class MetadataGuard(pulumi.ComponentResource):
    """A cluster-wide policy in the CNI's own API (plain NetworkPolicy cannot deny by CIDR),
    which leaves every other policy in force: Calico's in a tier of its own that passes the
    rest on, Cilium's without default-deny."""

    def __init__(
        self, name: str, args: MetadataGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:MetadataGuard", name, None, opts)
        depends: list[pulumi.Resource] = []
        if args.cni == "calico":
            api_version, kind, tier_name, spec = tier()
            self.tier = k8s.apiextensions.CustomResource(
                f"{name}-tier",
                api_version=api_version,
                kind=kind,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=tier_name),
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self),
            )
            depends.append(self.tier)
        api_version, kind, policy_name, spec = policy(args)
        self.policy = k8s.apiextensions.CustomResource(
            f"{name}-deny-metadata",
            api_version=api_version,
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=policy_name),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )
        self.register_outputs({})
