"""ingress-nginx on the control-plane nodes, behind the floating IP, as the RSP expects it.

No LoadBalancer Service: the controller's pods bind host ports 80 and 443 on the
control-plane nodes, and the floating IP on control plane 0 is the entry. The settings are
phalanx's own (`applications/ingress-nginx/values.yaml`: snippet annotations and the
`@autherror` location for Gafaelfawr, large headers and bodies, SSL redirect, the pod labels
its NetworkPolicies admit), except where `DIFFERENCES_FROM_PHALANX` says why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.kubernetes.control_planes import CONTROL_PLANE_LABEL, CONTROL_PLANE_TOLERATION
from components.kubernetes.helm import ChartRef, release
from components.kubernetes.nginx_auth_errors import server_snippet


@dataclass(frozen=True)
class ImageRef:
    registry: str
    image: str
    tag: str
    digest: str = ""
    chroot_digest: str = ""  # of the `-chroot` variant, which the chart picks with `chroot`


@dataclass(frozen=True)
class IngressArgs:
    chart: ChartRef
    image: ImageRef
    public_address: pulumi.Input[str]
    namespace: str = "ingress-nginx"
    class_name: str = "nginx"
    # `namespace/secret` of the certificate for hosts whose Ingresses name none.
    default_certificate: str | None = None
    # Behind a load balancer that passes the client's address by the PROXY protocol.
    proxy_protocol: bool = False
    # How visitors arrive: host ports on the control planes (ukdac's own entry: a floating
    # IP or its balancer in front), or a LoadBalancer Service the cloud controller makes
    # (Magnum, whose nodes have no floating IP), as phalanx's default installs it.
    exposure: Literal["host-ports", "service"] = "host-ports"


# Where the controller's values differ from phalanx's (dotted paths under
# `ingress-nginx.controller`; a path also covers the keys below it), and why.
DIFFERENCES_FROM_PHALANX: dict[str, str] = {
    "kind": "a DaemonSet, one controller on each control plane (phalanx's default is a "
    "Deployment behind a cloud load balancer)",
    "hostNetwork": "said explicitly: host ports, not host networking, so backends see a pod "
    "address that phalanx's NetworkPolicies admit",
    "hostPort": "the entry is host ports 80/443 on the control planes, behind the floating IP",
    "nodeSelector": "the control planes carry the floating IP, so the controller runs there",
    "tolerations": "the control planes' NoSchedule taint instead of GKE's architecture taints",
    "service": "no Service: there is no cloud load balancer in front, and host ports keep "
    "the client's address (what externalTrafficPolicy Local gives phalanx)",
    "publishService": "no Service to publish",
    "extraArgs.publish-status-address": "Ingress status shows the floating IP instead",
    "extraArgs.default-ssl-certificate": "the main hostname's Certificate, so every Ingress "
    "on it has TLS (phalanx sets the same flag in environments with a default certificate)",
    "ingressClass": "said explicitly, the class every phalanx Ingress names",
    "ingressClassResource": "the `nginx` IngressClass is created and is the cluster default",
    "resources.limits.cpu": "no CPU limit, as the ingress-nginx chart advises: throttling "
    "stalls every request through the edge; the request's CPU share already protects the "
    "control-plane components beside it under contention",
    "config.use-forwarded-headers": "off: this controller is the edge, so a client's own "
    "X-Forwarded-For must not be trusted (phalanx's controllers sit behind load balancers)",
    "config.use-proxy-protocol": "behind ukdac's Octavia balancer (cluster.endpoint: "
    "loadbalancer) the client's address arrives by PROXY protocol, which source-range "
    "allow-lists (Vault's) and logs need; phalanx's cloud balancers keep it otherwise",
}


def _exposure(args: IngressArgs, public_address: str) -> tuple[dict[str, object], dict[str, str]]:
    """The keys that say where the controller runs and how it is reached, and its flags."""
    if args.exposure == "service":
        service = {
            "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
            "publishService": {"enabled": True},
        }
        return service, {}
    keys: dict[str, object] = {
        "kind": "DaemonSet",
        # Host ports, not host networking: backends see a pod address, which phalanx's
        # NetworkPolicies admit by the pod's `gafaelfawr.lsst.io/ingress` label, and the
        # pods stay inside the metadata guard.
        "hostNetwork": False,
        "hostPort": {"enabled": True, "ports": {"http": 80, "https": 443}},
        "nodeSelector": {CONTROL_PLANE_LABEL: "", "kubernetes.io/os": "linux"},
        "tolerations": [CONTROL_PLANE_TOLERATION],
        "service": {"enabled": False},
        "publishService": {"enabled": False},
    }
    return keys, {"publish-status-address": public_address}


def controller_values(args: IngressArgs, public_address: str) -> dict[str, object]:
    image = {
        "registry": args.image.registry,
        "image": args.image.image,
        "tag": args.image.tag,
        "digest": args.image.digest,
        "digestChroot": args.image.chroot_digest,
        "pullPolicy": "IfNotPresent",
    }
    exposure, flags = _exposure(args, public_address)
    extra_args = {
        **flags,
        **(
            {"default-ssl-certificate": args.default_certificate}
            if args.default_certificate
            else {}
        ),
    }
    return {
        "controller": {
            **exposure,
            "extraArgs": extra_args,
            "ingressClass": args.class_name,
            "ingressClassResource": {"name": args.class_name, "enabled": True, "default": True},
            "allowSnippetAnnotations": True,
            "image": image,
            "config": {
                "annotations-risk-level": "Critical",
                "compute-full-forwarded-for": "true",
                "use-forwarded-headers": "false",
                "large-client-header-buffers": "4 64k",
                "proxy-buffer-size": "64k",
                "proxy-busy-buffers-size": "64k",  # at least proxy-buffer-size
                "proxy-body-size": "2g",  # phalanx's figure: TAP table uploads
                "ssl-redirect": "true",
                "server-snippet": server_snippet(),
                **({"use-proxy-protocol": "true"} if args.proxy_protocol else {}),
            },
            # phalanx's figures but no CPU limit (see DIFFERENCES_FROM_PHALANX).
            "resources": {
                "requests": {"cpu": "80m", "memory": "500Mi"},
                "limits": {"memory": "5Gi"},
            },
            "metrics": {"enabled": True},
            "podLabels": {
                "gafaelfawr.lsst.io/ingress": "true",
                "hub.jupyter.org/network-access-proxy-http": "true",
            },
        }
    }


class Ingress(pulumi.ComponentResource):
    """The `ingress-nginx` release; its IngressClass is the cluster default."""

    class_name: str

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:Ingress", name, None, opts)
        values = pulumi.Output.from_input(args.public_address).apply(
            lambda address: controller_values(args, address)
        )
        self.release = release("ingress-nginx", args.chart, args.namespace, values, parent=self)
        self.class_name = args.class_name
        self.register_outputs({"className": args.class_name})
