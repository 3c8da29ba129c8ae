"""Buckets on Ceph RGW: Swift containers, reachable over S3 with an EC2 credential."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack


@dataclass(frozen=True)
class BucketSpec:
    """A container; `retain` keeps it on destroy, `protect` refuses to delete it at all."""

    name: str
    retain: bool = False
    protect: bool = False


@dataclass(frozen=True)
class ObjectStoreArgs:
    buckets: tuple[BucketSpec, ...]
    s3_endpoint: str
    credential_description: str = "S3 access to the environment's buckets"
    # Further credentials, one per consumer that must be revocable alone (e.g. "backup").
    extra_credentials: tuple[str, ...] = ()


class ObjectStore(pulumi.ComponentResource):
    """One container per bucket, and one EC2 credential whose access key and secret are secrets."""

    bucket_names: list[str]
    s3_endpoint: str
    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:ObjectStore", name, None, opts)
        self.containers = [
            openstack.objectstorage.Container(
                f"{name}-{bucket.name}",
                name=bucket.name,
                force_destroy=False,
                opts=pulumi.ResourceOptions(
                    parent=self, protect=bucket.protect, retain_on_delete=bucket.retain
                ),
            )
            for bucket in args.buckets
        ]
        self.credential = openstack.identity.Ec2CredentialV3(
            f"{name}-s3-credential",
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["access"]),
        )
        self.bucket_names = [bucket.name for bucket in args.buckets]
        self.s3_endpoint = args.s3_endpoint
        self.access_key = pulumi.Output.secret(self.credential.access)
        self.secret_key = pulumi.Output.secret(self.credential.secret)
        self.extra_credentials = {
            consumer: openstack.identity.Ec2CredentialV3(
                f"{name}-{consumer}-credential",
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["access"]),
            )
            for consumer in args.extra_credentials
        }
        self.register_outputs(
            {
                "bucketNames": self.bucket_names,
                "s3Endpoint": self.s3_endpoint,
                "accessKey": self.access_key,
                "secretKey": self.secret_key,
            }
        )
