"""How a pod asks for a control plane: kubeadm's role label, and the toleration of the
NoSchedule taint kubeadm puts beside it (the ingress controller and etcd's snapshots run
there)."""

from __future__ import annotations

from typing import Any

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
CONTROL_PLANE_TOLERATION: dict[str, Any] = {
    "key": CONTROL_PLANE_LABEL,
    "operator": "Exists",
    "effect": "NoSchedule",
}
