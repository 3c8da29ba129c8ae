"""Helm releases with pinned charts: one way to install a chart, used by every component."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.kubernetes.builtin_objects import HELM_RELEASE, BuiltinObject


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
) -> BuiltinObject:
    """A Helm release that waits for its resources and rolls back a failed upgrade.

    `handed_over`: installed once, then owned by something else (an Argo CD Application):
    later changes to its chart or values are not applied, and removing it from the program
    leaves it installed.
    """
    return BuiltinObject(
        name,
        HELM_RELEASE,
        name=name,
        chart=chart.chart,
        version=chart.version,
        repositoryOpts={"repo": chart.repository} if chart.repository else None,
        namespace=namespace,
        createNamespace=True,
        atomic=True,
        cleanupOnFail=True,
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
