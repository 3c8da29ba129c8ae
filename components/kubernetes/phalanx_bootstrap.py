"""The phalanx bootstrap, as phalanx's installer runs it, then handed over to Argo CD.

The installer (`phalanx environment install`) creates the `vault-credentials` Secret,
installs vault-secrets-operator and Argo CD with Helm as releases named after their phalanx
applications, and creates the app of apps pointing at the fork (`repoUrl` and
`targetRevision` as Helm parameters). The app of apps then renders an Application for
vault-secrets-operator and one for Argo CD itself, which adopt those releases: from then on
phalanx upgrades them. So the two releases and the `argocd-secret` VaultSecret are installed
once and never changed or removed by Pulumi afterwards (`handed_over`); the credentials
Secret and the app of apps, which no phalanx chart renders, stay Pulumi's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import NAMESPACE, SECRET, BuiltinObject
from components.kubernetes.helm import ChartRef, release

IN_CLUSTER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class Bootstrapped:
    """A phalanx application installed once with Helm, as the installer does."""

    release_name: str
    namespace: str
    chart: ChartRef
    values: Mapping[str, Any]


@dataclass(frozen=True)
class AppOfApps:
    """The Application that deploys a phalanx environment from a fork at a revision."""

    name: str
    repository: str
    revision: str
    environment: str
    auto_sync: bool


@dataclass(frozen=True)
class PhalanxBootstrapArgs:
    vault_secrets_operator: Bootstrapped
    role_id: pulumi.Input[str]
    secret_id: pulumi.Input[str]
    argocd: Bootstrapped
    argocd_objects: Sequence[Mapping[str, Any]]  # what phalanx's argocd chart adds
    app_of_apps: AppOfApps
    app_of_apps_aliases: Sequence[pulumi.Alias] = ()  # earlier identities of the app of apps
    credentials_secret: str = "vault-credentials"  # noqa: S105 (the Secret's name)


def application_spec(app: AppOfApps, namespace: str) -> dict[str, Any]:
    """The app of apps as `argocd app create` makes it in phalanx's installer.

    It starts in the `default` project: phalanx's `infrastructure` project is one of the
    objects it deploys. The installer then moves it there (`argocd app set --project`), so
    the program leaves `spec.project` alone after creating it.
    """
    spec: dict[str, Any] = {
        "project": "default",
        "source": {
            "repoURL": app.repository,
            "targetRevision": app.revision,
            "path": "environments",
            "helm": {
                "parameters": [
                    {"name": "repoUrl", "value": app.repository},
                    {"name": "targetRevision", "value": app.revision},
                ],
                "valueFiles": ["values.yaml", f"values-{app.environment}.yaml"],
            },
        },
        "destination": {"server": IN_CLUSTER, "namespace": namespace},
    }
    if app.auto_sync:
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}}
    return spec


class PhalanxBootstrap(pulumi.ComponentResource):
    """vault-secrets-operator with its credentials, Argo CD, and the app of apps."""

    def __init__(
        self, name: str, args: PhalanxBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:PhalanxBootstrap", name, None, opts)
        vso = args.vault_secrets_operator
        # phalanx's environments chart renders this namespace too: made once, then its.
        namespace = BuiltinObject(
            f"{name}-{vso.namespace}-namespace",
            NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=vso.namespace),
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["metadata"], retain_on_delete=True
            ),
        )
        self.credentials = BuiltinObject(
            f"{name}-{args.credentials_secret}",
            SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.credentials_secret, namespace=vso.namespace
            ),
            type="Opaque",
            stringData={
                "VAULT_ROLE_ID": pulumi.Output.secret(args.role_id),
                "VAULT_SECRET_ID": pulumi.Output.secret(args.secret_id),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        self.vault_secrets_operator = release(
            vso.release_name,
            vso.chart,
            vso.namespace,
            dict(vso.values),
            parent=self,
            depends_on=[self.credentials],
            handed_over=True,
        )
        argocd = args.argocd
        self.argocd = release(
            argocd.release_name,
            argocd.chart,
            argocd.namespace,
            dict(argocd.values),
            parent=self,
            depends_on=[self.vault_secrets_operator],
            handed_over=True,
        )
        self.argocd_objects = [
            k8s.apiextensions.CustomResource(
                f"{name}-{obj['metadata']['name']}",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=obj["metadata"]["name"], namespace=argocd.namespace
                ),
                spec=obj["spec"],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # The VaultSecret CRD comes with vault-secrets-operator.
                    depends_on=[self.vault_secrets_operator],
                    ignore_changes=["spec"],
                    retain_on_delete=True,
                ),
            )
            for obj in args.argocd_objects
        ]
        self.application = k8s.apiextensions.CustomResource(
            f"{name}-{args.app_of_apps.name}",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app_of_apps.name, namespace=argocd.namespace
            ),
            spec=application_spec(args.app_of_apps, argocd.namespace),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.argocd, *self.argocd_objects],
                ignore_changes=["spec.project"],
                # Recreating it would prune every application of the environment.
                aliases=list(args.app_of_apps_aliases),
            ),
        )
        self.register_outputs({"appOfApps": args.app_of_apps.name})
