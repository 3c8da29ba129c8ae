"""Pins checked against the upstream sources they name: the operator's own manifests and
image pins, and phalanx's ingress controller."""

from __future__ import annotations

import pytest
import yaml

from infra.versions import QSERV_OPERATOR_MANIFEST, pinned
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream


def test_the_operator_manifest_is_taken_at_the_snapshots_commit() -> None:
    operator = upstream_dir("UKDAC_QSERV_OPERATOR_DIR")
    url = QSERV_OPERATOR_MANIFEST.format(commit=pinned("qserv-operator"))
    path = url.split(f"/{pinned('qserv-operator')}/", 1)[1]
    manifest = (operator / path).read_text()
    # The manifest at that commit runs the operator image the Qserv images belong to.
    tag = pinned("image/qserv").rsplit(":", 1)[1]
    assert f"image: qserv/qserv-operator:{tag}" in manifest


def test_qserv_image_pins_are_the_operators_own() -> None:
    operator = upstream_dir("UKDAC_QSERV_OPERATOR_DIR")
    spec = yaml.safe_load((operator / "manifests" / "base" / "image.yaml").read_text())["spec"]
    assert pinned("image/qserv") == spec["image"]
    assert pinned("image/qserv-db") == spec["dbImage"]


def test_the_ingress_controller_is_phalanxs_by_tag_and_digest() -> None:
    phalanx = upstream_dir("UKDAC_PHALANX_DIR")
    values = yaml.safe_load(
        (phalanx / "applications" / "ingress-nginx" / "values.yaml").read_text()
    )
    image = values["ingress-nginx"]["controller"]["image"]
    expected = f"{image['registry']}/{image['image']}:{image['tag']}@{image['digest']}"
    assert pinned("image/ingress-nginx-controller") == expected
    chroot = f"{image['registry']}/{image['image']}-chroot:{image['tag']}@{image['digestChroot']}"
    assert pinned("image/ingress-nginx-controller-chroot") == chroot


def test_the_snapshot_jobs_vault_cli_is_the_servers_image() -> None:
    charts = upstream_dir("UKDAC_CHARTS_DIR")
    values = yaml.safe_load((charts / f"vault-{pinned('chart/vault')}" / "values.yaml").read_text())
    image = values["server"]["image"]
    assert pinned("image/vault") == f"{image['repository']}:{image['tag']}"
