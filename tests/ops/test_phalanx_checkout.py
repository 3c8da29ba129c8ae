"""Merging ukdac's keys into a phalanx fork: only ukdac's keys change, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.ops.phalanx_checkout import (
    PhalanxCheckout,
    PhalanxCheckoutError,
    changes_for,
    merge,
)
from infra.stack.deployment import Deployment
from infra.stack.validation import validate
from tests.support.phalanx_fork import ENVIRONMENTS_INDEX, LIVE_ENVIRONMENT, LIVE_PAGE, make_fork
from tests.support.stacks import DEV, with_changes

IDENTITY = {
    "github": {"clientId": "abc123", "teams": {"lsp-uk/dev": ["exec:notebook", "read:tap"]}},
    "initialAdmins": ["someone"],
}


def deployment(**changes: object) -> Deployment:
    return validate(with_changes(DEV, **changes), "ukdac-dev", "test")


def write(fork: Path, d: Deployment, **options: bool) -> dict[str, str]:
    checkout = PhalanxCheckout(fork)
    changes = [c for c in changes_for(checkout, d, **options) if c.changed]
    for change in changes:
        checkout.write(change)
    return {c.path: c.diff() for c in changes}


def test_the_live_environment_keeps_its_comments_applications_and_keys(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    diffs = write(fork, deployment())
    environment = (fork / "environments" / "values-ukidacdev.yaml").read_text()
    # Everything that was there stays, byte for byte, and ukdac's keys follow.
    assert environment.startswith(LIVE_ENVIRONMENT)
    assert yaml.safe_load(environment)["applications"] == {
        "nublado": True,
        "tap": True,
        "cert-manager": False,
        "ingress-nginx": False,
    }
    tap = (fork / "applications" / "tap" / "values-ukidacdev.yaml").read_text()
    assert "# Kept by ukdac: the fork's own settings." in tap
    assert 'type: "containerized"' in tap and 'jvmMaxHeapSize: "31G"' in tap
    config = yaml.safe_load(tap)["cadc-tap"]["config"]
    assert config["gcsBucket"] == "ukdac-dev-tap-results"
    assert config["qserv"] == {"host": "qserv-qserv.qserv.svc.cluster.local:4040"}
    # The diff shows what changed, line by line, and only that.
    assert '-    gcsBucket: "async-test"' in diffs["applications/tap/values-ukidacdev.yaml"]
    assert "+  cert-manager: false" in diffs["environments/values-ukidacdev.yaml"]
    # Written once, the checkout is up to date: a second run changes nothing.
    assert write(fork, deployment()) == {}


def test_files_for_every_enabled_application_and_the_tap_secrets(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    write(fork, deployment())
    written = {str(p.relative_to(fork)) for p in fork.rglob("*-ukidacdev.yaml")}
    # Enabled (by default or by the environment) and not ukdac's own: each has its file.
    assert written == {
        "environments/values-ukidacdev.yaml",
        "applications/argocd/values-ukidacdev.yaml",
        "applications/gafaelfawr/values-ukidacdev.yaml",
        "applications/nublado/values-ukidacdev.yaml",
        "applications/repertoire/values-ukidacdev.yaml",
        "applications/vault-secrets-operator/values-ukidacdev.yaml",
        "applications/tap/values-ukidacdev.yaml",
        "applications/tap/secrets-ukidacdev.yaml",
    }
    argocd = yaml.safe_load((fork / "applications/argocd/values-ukidacdev.yaml").read_text())
    assert argocd["argo-cd"]["server"]["ingress"]["hostname"] == "rsp-dev.lsst.ac.uk"
    assert argocd["argo-cd"]["configs"]["cm"]["url"] == "https://rsp-dev.lsst.ac.uk/argo-cd"
    secrets = yaml.safe_load((fork / "applications/tap/secrets-ukidacdev.yaml").read_text())
    assert set(secrets) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert yaml.safe_load((fork / "applications/repertoire/values-ukidacdev.yaml").read_text()) in (
        None,
        {},
    )


def test_a_new_environment_gets_gafaelfawr_from_the_identity(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    new = {"phalanx.environment": "ukidactest", "fqdn": "rsp-int.lsst.ac.uk"}
    with pytest.raises(PhalanxCheckoutError, match=r"ukdac:phalanx\.identity"):
        write(fork, deployment(**new))
    write(fork, deployment(**new, **{"phalanx.identity": IDENTITY}))
    gafaelfawr = yaml.safe_load(
        (fork / "applications/gafaelfawr/values-ukidactest.yaml").read_text()
    )
    team = {"github": {"organization": "lsp-uk", "team": "dev"}}
    assert gafaelfawr["config"] == {
        "github": {"clientId": "abc123"},
        "groupMapping": {"exec:notebook": [team], "read:tap": [team]},
        "initialAdmins": ["someone"],
    }
    # Optional applications the environment does not enable get no files.
    assert not (fork / "applications/tap/values-ukidactest.yaml").exists()


def test_a_new_environment_gets_its_page_and_toctree_line(tmp_path: Path) -> None:
    """phalanx's docs tests require both for every environment; the fork's CI went red on
    ukdac's first commit of a new one."""
    fork = make_fork(tmp_path / "fork")
    new = {"phalanx.environment": "ukidactest", "fqdn": "rsp-int.lsst.ac.uk"}
    write(fork, deployment(**new, **{"phalanx.identity": IDENTITY}))
    page = (fork / "docs/environments/ukidactest/index.rst").read_text()
    assert page.startswith(".. px-env:: ukidactest\n\n#")
    title = "ukidactest — rsp-int.lsst.ac.uk (LSST:UK Data Access Centre)"
    assert f"#{'#' * (len(title) - 1)}\n{title}\n{'#' * len(title)}\n" in page
    assert page.endswith(".. jinja:: ukidactest\n   :file: environments/_summary.rst.jinja\n")
    index = (fork / "docs/environments/index.rst").read_text()
    entries = [line.strip() for line in index.splitlines() if line.endswith("/index")]
    assert entries == ["idfdev/index", "ukidacdev/index", "ukidactest/index", "usdfdev/index"]
    # Written again: nothing changes.
    again = changes_for(PhalanxCheckout(fork), deployment(**new, **{"phalanx.identity": IDENTITY}))
    assert [c.path for c in again if c.changed] == []


def test_a_live_environments_page_is_the_forks(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    write(fork, deployment())
    assert (fork / "docs/environments/ukidacdev/index.rst").read_text() == LIVE_PAGE
    assert (fork / "docs/environments/index.rst").read_text() == ENVIRONMENTS_INDEX


def test_a_fork_without_phalanxs_docs_gets_none(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    shutil.rmtree(fork / "docs")
    write(fork, deployment(**{"phalanx.environment": "ukidactest", "phalanx.identity": IDENTITY}))
    assert not (fork / "docs").exists()


def test_a_live_environment_is_never_renamed_as_a_side_effect(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    moved = deployment(fqdn="rsp-elsewhere.lsst.ac.uk", **{"vault.url": "https://v.lsst.ac.uk"})
    with pytest.raises(PhalanxCheckoutError) as raised:
        write(fork, moved)
    message = str(raised.value)
    assert "fqdn: 'rsp-dev.lsst.ac.uk' in the fork, 'rsp-elsewhere.lsst.ac.uk' from the stack" in (
        message
    )
    assert "vaultUrl:" in message and "--allow-identity-change" in message
    assert (fork / "environments/values-ukidacdev.yaml").read_text() == LIVE_ENVIRONMENT
    write(fork, moved, allow_identity_change=True)
    assert yaml.safe_load((fork / "environments/values-ukidacdev.yaml").read_text())["fqdn"] == (
        "rsp-elsewhere.lsst.ac.uk"
    )


def test_nublado_subdomains_are_set_and_removed_again(tmp_path: Path) -> None:
    fork = make_fork(tmp_path / "fork")
    dns01 = {"solver": "dns01", "dns01": {"nameserver": "192.0.2.53:53", "tsigKeyName": "k"}}
    on = with_changes(DEV, **{"phalanx.nubladoSubdomains": True})
    on["tls"] = {**dns01, "issuer": "selfsigned"}
    on["tls"]["dns01"]["tsigSecret"] = "c2VjcmV0"
    d = validate(on, "ukdac-dev", "test", {("tls", "dns01", "tsigSecret")})
    write(fork, d)
    nublado = fork / "applications/nublado/values-ukidacdev.yaml"
    gafaelfawr = fork / "applications/gafaelfawr/values-ukidacdev.yaml"
    assert yaml.safe_load(nublado.read_text()) == {"hub": {"useSubdomains": True}}
    assert yaml.safe_load(gafaelfawr.read_text())["config"]["allowSubdomains"] is True
    write(fork, deployment())
    assert yaml.safe_load(nublado.read_text()) == {"hub": {}}
    assert "allowSubdomains" not in yaml.safe_load(gafaelfawr.read_text())["config"]


def test_merge_keeps_quoting_and_order_and_touches_equal_values_not_at_all() -> None:
    before = 'b: "x"  # why\na:\n  c: 1\n  d: [1, 2]\n'
    assert merge(before, {"b": "x", "a": {"c": 1}}, "header") == before
    after = merge(before, {"a": {"c": 2, "e": "new"}}, "header")
    assert after == 'b: "x"  # why\na:\n  c: 2\n  d: [1, 2]\n  e: new\n'


def test_not_a_phalanx_checkout_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(PhalanxCheckoutError, match=r"environments/values\.yaml"):
        PhalanxCheckout(tmp_path)
