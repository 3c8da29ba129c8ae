"""Qserv: qserv-operator from its release manifest, then a `Qserv` resource.

The operator's validating webhook refuses any update of a `Qserv` but its images, the czar
and worker replica counts and tolerations (api/v1beta1/qserv_webhook.go at the pinned
commit). A change to anything else is planned as a replacement of the resource, so the plan
says so instead of `up` failing on the webhook; in prod the resource is protected, so the
replacement needs a deliberate unprotect first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.builtin_objects import (
    NAMESPACE,
    YAML_CONFIG_FILE,
    BuiltinObject,
    RemoteComponent,
)


@dataclass(frozen=True)
class QservArgs:
    operator_manifest: str  # URL of manifests/operator.yaml at a pinned tag
    image: str
    db_image: str
    storage_class: str
    czar_replicas: int
    czar_storage: str
    worker_replicas: int
    worker_storage: str
    services_storage: str  # each of the ingest and replication databases and controller
    # Ingest and xrootd prefer nodes whose label `key` has one of `values`.
    preferred_nodes: tuple[str, tuple[str, ...]]
    query_node_port: int = 30040
    namespace: str = "qserv"
    protect: bool = False  # the namespace and the Qserv resource own its volumes


def _prefer(label: tuple[str, tuple[str, ...]]) -> dict[str, Any]:
    key, values = label
    return {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]
                    },
                }
            ]
        }
    }


# What the webhook lets an update change (paths under `spec`).
UPDATABLE = frozenset({"image", "dbImage", "czar.replicas", "worker.replicas", "tolerations"})


def fixed_paths(spec: dict[str, Any], prefix: str = "") -> list[str]:
    """Every path of `spec` the webhook would refuse to update, as `spec.`-rooted paths."""
    found = []
    for key, value in spec.items():
        path = f"{prefix}.{key}" if prefix else key
        if path in UPDATABLE:
            continue
        if isinstance(value, dict) and any(u.startswith(f"{path}.") for u in UPDATABLE):
            found += fixed_paths(value, path)
        else:
            found.append(f"spec.{path}")
    return found


def qserv_spec(args: QservArgs) -> dict[str, Any]:
    return {
        "image": args.image,
        "dbImage": args.db_image,
        "storageClassName": args.storage_class,
        "storage": args.services_storage,
        "czar": {"replicas": args.czar_replicas, "storage": args.czar_storage},
        "worker": {"replicas": args.worker_replicas, "storage": args.worker_storage},
        "ingest": {"affinity": _prefer(args.preferred_nodes)},
        "xrootd": {"affinity": _prefer(args.preferred_nodes)},
        "queryService": {"type": "NodePort", "nodePort": args.query_node_port},
    }


class Qserv(pulumi.ComponentResource):
    """The operator (its webhook needs cert-manager: pass it in `depends_on`) and the database."""

    def __init__(
        self,
        name: str,
        args: QservArgs,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ukdac:kubernetes:Qserv", name, None, opts)
        self.operator = RemoteComponent(
            f"{name}-operator",
            YAML_CONFIG_FILE,
            file=args.operator_manifest,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.namespace = BuiltinObject(
            f"{name}-namespace",
            NAMESPACE,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        spec = qserv_spec(args)
        self.qserv = k8s.apiextensions.CustomResource(
            f"{name}-qserv",
            api_version="qserv.lsst.org/v1beta1",
            kind="Qserv",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="qserv", namespace=args.namespace),
            spec=spec,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.operator, self.namespace],
                protect=args.protect,
                replace_on_changes=fixed_paths(spec),
            ),
        )
        self.register_outputs({})
