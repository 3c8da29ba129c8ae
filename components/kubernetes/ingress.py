"""ingress-nginx on the control-plane nodes, behind the floating IP, as the RSP expects it.

No LoadBalancer Service: the controller's pods bind host ports 80 and 443 on the
control-plane nodes, and the floating IP on control plane 0 is the entry. The settings are those the
Rubin Science Platform's charts rely on (snippet annotations and the `@autherror` location
for Gafaelfawr, large headers and bodies, SSL redirect). `use-forwarded-headers` stays off:
this controller is the edge, so a client's own X-Forwarded-For must not be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kubernetes.helm import ChartRef, release
from components.kubernetes.nginx_auth_errors import server_snippet

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


@dataclass(frozen=True)
class ImageRef:
    registry: str
    image: str
    tag: str
    digest: str = ""


@dataclass(frozen=True)
class IngressArgs:
    chart: ChartRef
    image: ImageRef
    public_address: pulumi.Input[str]
    namespace: str = "ingress-nginx"
    class_name: str = "nginx"


def controller_values(args: IngressArgs, public_address: str) -> dict[str, object]:
    image = {"registry": args.image.registry, "image": args.image.image, "tag": args.image.tag}
    image["digest"] = args.image.digest
    return {
        "controller": {
            "kind": "DaemonSet",
            # Host ports, not host networking: backends see a pod address, which phalanx's
            # NetworkPolicies admit by the pod's `gafaelfawr.lsst.io/ingress` label, and the
            # pods stay inside the metadata guard.
            "hostNetwork": False,
            "hostPort": {"enabled": True, "ports": {"http": 80, "https": 443}},
            "nodeSelector": {CONTROL_PLANE: "", "kubernetes.io/os": "linux"},
            "tolerations": [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}],
            "service": {"enabled": False},
            "publishService": {"enabled": False},
            "extraArgs": {"publish-status-address": public_address},
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
                "proxy-body-size": "2g",  # phalanx's figure: TAP table uploads
                "ssl-redirect": "true",
                "server-snippet": server_snippet(),
            },
            # The RSP's figures. A memory limit guards the control plane it shares; no CPU
            # limit, as the chart advises (throttling stalls every request through the edge).
            "resources": {
                "requests": {"cpu": "80m", "memory": "500Mi"},
                "limits": {"memory": "5Gi"},
            },
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
