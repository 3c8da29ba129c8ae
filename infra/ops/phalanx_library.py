"""phalanx's own library, run from the fork's checkout, for what only phalanx knows.

Which secrets an environment needs follows from each enabled application's `secrets.yaml`
(conditions on values included): ukdac asks phalanx rather than reading those files again.
phalanx needs Python 3.13 or later while ukdac runs on 3.11, so the library runs in its own
virtual environment, made on first use from the checkout (`pip install <checkout>`) and
kept in the user's cache, keyed by the checkout's dependency files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UkdacError
from infra.stack.deployment import Deployment

MINIMUM = (3, 13)

# Runs inside phalanx's environment: prints every secret the environment requires as JSON.
_LIST_SECRETS = """
import json, sys
from pathlib import Path
from phalanx.factory import Factory

environment = Factory(Path(sys.argv[1])).create_config_storage().load_environment(sys.argv[2])
print(json.dumps({
    "applications": sorted(environment.applications),
    "secrets": [
        {
            "application": s.application,
            "key": s.key,
            "generated": s.generate is not None or s.copy_rules is not None,
            "description": " ".join((s.description or "").split()),
        }
        for s in environment.all_secrets()
    ],
}))
"""


class PhalanxLibraryError(UkdacError):
    """phalanx's library could not be set up or run."""


@dataclass(frozen=True)
class RequiredSecret:
    """One secret phalanx requires in Vault for the environment."""

    application: str
    key: str
    generated: bool  # phalanx generates or copies it; otherwise someone must supply it
    description: str


def _runs(python: str) -> bool:
    try:
        found = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return False
    return tuple(int(part) for part in found) >= MINIMUM


def find_python() -> str:
    """A Python >= 3.13: $UKDAC_PHALANX_PYTHON, python3.13 on the PATH, or pyenv's."""
    candidates = [os.environ.get("UKDAC_PHALANX_PYTHON", ""), "python3.14", "python3.13"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob("3.1[3-9]*/bin/python3"))
    for candidate in candidates:
        if candidate and _runs(candidate):
            return candidate
    raise PhalanxLibraryError(
        "phalanx's library needs Python 3.13 or later, and none was found: install one "
        "(for example with pyenv) or name it in UKDAC_PHALANX_PYTHON"
    )


def _environment_dir(checkout: Path) -> Path:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "uv.lock"):
        path = checkout / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "ukdac" / f"phalanx-{digest.hexdigest()[:16]}"


Installer = Callable[[Path, Path], None]  # (empty folder to make the venv in, checkout)
MARKER = ".ukdac-installed"  # written last: a folder without it is half built


def install(venv: Path, checkout: Path) -> None:
    """Make a virtual environment in `venv` with the checkout's phalanx installed."""
    python = venv / "bin" / "python"
    steps = [
        [find_python(), "-m", "venv", str(venv)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(checkout),
        ],
    ]
    # A fork may be checked out without git history, which setuptools-scm needs.
    env = {**os.environ, "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise PhalanxLibraryError(
                f"setting up phalanx's library failed ({' '.join(step[:3])}): "
                f"{result.stderr.strip()[-2000:]}"
            )


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold `lock` (flock): one run installs, the others wait for it."""
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another run installing phalanx ({lock})", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def phalanx_python(checkout: Path, installer: Installer = install) -> Path:
    """The interpreter of a virtual environment with the checkout's phalanx installed.

    Made once per dependency set, under a lock, in a temporary folder renamed into place
    when complete: concurrent runs wait and then share it, and a folder an interrupted run
    left half built is made again.
    """
    venv = _environment_dir(checkout)
    python = venv / "bin" / "python"
    if (venv / MARKER).is_file():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(venv.with_name(venv.name + ".lock")):
        if (venv / MARKER).is_file():  # made by the run we waited for
            return python
        for stale in venv.parent.glob(f"{venv.name}.building-*"):
            shutil.rmtree(stale, ignore_errors=True)  # an interrupted run's (we hold the lock)
        if venv.exists():
            print(
                f"{venv} is half built (an interrupted install): making it again", file=sys.stderr
            )
            shutil.rmtree(venv)
        print(f"installing phalanx from {checkout} into {venv} (once)", file=sys.stderr)
        building = Path(tempfile.mkdtemp(prefix=f"{venv.name}.building-", dir=venv.parent))
        try:
            installer(building, checkout)
            (building / MARKER).touch()
            building.rename(venv)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return python


@dataclass(frozen=True)
class LoadedEnvironment:
    """An environment as phalanx's own models load it."""

    applications: tuple[str, ...]  # enabled
    secrets: tuple[RequiredSecret, ...]


def load_environment(checkout: Path, d: Deployment) -> LoadedEnvironment:
    """The stack's environment as phalanx loads it: enabled applications, required secrets."""
    environment = d.config.phalanx.environment
    result = subprocess.run(
        [str(phalanx_python(checkout)), "-c", _LIST_SECRETS, str(checkout), environment],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PhalanxLibraryError(
            f"phalanx could not load environment {environment} from {checkout}: "
            f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no output'}"
            " (write ukdac's values into the checkout first: `ukdac phalanx-values "
            f"{d.stack} --phalanx-dir {checkout}`)"
        )
    loaded = json.loads(result.stdout)
    return LoadedEnvironment(
        applications=tuple(loaded["applications"]),
        secrets=tuple(RequiredSecret(**entry) for entry in loaded["secrets"]),
    )


def required_secrets(checkout: Path, d: Deployment) -> list[RequiredSecret]:
    """Every secret phalanx requires for the stack's environment, as phalanx computes it."""
    return list(load_environment(checkout, d).secrets)
