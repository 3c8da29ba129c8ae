"""Object-store credentials handed to the services that read and write buckets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import NAMESPACE, SECRET, BuiltinObject


@dataclass(frozen=True)
class S3CredentialsArgs:
    namespace: str
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]
    secret_name: str = "s3-credentials"  # noqa: S105 (a Secret object's name)


class S3Credentials(pulumi.ComponentResource):
    """A namespace and an Opaque Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."""

    def __init__(
        self, name: str, args: S3CredentialsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:S3Credentials", name, None, opts)
        self.namespace = BuiltinObject(
            f"{name}-namespace",
            NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.secret = BuiltinObject(
            f"{name}-secret",
            SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.secret_name, namespace=args.namespace),
            type="Opaque",
            stringData={
                "AWS_ACCESS_KEY_ID": pulumi.Output.secret(args.access_key),
                "AWS_SECRET_ACCESS_KEY": pulumi.Output.secret(args.secret_key),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.register_outputs({"secretName": args.secret_name})
