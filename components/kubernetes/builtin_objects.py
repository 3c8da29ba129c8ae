"""Kubernetes provider resources registered exactly as the SDK's typed classes register them.

`pulumi_kubernetes.core.v1` builds several thousand typed classes when imported (and the
StorageClass class pulls it in through its type hints): a third of a cold plan, 0.33 s
measured, for the three kinds ukdac creates; the Helm release and YAML file classes import
`pulumi_kubernetes.yaml`, which imports `requests` and urllib3 (a twentieth of `ukdac plan`).
`BuiltinObject` (and `RemoteComponent`, for the provider's components) sends the engine the
registration the SDK's class sends (type token, `apiVersion`/`kind` or the class's constant
properties, every property it lists, the plugin version, secret fields wrapped as secret and
listed as secret outputs, type aliases), so the provider sees no difference;
`tests/components/test_builtin_objects.py` compares both registrations.
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
    api_version: str  # "" where the class sends no apiVersion/kind (a release, a component)
    kind: str
    fields: tuple[str, ...]  # every property the SDK registers (None when unset), camelCase
    secret_fields: tuple[str, ...] = ()
    alias_types: tuple[str, ...] = ()
    constants: tuple[tuple[str, str], ...] = ()  # properties the class always sets itself

    def properties(self, fields: dict[str, Any]) -> dict[str, Any]:
        """What the SDK's class registers for the caller's `fields` (camelCase)."""
        unknown = sorted(set(fields) - set(self.fields))
        if unknown:
            raise TypeError(f"{self.kind} has no field {', '.join(unknown)}")
        props: dict[str, Any] = (
            {"apiVersion": self.api_version, "kind": self.kind} if self.api_version else {}
        )
        for field in self.fields:
            value = fields.get(field)
            secret = field in self.secret_fields and value is not None
            props[field] = pulumi.Output.secret(value) if secret else value
        props.update(self.constants)
        return props

    def options(self, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
        """The caller's options as the SDK's class completes them."""
        options = pulumi.ResourceOptions.merge(k8s_utilities.get_resource_opts_defaults(), opts)
        if self.secret_fields:
            extra = pulumi.ResourceOptions(additional_secret_outputs=list(self.secret_fields))
            options = pulumi.ResourceOptions.merge(options, extra)
        if self.alias_types:
            aliases = [pulumi.Alias(type_=alias) for alias in self.alias_types]
            options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(aliases=aliases))
        return options


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
HELM_RELEASE = Kind(
    "kubernetes:helm.sh/v3:Release",
    "",
    "Release",
    (
        "allowNullValues",
        "atomic",
        "chart",
        "cleanupOnFail",
        "createNamespace",
        "dependencyUpdate",
        "description",
        "devel",
        "disableCRDHooks",
        "disableOpenapiValidation",
        "disableWebhooks",
        "forceUpdate",
        "keyring",
        "lint",
        "manifest",
        "maxHistory",
        "name",
        "namespace",
        "postrender",
        "recreatePods",
        "renderSubchartNotes",
        "replace",
        "repositoryOpts",
        "resetValues",
        "resourceNames",
        "reuseValues",
        "skipAwait",
        "skipCrds",
        "takeOwnership",
        "timeout",
        "valueYamlFiles",
        "values",
        "verify",
        "version",
        "waitForJobs",
        "status",
    ),
    constants=(("compat", "true"),),
)
YAML_CONFIG_FILE = Kind(
    "kubernetes:yaml/v2:ConfigFile",
    "",
    "ConfigFile",
    ("file", "resourcePrefix", "skipAwait", "resources"),
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
        super().__init__(kind.token, resource_name, kind.properties(fields), kind.options(opts))


class RemoteComponent(pulumi.ComponentResource):
    """One of the provider's components (`remote`: the provider makes its children)."""

    def __init__(
        self,
        resource_name: str,
        kind: Kind,
        opts: pulumi.ResourceOptions | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(
            kind.token, resource_name, kind.properties(fields), kind.options(opts), remote=True
        )
