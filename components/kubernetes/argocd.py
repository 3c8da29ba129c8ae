"""Argo CD and the phalanx app of apps: the point where phalanx takes over the cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm import ChartRef, release


@dataclass(frozen=True)
class AppOfApps:
    """The Application that deploys a phalanx environment from a fork at a revision."""

    name: str
    repository: str
    revision: str
    environment: str
    auto_sync: bool


@dataclass(frozen=True)
class ArgoCdArgs:
    chart: ChartRef
    hostname: str
    issuer: str
    ingress_class: str
    app_of_apps: AppOfApps
    namespace: str = "argocd"


def argocd_values(args: ArgoCdArgs) -> dict[str, Any]:
    """TLS ends at the ingress, so the server itself runs plain HTTP (`server.insecure`)."""
    return {
        "global": {"domain": args.hostname},
        "configs": {"params": {"server.insecure": True}},
        "server": {
            "ingress": {
                "enabled": True,
                "ingressClassName": args.ingress_class,
                "hostname": args.hostname,
                "annotations": {"cert-manager.io/cluster-issuer": args.issuer},
                "tls": True,
            }
        },
    }


def application_spec(app: AppOfApps, namespace: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {
            "repoURL": app.repository,
            "targetRevision": app.revision,
            "path": "environments",
            "helm": {"valueFiles": ["values.yaml", f"values-{app.environment}.yaml"]},
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
    }
    if app.auto_sync:
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}}
    return spec


class ArgoCd(pulumi.ComponentResource):
    """The `argo-cd` release and the app-of-apps `Application`."""

    url: str

    def __init__(
        self, name: str, args: ArgoCdArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:ArgoCd", name, None, opts)
        self.release = release(
            "argo-cd", args.chart, args.namespace, argocd_values(args), parent=self
        )
        self.application = k8s.apiextensions.CustomResource(
            f"{name}-{args.app_of_apps.name}",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app_of_apps.name, namespace=args.namespace
            ),
            spec=application_spec(args.app_of_apps, args.namespace),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.url = f"https://{args.hostname}"
        self.register_outputs({"url": self.url})
