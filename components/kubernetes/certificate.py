"""A cert-manager Certificate for a set of hostnames, kept in a named Secret.

Used for the environment's main hostname: the ingress controller serves it as its default
certificate, so every Ingress on that host has TLS whether or not it asks for a certificate
itself (phalanx's applications mostly do not; NGINX merges them into one virtual host).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class CertificateArgs:
    namespace: str
    secret_name: str
    dns_names: tuple[str, ...]
    issuer: str  # a ClusterIssuer's name


class Certificate(pulumi.ComponentResource):
    """The Certificate; cert-manager writes and renews the Secret `secret_name`."""

    reference: str  # `namespace/secret`, as ingress-nginx's default-ssl-certificate takes it

    def __init__(
        self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:Certificate", name, None, opts)
        if not args.dns_names:
            raise ValueError("a certificate needs at least one hostname")
        self.certificate = k8s.apiextensions.CustomResource(
            f"{name}-certificate",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.secret_name, namespace=args.namespace),
            spec={
                "secretName": args.secret_name,
                "dnsNames": list(args.dns_names),
                "issuerRef": {"kind": "ClusterIssuer", "name": args.issuer},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.reference = f"{args.namespace}/{args.secret_name}"
        self.register_outputs({"secret": self.reference})
