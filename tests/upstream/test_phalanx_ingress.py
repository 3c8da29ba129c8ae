"""The ingress controller against phalanx's own settings for it, key by key.

phalanx's `ingress-nginx` application is switched off in every environment ukdac writes
(ukdac runs the controller), so its `values.yaml` is the specification ukdac's release must
meet: every key equal, except the paths in the component's table of deliberate differences.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import crossplane
import pytest
import yaml

from components.kubernetes.ingress import DIFFERENCES_FROM_PHALANX
from tests.support.stacks import BACKENDS, STACKS, planned
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted path -> value for every leaf (a list is one leaf)."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= _leaves(item, f"{prefix}.{key}" if prefix else str(key))
        return found
    return {prefix: value}


def _difference_for(path: str) -> str | None:
    for key in DIFFERENCES_FROM_PHALANX:
        if path == key or path.startswith(f"{key}."):
            return key
    return None


def _nginx(snippet: str) -> list[dict[str, Any]]:
    """The snippet as NGINX's own parser reads it inside a server, without line numbers."""
    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "nginx.conf"
        conf.write_text(f"events {{}}\nhttp {{\nserver {{\n{snippet}\n}}\n}}\n")
        parsed = crossplane.parse(str(conf), strict=True)
    assert parsed["status"] == "ok", parsed["errors"]

    def strip(directives: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"directive": d["directive"], "args": d["args"], "block": strip(d.get("block", []))}
            for d in directives
        ]

    (http,) = [d for d in parsed["config"][0]["parsed"] if d["directive"] == "http"]
    return strip(http["block"])


def _phalanx_controller() -> dict[str, Any]:
    phalanx = upstream_dir("UKDAC_PHALANX_DIR")
    values = yaml.safe_load((phalanx / "applications/ingress-nginx/values.yaml").read_text())
    return dict(values["ingress-nginx"]["controller"])


def _ukdac_controller(stack: str, backend: str) -> dict[str, Any]:
    (release,) = [
        r
        for r in planned(stack, backend).find("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "ingress-nginx"
    ]
    return dict(release.inputs["values"]["controller"])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_the_controller_is_configured_as_phalanx_configures_it(stack: str, backend: str) -> None:
    theirs = _leaves(_phalanx_controller())
    ours = _leaves(_ukdac_controller(stack, backend))
    unexplained = {}
    for path in sorted(set(theirs) | set(ours)):
        if _difference_for(path):
            continue
        if path == "config.server-snippet" and path in theirs and path in ours:
            assert _nginx(ours[path]) == _nginx(theirs[path])
            continue
        if theirs.get(path, "<absent>") != ours.get(path, "<absent>"):
            unexplained[path] = (theirs.get(path, "<absent>"), ours.get(path, "<absent>"))
    assert not unexplained, f"phalanx's value, ukdac's, by path: {unexplained}"


def test_every_deliberate_difference_is_still_a_difference() -> None:
    """A stale entry would hide a future change: each path must differ from phalanx today."""
    theirs = _leaves(_phalanx_controller())
    # dev's entry is the floating IP, prod's the load balancer: an entry holds if either needs it.
    stacks = [_leaves(_ukdac_controller(stack, "kubeadm")) for stack in ("ukdac-dev", "ukdac-prod")]
    for key in DIFFERENCES_FROM_PHALANX:
        differs = False
        for ours in stacks:
            paths = {p for p in set(theirs) | set(ours) if p == key or p.startswith(f"{key}.")}
            differs = differs or any(theirs.get(p) != ours.get(p) for p in paths)
        assert differs, f"{key} no longer differs from phalanx in any stack"
