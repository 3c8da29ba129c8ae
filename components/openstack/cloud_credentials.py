"""The cluster's own OpenStack credential, and the `cloud.conf` that OCCM and Cinder CSI read."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_openstack as openstack


@dataclass(frozen=True)
class AccessRule:
    """One API call pattern a credential may make (Keystone access rules: `*` is one path
    segment, `**` any number; the service is the type the service's own middleware has)."""

    service: str
    method: str
    path: str


# What OCCM (node addresses and lifecycle, no load balancers) and Cinder CSI (volumes,
# snapshots, attachments through Nova) call. Nova's own calls to Cinder for an attachment
# carry a service token and pass. Cinder is listed under both of its catalog types, as a
# cloud's middleware may know it by either.
_CINDER = tuple(
    AccessRule(service, method, "/v3/**")
    for service in ("volumev3", "block-storage")
    for method in ("GET", "POST", "PUT", "DELETE")
)
CLOUD_PROVIDER_ACCESS_RULES: tuple[AccessRule, ...] = (
    AccessRule("compute", "GET", "/v2.1/**"),
    AccessRule("compute", "POST", "/v2.1/servers/*/os-volume_attachments"),
    AccessRule("compute", "DELETE", "/v2.1/servers/*/os-volume_attachments/*"),
    AccessRule("network", "GET", "/v2.0/**"),
    *_CINDER,
)


@dataclass(frozen=True)
class CloudCredentialsArgs:
    """`roles` limit the credential to what the cloud providers need (no `unrestricted`);
    `access_rules`, when given, to those API calls alone."""

    name: str
    region: str
    auth_url: pulumi.Input[str]
    floating_network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    roles: tuple[str, ...] = ("member", "load-balancer_member")
    access_rules: tuple[AccessRule, ...] = ()


def render_cloud_conf(region: str, values: list[Any]) -> str:
    """The INI file of cloud-provider-openstack (OCCM and Cinder CSI)."""
    auth_url, credential_id, secret, floating_network_id, subnet_id = values
    return (
        "[Global]\n"
        f"auth-url={auth_url}\n"
        f"application-credential-id={credential_id}\n"
        f"application-credential-secret={secret}\n"
        f"region={region}\n"
        "\n"
        "[LoadBalancer]\n"
        f"floating-network-id={floating_network_id}\n"
        f"subnet-id={subnet_id}\n"
        # Nodes close the metadata service after boot: instance data comes from the drive.
        "[Metadata]\n"
        "search-order=configDrive\n"
    )


class CloudCredentials(pulumi.ComponentResource):
    """An application credential restricted to listed roles; `cloud_conf` is a secret."""

    cloud_conf: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudCredentialsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:CloudCredentials", name, None, opts)
        self.credential = openstack.identity.ApplicationCredential(
            f"{name}-application-credential",
            name=args.name,
            description="Kubernetes cloud provider and Cinder CSI (managed by Pulumi)",
            roles=list(args.roles),
            access_rules=[
                openstack.identity.ApplicationCredentialAccessRuleArgs(
                    service=rule.service, method=rule.method, path=rule.path
                )
                for rule in args.access_rules
            ]
            or None,
            unrestricted=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.credential_id = self.credential.id
        self.cloud_conf = pulumi.Output.secret(
            pulumi.Output.all(
                args.auth_url,
                self.credential.id,
                self.credential.secret,
                args.floating_network_id,
                args.subnet_id,
            ).apply(functools.partial(render_cloud_conf, args.region))
        )
        self.register_outputs({"credentialId": self.credential_id, "cloudConf": self.cloud_conf})
