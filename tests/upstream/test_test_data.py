"""tests/data is what its README says it is: equal to the upstream files it names.

The unit suite validates against the copies in tests/data; this tier proves each copy (or
generated key list) still matches the real chart or repository it came from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.data import DATA
from tests.support.upstream import upstream_dir

pytestmark = pytest.mark.upstream

# tests/data file -> the chart folder it was taken from (under UKDAC_CHARTS_DIR).
SCHEMAS = {
    "helm/vault-0.34.1.values.schema.json": "vault-0.34.1",
    "helm/cert-manager-v1.21.1.values.schema.json": "cert-manager-v1.21.1",
}


def _keys_module() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("keys", DATA / "helm" / "keys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chart_key_lists_match_the_real_charts() -> None:
    charts = upstream_dir("UKDAC_CHARTS_DIR")
    keys = _keys_module()
    for chart in keys.CHARTS:  # type: ignore[attr-defined]
        values = (charts / chart / "values.yaml").read_text(encoding="utf-8")
        committed = (DATA / "helm" / f"{chart}.keys").read_text(encoding="utf-8").splitlines()
        assert committed[1:] == keys.keys(values), (  # type: ignore[attr-defined]
            f"tests/data/helm/{chart}.keys is stale: regenerate it (tests/data/README.md)"
        )


@pytest.mark.parametrize(("copy", "chart"), sorted(SCHEMAS.items()))
def test_values_schemas_are_the_charts_own(copy: str, chart: str) -> None:
    charts = upstream_dir("UKDAC_CHARTS_DIR")
    assert (DATA / copy).read_bytes() == (charts / chart / "values.schema.json").read_bytes()


def test_qserv_crd_is_the_operators_own() -> None:
    operator = upstream_dir("UKDAC_QSERV_OPERATOR_DIR")
    real = operator / "config" / "crd" / "bases" / "qserv.lsst.org_qservs.yaml"
    copy = DATA / "crds" / "qserv.lsst.org_qservs.crd.yaml"
    assert yaml.safe_load(copy.read_text()) == yaml.safe_load(Path(real).read_text())
