"""A small phalanx fork on disk, shaped like the real one, for the writer's unit tests.

It holds what the writer reads (the environments chart's defaults, each application's
Chart.yaml) and a live environment whose files carry comments, quoting and keys of their
own, which the writer must keep. The upstream tier runs the same writer on the real fork.
"""

from __future__ import annotations

from pathlib import Path

DEFAULTS = """\
# -- Name of the environment
name: ""
fqdn: ""
applications:
  # -- Always on
  argocd: true
  cert-manager: true
  gafaelfawr: true
  ingress-nginx: true
  repertoire: true
  vault-secrets-operator: true
  # -- Optional
  nublado: false
  tap: false
"""

LIVE_ENVIRONMENT = """\
name: "ukidacdev"
fqdn: "rsp-dev.lsst.ac.uk"
appOfAppsName: "science-platform"
vaultUrl: "https://vault.rsp-dev.lsst.ac.uk"
vaultPathPrefix: "secret/phalanx/ukidacdev"
# What the DAC runs here.
applications:
  nublado: true
  tap: true
"""

LIVE_TAP = """\
cadc-tap:
  # Kept by ukdac: the fork's own settings.
  uws:
    type: "containerized"

  config:
    gcsBucket: "async-test"
    jvmMaxHeapSize: "31G"
"""

LIVE_GAFAELFAWR = """\
config:
  github:
    clientId: "c4a5727c5788cc2d346e"
"""


ENVIRONMENTS_INDEX = """\
############
Environments
############

.. toctree::
   :maxdepth: 1

   idfdev/index
   ukidacdev/index
   usdfdev/index
"""

LIVE_PAGE = """\
.. px-env:: ukidacdev

The fork's own page, written by people.
"""


def make_fork(root: Path) -> Path:
    """Write the fork under `root` and return it."""
    (root / "environments").mkdir(parents=True)
    (root / "environments" / "values.yaml").write_text(DEFAULTS)
    (root / "environments" / "values-ukidacdev.yaml").write_text(LIVE_ENVIRONMENT)
    for app in (
        "argocd",
        "cert-manager",
        "gafaelfawr",
        "ingress-nginx",
        "repertoire",
        "vault-secrets-operator",
        "nublado",
        "tap",
    ):
        folder = root / "applications" / app
        folder.mkdir(parents=True)
        (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {app}\nversion: 1.0.0\n")
    (root / "applications" / "tap" / "values-ukidacdev.yaml").write_text(LIVE_TAP)
    (root / "applications" / "gafaelfawr" / "values-ukidacdev.yaml").write_text(LIVE_GAFAELFAWR)
    (root / "docs" / "environments" / "ukidacdev").mkdir(parents=True)
    (root / "docs" / "environments" / "index.rst").write_text(ENVIRONMENTS_INDEX)
    (root / "docs" / "environments" / "ukidacdev" / "index.rst").write_text(LIVE_PAGE)
    return root
