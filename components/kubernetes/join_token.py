"""The token new kubeadm nodes join with, as the bootstrap-token Secret the cluster reads.

kubeadm's own tokens are made once, at `kubeadm init`, and either expire (a node added
later cannot join) or never do (a standing credential). Here the program owns the token:
every `up` moves its expiry to a window after that `up` (any node an `up` creates can
join), and a new token replaces the old one whenever the program says so (the caller's
keepers); the controller-manager's token cleaner deletes one whose window has passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubeadm.documents import BOOTSTRAP_GROUP
from components.kubernetes.builtin_objects import SECRET, BuiltinObject


@dataclass(frozen=True)
class JoinTokenArgs:
    token_id: pulumi.Input[str]  # [a-z0-9]{6}, public (it names the Secret)
    token_secret: pulumi.Input[str]  # [a-z0-9]{16}
    expires: str  # RFC 3339, UTC


def _secret_name(token_id: str) -> str:
    return f"bootstrap-token-{token_id}"


class JoinToken(pulumi.ComponentResource):
    """`kube-system/bootstrap-token-<id>`, valid until `expires`."""

    def __init__(
        self, name: str, args: JoinTokenArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:kubernetes:JoinToken", name, None, opts)
        self.secret = BuiltinObject(
            f"{name}-secret",
            SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=pulumi.Output.from_input(args.token_id).apply(_secret_name),
                namespace="kube-system",
            ),
            type="bootstrap.kubernetes.io/token",
            stringData={
                "token-id": args.token_id,
                "token-secret": pulumi.Output.secret(args.token_secret),
                "expiration": args.expires,
                # Authenticate as a bootstrapper (the group kubeadm init lets join), and
                # sign the cluster-info ConfigMap that discovery reads.
                "usage-bootstrap-authentication": "true",
                "usage-bootstrap-signing": "true",
                "auth-extra-groups": BOOTSTRAP_GROUP,
                "description": "join token of new nodes (made by Pulumi, renewed by each up)",
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
