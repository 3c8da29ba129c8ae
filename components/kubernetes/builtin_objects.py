"""Built-in Kubernetes objects, registered exactly as the SDK's typed classes register them.

`pulumi_kubernetes.core.v1` builds several thousand typed classes when imported (and the
StorageClass class pulls it in through its type hints): a third of a cold plan, 0.33 s
measured, for the three kinds ukdac creates. `BuiltinObject` sends the engine the registration
the SDK's class sends (type token, `apiVersion`/`kind`, every property it lists, the plugin
version, secret fields wrapped as secret and listed as secret outputs, type aliases), so the
provider sees no difference; `tests/test_builtin_objects.py` compares both registrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities as k8s_utilities


@dataclass(frozen=True)
class Kind:
    """What the SDK's class for one kind registers besides the caller's fields."""

    token: str
    api_version: str
    kind: str
    fields: tuple[str, ...]  # every property the SDK registers (None when unset), camelCase
    secret_fields: tuple[str, ...] = ()
    alias_types: tuple[str, ...] = ()


NAMESPACE = Kind("kubernetes:core/v1:Namespace", "v1", "Namespace", ("metadata", "spec", "status"))
SECRET = Kind(
    "kubernetes:core/v1:Secret",
    "v1",
    "Secret",
    ("data", "immutable", "metadata", "stringData", "type"),
    secret_fields=("data", "stringData"),
)
SERVICE_ACCOUNT = Kind(
    "kubernetes:core/v1:ServiceAccount",
    "v1",
    "ServiceAccount",
    ("automountServiceAccountToken", "imagePullSecrets", "metadata", "secrets"),
)
CRON_JOB = Kind(
    "kubernetes:batch/v1:CronJob",
    "batch/v1",
    "CronJob",
    ("metadata", "spec", "status"),
    alias_types=("kubernetes:batch/v1beta1:CronJob", "kubernetes:batch/v2alpha1:CronJob"),
)
STORAGE_CLASS = Kind(
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "storage.k8s.io/v1",
    "StorageClass",
    (
        "allowVolumeExpansion",
        "allowedTopologies",
        "metadata",
        "mountOptions",
        "parameters",
        "provisioner",
        "reclaimPolicy",
        "volumeBindingMode",
    ),
    alias_types=("kubernetes:storage.k8s.io/v1beta1:StorageClass",),
)


class BuiltinObject(pulumi.CustomResource):
    """One object of `kind`; `fields` are its top-level properties by their Kubernetes names."""

    def __init__(
        self,
        resource_name: str,
        kind: Kind,
        opts: pulumi.ResourceOptions | None = None,
        **fields: Any,
    ) -> None:
        unknown = sorted(set(fields) - set(kind.fields))
        if unknown:
            raise TypeError(f"{kind.kind} has no field {', '.join(unknown)}")
        props: dict[str, Any] = {"apiVersion": kind.api_version, "kind": kind.kind}
        for field in kind.fields:
            value = fields.get(field)
            secret = field in kind.secret_fields and value is not None
            props[field] = pulumi.Output.secret(value) if secret else value
        options = pulumi.ResourceOptions.merge(k8s_utilities.get_resource_opts_defaults(), opts)
        if kind.secret_fields:
            extra = pulumi.ResourceOptions(additional_secret_outputs=list(kind.secret_fields))
            options = pulumi.ResourceOptions.merge(options, extra)
        if kind.alias_types:
            aliases = [pulumi.Alias(type_=alias) for alias in kind.alias_types]
            options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(aliases=aliases))
        super().__init__(kind.token, resource_name, props, options)
