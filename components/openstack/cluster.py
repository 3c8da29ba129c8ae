"""What every cluster backend offers the layers above it, whichever backend made it."""

from __future__ import annotations

from typing import Any, Protocol

import pulumi


class Cluster(Protocol):
    """A Kubernetes cluster on OpenStack: how to reach it, and where its nodes are."""

    kubeconfig: pulumi.Output[str]
    api_url: pulumi.Output[str]
    floating_ip: pulumi.Output[str]
    nodes: pulumi.Output[dict[str, Any]]

    def node_selector(self, key: str, value: str) -> tuple[str, tuple[str, ...]]:
        """The node label key and values that pick the nodes meant to carry `key=value`."""
        ...
