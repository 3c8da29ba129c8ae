"""The phalanx tier: every stack's values written into a copy of the real fork, loaded by
phalanx's own models, and the bootstrap compared with what phalanx's Applications render.

Needs UKDAC_PHALANX_DIR (a phalanx checkout) and a Python >= 3.13 for phalanx's library
(found as `infra.ops.phalanx_library` finds it); `.ci/run` requires both.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops.phalanx_checkout import PhalanxCheckout, PhalanxCheckoutError, changes_for
from infra.ops.phalanx_library import LoadedEnvironment, load_environment
from infra.stack.deployment import Deployment
from infra.stack.files import load_project, load_stack_file
from infra.stack.phalanx import (
    OWNED_BY_UKDAC,
    argocd_values,
    bootstrap_data,
    provided_secrets,
    vault_secrets_operator_values,
)
from infra.stack.profiles import deep_merge
from infra.stack.validation import validate
from infra.versions import pinned
from tests.support.stacks import ROOT, STACKS, config, planned
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream

# For environments the fork does not have yet (their GitHub OAuth app is registered by the
# team before the first write; the writer refuses without it, tested below).
FIXTURE_IDENTITY = {
    "github": {"clientId": "fixture-client-id", "teams": {"lsp-uk/dev": ["exec:notebook"]}}
}


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "tools/phalanx_bootstrap.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _deployment(stack: str, checkout: PhalanxCheckout) -> Deployment:
    """The stack as checked in, with the fixture identity where the fork needs one."""
    d = config(stack)
    env = d.config.phalanx.environment
    if d.config.phalanx.identity or checkout.read(f"applications/gafaelfawr/values-{env}.yaml"):
        return d
    stack_file = load_stack_file(load_project(ROOT), stack)
    raw = stack_file.namespace()
    raw["phalanx"] = {**raw["phalanx"], "identity": FIXTURE_IDENTITY}
    return validate(raw, stack, "fixture", set(stack_file.secure_paths))


@cache
def _fork() -> tuple[Path, dict[str, LoadedEnvironment]]:
    """A copy of the fork with every stack written into it, and phalanx's view of each."""
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork = Path(tempfile.mkdtemp(prefix="ukdac-phalanx-")) / "phalanx"
    shutil.copytree(source, fork, ignore=shutil.ignore_patterns(".git"))
    checkout = PhalanxCheckout(fork)
    loaded = {}
    for stack in STACKS:
        d = _deployment(stack, checkout)
        for change in changes_for(checkout, d):
            checkout.write(change)
        loaded[stack] = load_environment(fork, d)
    return fork, loaded


def test_the_bootstrap_data_is_the_forks() -> None:
    phalanx = upstream_dir("UKDAC_PHALANX_DIR")
    generated = _tool().generate(phalanx, "any")
    committed = bootstrap_data()
    assert {k: v for k, v in generated.items() if k != "source"} == {
        k: v for k, v in committed.items() if k != "source"
    }, "run tools/phalanx_bootstrap.py against the fork"
    assert committed["argocd"]["chart"]["version"] == pinned("chart/argo-cd")
    assert committed["vault-secrets-operator"]["chart"]["version"] == pinned(
        "chart/vault-secrets-operator"
    )


def test_new_environments_need_an_identity_before_the_first_write(tmp_path: Path) -> None:
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork = tmp_path / "phalanx"
    shutil.copytree(source, fork, ignore=shutil.ignore_patterns(".git"))
    checkout = PhalanxCheckout(fork)
    with pytest.raises(PhalanxCheckoutError, match=r"ukdac:phalanx\.identity"):
        changes_for(checkout, config("ukdac-test"))


@pytest.mark.parametrize("stack", STACKS)
def test_phalanx_loads_every_environment_ukdac_writes(stack: str) -> None:
    _, loaded = _fork()
    environment = loaded[stack]
    # phalanx installs neither the ingress nor cert-manager: ukdac's releases are the only ones.
    assert not set(OWNED_BY_UKDAC) & set(environment.applications)
    assert {"argocd", "gafaelfawr", "vault-secrets-operator"} <= set(environment.applications)
    # Every Helm release Pulumi keeps managing is one no phalanx Application installs.
    managed = {
        r.inputs["name"]
        for r in planned(stack).find("kubernetes:helm.sh/v3:Release")
        if "values" not in (r.options.get("ignoreChanges") or [])
    }
    assert not managed & set(environment.applications), managed & set(environment.applications)
    handed_over = {
        r.inputs["name"]
        for r in planned(stack).find("kubernetes:helm.sh/v3:Release")
        if "values" in (r.options.get("ignoreChanges") or [])
    }
    assert handed_over == {"argocd", "vault-secrets-operator"} <= set(environment.applications)
    # ukdac's secrets are among those phalanx requires, so its audit keeps them.
    required = {(s.application, s.key) for s in environment.secrets}
    provided = {
        (s.application, s.key)
        for s in provided_secrets(config(stack))
        if s.application in environment.applications
    }
    assert provided <= required
    if "tap" in environment.applications:
        assert provided, "the fork's TAP reads its S3 keys from what ukdac provides"


@pytest.mark.parametrize("stack", STACKS)
def test_the_bootstrap_equals_what_phalanxs_applications_render(stack: str) -> None:
    """Adoption without a diff: the values phalanx's `argocd` and `vault-secrets-operator`
    Applications give their charts (values.yaml, values-<env>.yaml, Helm parameters)."""
    fork, _ = _fork()
    d = _deployment(stack, PhalanxCheckout(fork))
    env = d.config.phalanx.environment

    def rendered(app: str) -> dict[str, Any]:
        folder = fork / "applications" / app
        merged = deep_merge(
            yaml.safe_load((folder / "values.yaml").read_text()) or {},
            yaml.safe_load((folder / f"values-{env}.yaml").read_text()) or {},
        )
        return dict(merged[bootstrap_data()[app]["chart"]["name"]])

    assert argocd_values(d) == rendered("argocd")
    vso = rendered("vault-secrets-operator")
    vso["vault"] = {**vso["vault"], "address": d.vault_url}  # the Application's parameter
    assert vault_secrets_operator_values(d) == vso
    releases = {r.inputs["name"]: r for r in planned(stack).find("kubernetes:helm.sh/v3:Release")}
    assert releases["argocd"].inputs["namespace"] == "argocd"
    assert releases["argocd"].inputs["values"] == json.loads(json.dumps(argocd_values(d)))


@pytest.mark.parametrize("stack", ["ukdac-dev", "ukdac-prod"])
def test_live_environments_keep_their_applications_and_keys(stack: str) -> None:
    source = upstream_dir("UKDAC_PHALANX_DIR")
    fork, _ = _fork()
    env = config(stack).config.phalanx.environment
    for path in sorted(source.glob(f"**/values-{env}.yaml")):
        relative = path.relative_to(source)
        before = yaml.safe_load(path.read_text()) or {}
        after = yaml.safe_load((fork / relative).read_text()) or {}
        assert _paths(before) <= _paths(after), relative
    applications = yaml.safe_load((fork / f"environments/values-{env}.yaml").read_text())
    for app in ("mobu", "nublado", "portal", "postgres", "squareone", "tap", "ssotap"):
        assert applications["applications"][app] is True


def _paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict) and value:
        return {p for k, v in value.items() for p in _paths(v, f"{prefix}.{k}")}
    return {prefix}
