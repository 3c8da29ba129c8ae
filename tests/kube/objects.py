"""What the local API server stores, compared with what the offline plan says is applied."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from infra.plan.model import UNKNOWN, Plan
from tests.kube.control_plane import kubectl_json

# Types that are not one object of their own (a release, a manifest file, a provider).
NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml/", "pulumi:providers:")


@cache
def _plural(api_version: str, kind: str) -> tuple[str, bool]:
    """The resource name of `kind` in `api_version`, and whether it is namespaced."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    listing = kubectl_json("GET", base)
    assert isinstance(listing, dict)
    for resource in listing["resources"]:
        if resource["kind"] == kind and "/" not in resource["name"]:
            return str(resource["name"]), bool(resource["namespaced"])
    raise AssertionError(f"the API server serves no {kind} in {api_version}")


def path(api_version: str, kind: str, name: str, namespace: str | None) -> str:
    plural, namespaced = _plural(api_version, kind)
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    scope = f"/namespaces/{namespace or 'default'}" if namespaced else ""
    return f"{base}{scope}/{plural}/{name}"


def helm_revisions() -> dict[str, tuple[int, str]]:
    """Every Helm release's latest revision and its status, by namespace/name."""
    listing = kubectl_json("GET", "/api/v1/secrets?labelSelector=owner%3Dhelm")
    assert isinstance(listing, dict)
    latest: dict[str, tuple[int, str]] = {}
    for secret in listing["items"]:
        labels = secret["metadata"]["labels"]
        key = f"{secret['metadata']['namespace']}/{labels['name']}"
        version = int(labels["version"])
        if key not in latest or latest[key][0] < version:
            latest[key] = (version, labels["status"])
    return latest


def helm_releases() -> dict[str, str]:
    """Every Helm release's latest revision status, by namespace/name."""
    return {key: status for key, (_, status) in helm_revisions().items()}


def _differences(planned: Any, stored: Any, at: str) -> Iterator[str]:
    if isinstance(planned, str) and (planned.startswith("[secret:") or planned == UNKNOWN):
        return
    if isinstance(planned, dict):
        if not isinstance(stored, dict):
            yield f"{at}: planned a mapping, stored {stored!r}"[:300]
            return
        for key, value in planned.items():
            yield from _differences(value, stored.get(key), f"{at}.{key}")
    elif isinstance(planned, list):
        if not isinstance(stored, list) or len(stored) != len(planned):
            yield f"{at}: planned {len(planned)} items, stored {stored!r}"[:300]
            return
        for index, (a, b) in enumerate(zip(planned, stored, strict=True)):
            yield from _differences(a, b, f"{at}[{index}]")
    elif planned != stored and str(planned) != str(stored):
        yield f"{at}: planned {planned!r}, stored {stored!r}"[:300]


def stored_differences(plan: Plan, state: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per planned object, what the API server stores differently from the plan's inputs
    (server defaults and added keys are fine; a missing or different planned value is not)."""
    outputs = {r["urn"]: r.get("outputs") or {} for r in state}
    sent = {r["urn"]: r.get("inputs") or {} for r in state}
    types = {r.urn: r.type for r in plan.resources}
    found: dict[str, list[str]] = {}
    for resource in plan.resources:
        if not resource.type.startswith("kubernetes:") or resource.type.startswith(NOT_OBJECTS):
            continue
        live = outputs.get(resource.urn)
        if live is None:
            found[resource.urn] = ["not in the stack's state"]
            continue
        metadata = live["metadata"]
        location = path(
            live["apiVersion"], live["kind"], metadata["name"], metadata.get("namespace")
        )
        stored = kubectl_json("GET", location)
        assert isinstance(stored, dict)
        if stored.get("kind") == "Status":
            found[resource.urn] = [f"GET {location}: {stored.get('message')}"]
            continue
        planned = {k: v for k, v in resource.inputs.items() if k not in ("apiVersion", "kind")}
        for key, sources in resource.property_dependencies.items():
            # Offline, another provider's outputs (a random token id) are fakes: for a
            # property made from them, what the engine sent is what must be stored.
            if key in planned and any(
                not types.get(u, "kubernetes:").startswith(("kubernetes:", "ukdac:"))
                for u in sources
            ):
                planned[key] = sent[resource.urn].get(key, planned[key])
        if "stringData" in planned and isinstance(stored.get("data"), dict):
            stored["stringData"] = {
                k: base64.b64decode(v).decode() for k, v in stored["data"].items()
            }
        problems = list(_differences(planned, stored, ""))
        if problems:
            found[resource.urn] = problems
    return found


def namespaces() -> dict[str, str]:
    listing = kubectl_json("GET", "/api/v1/namespaces")
    assert isinstance(listing, dict)
    return {n["metadata"]["name"]: n["status"]["phase"] for n in listing["items"]}


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)[:4000]
