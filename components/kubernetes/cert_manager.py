"""cert-manager and its ClusterIssuers: self-signed, Let's Encrypt staging and production.

The issuer an environment uses is also published as `letsencrypt-dns`, the name RSP charts
reference, so phalanx applications get certificates without per-site edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import SECRET, BuiltinObject
from components.kubernetes.helm import ChartRef, release

ACME_SERVERS = {
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
}
TSIG_SECRET = "rfc2136-tsig"  # noqa: S105 (a Secret object's name)
TSIG_KEY = "tsig-secret"


@dataclass(frozen=True)
class Rfc2136:
    nameserver: str
    tsig_key_name: str
    tsig_algorithm: str
    tsig_secret: pulumi.Input[str]


@dataclass(frozen=True)
class CertManagerArgs:
    chart: ChartRef
    chosen_issuer: str
    ingress_class: str
    acme_email: str | None = None
    dns01: Rfc2136 | None = None
    alias: str = "letsencrypt-dns"
    namespace: str = "cert-manager"


def _solver(args: CertManagerArgs) -> dict[str, Any]:
    if args.dns01 is None:
        return {"http01": {"ingress": {"ingressClassName": args.ingress_class}}}
    return {
        "dns01": {
            "rfc2136": {
                "nameserver": args.dns01.nameserver,
                "tsigKeyName": args.dns01.tsig_key_name,
                "tsigAlgorithm": args.dns01.tsig_algorithm,
                "tsigSecretSecretRef": {"name": TSIG_SECRET, "key": TSIG_KEY},
            }
        }
    }


def issuer_specs(args: CertManagerArgs) -> dict[str, dict[str, Any]]:
    """Every ClusterIssuer's spec by name, the alias included."""
    specs: dict[str, dict[str, Any]] = {"selfsigned": {"selfSigned": {}}}
    if args.acme_email:
        for name, server in ACME_SERVERS.items():
            specs[name] = {
                "acme": {
                    "server": server,
                    "email": args.acme_email,
                    "privateKeySecretRef": {"name": f"{name}-account-key"},
                    "solvers": [_solver(args)],
                }
            }
    if args.chosen_issuer not in specs:
        raise ValueError(f"issuer {args.chosen_issuer!r} needs an ACME email")
    specs[args.alias] = specs[args.chosen_issuer]
    return specs


class CertManager(pulumi.ComponentResource):
    """The cert-manager release (with its CRDs) and the ClusterIssuers."""

    issuer: str

    def __init__(
        self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:CertManager", name, None, opts)
        self.release = release(
            "cert-manager",
            args.chart,
            args.namespace,
            {"crds": {"enabled": True, "keep": True}},
            parent=self,
        )
        after: list[pulumi.Resource] = [self.release]
        if args.dns01 is not None:
            after.append(
                BuiltinObject(
                    f"{name}-{TSIG_SECRET}",
                    SECRET,
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=TSIG_SECRET, namespace=args.namespace),
                    type="Opaque",
                    stringData={TSIG_KEY: pulumi.Output.secret(args.dns01.tsig_secret)},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
                )
            )
        self.issuers = {
            issuer: k8s.apiextensions.CustomResource(
                f"{name}-{issuer}",
                api_version="cert-manager.io/v1",
                kind="ClusterIssuer",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=issuer),
                spec=spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )
            for issuer, spec in issuer_specs(args).items()
        }
        self.issuer = args.chosen_issuer
        self.register_outputs({"issuer": self.issuer})
