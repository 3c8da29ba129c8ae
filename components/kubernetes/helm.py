"""Helm releases with pinned charts: one way to install a chart, used by every component."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ChartRef:
    """A chart at an exact version: in a repository, or (`repository` empty) at `chart`
    itself, a local archive or directory or an `oci://` reference."""

    chart: str
    version: str
    repository: str


# The inputs of a handed-over release that its new owner changes from then on.
HANDED_OVER = ("chart", "version", "repositoryOpts", "values")


def release(
    name: str,
    chart: ChartRef,
    namespace: str,
    values: pulumi.Input[Mapping[str, Any]],
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
    protect: bool = False,
    timeout_seconds: int = 900,
    handed_over: bool = False,
) -> k8s.helm.v3.Release:
    """A Helm release that waits for its resources and rolls back a failed upgrade.

    `handed_over`: installed once, then owned by something else (an Argo CD Application):
    later changes to its chart or values are not applied, and removing it from the program
    leaves it installed.
    """
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=(
            k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository) if chart.repository else None
        ),
        namespace=namespace,
        create_namespace=True,
        atomic=True,
        cleanup_on_fail=True,
        timeout=timeout_seconds,
        values=values,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=depends_on,
            protect=protect,
            ignore_changes=list(HANDED_OVER) if handed_over else None,
            retain_on_delete=handed_over or None,
        ),
    )
