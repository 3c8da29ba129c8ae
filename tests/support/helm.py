"""Charts rendered by Helm's own Go SDK (helm-python-sdk, the `upstream` extra), offline.

Rendering is what Argo CD does with an Application's chart: the chart's values, then each
value file, then the parameters. Subcharts that are not vendored under `charts/` are left
out by the SDK, so a rendered folder chart yields the objects of its own templates only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stack.profiles import deep_merge

_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


@dataclass(frozen=True)
class ObjectKey:
    """What makes two manifests the same Kubernetes object."""

    group: str
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}.{self.group or 'core'} {where}{self.name}"


# Cluster-scoped kinds among those phalanx's and ukdac's charts render.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "ClusterIssuer",
        "PriorityClass",
        "IngressClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "GlobalNetworkPolicy",
        "Tier",
        "CSIDriver",
        "PersistentVolume",
    }
)


def object_key(manifest: dict[str, Any], default_namespace: str | None) -> ObjectKey:
    """The object's identity, with the namespace Helm or Argo CD would give it."""
    group = str(manifest["apiVersion"]).rpartition("/")[0]
    kind = str(manifest["kind"])
    metadata = manifest["metadata"]
    namespace = None if kind in CLUSTER_SCOPED else metadata.get("namespace", default_namespace)
    return ObjectKey(group, kind, namespace, str(metadata["name"]))


def _helm() -> Any:
    try:
        import helm_python
    except ImportError:
        reason = "helm-python-sdk is not installed (make test-upstream installs the extra)"
        if os.environ.get("UKDAC_REQUIRE_UPSTREAM") == "1":
            pytest.fail(f"{reason}, and UKDAC_REQUIRE_UPSTREAM=1 requires it")
        pytest.skip(reason)
    return helm_python


def set_parameter(values: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """`values` with one `--set`-style parameter applied (dotted path, no list indices)."""
    *parents, last = dotted.split(".")
    patch: dict[str, Any] = {last: value}
    for key in reversed(parents):
        patch = {key: patch}
    return deep_merge(values, patch)


def application_values(chart_dir: Path, helm: dict[str, Any]) -> dict[str, Any]:
    """The values an Argo CD Application's `spec.source.helm` gives its folder chart."""
    values: dict[str, Any] = {}
    for name in helm.get("valueFiles", []):
        values = deep_merge(values, yaml.safe_load((chart_dir / name).read_text()) or {})
    for parameter in helm.get("parameters", []):
        values = set_parameter(values, parameter["name"], parameter["value"])
    return values


def render(
    chart_dir: Path, values: dict[str, Any], release: str, namespace: str
) -> list[dict[str, Any]]:
    """Every manifest the chart's own templates render for this release."""
    with _helm().Chart.load(str(chart_dir)) as chart:
        rendered: dict[str, str] = chart.render(values, name=release, namespace=namespace)
    manifests: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        # Split as Helm does (releaseutil.SplitManifests): `---#comment` separates too.
        manifests.extend(m for part in _SEPARATOR.split(text) if (m := yaml.safe_load(part)))
    return manifests


def render_release(release: Mapping[str, Any], charts_dir: Path) -> list[dict[str, Any]] | None:
    """What a planned Helm release (its inputs) renders from the snapshot of its chart at its
    version in `charts_dir` (`<chart>-<version>/`), or None without that snapshot."""
    chart = charts_dir / f"{release['chart']}-{release['version']}"
    if not chart.is_dir():
        return None
    return render(chart, release.get("values") or {}, release["name"], release["namespace"])
