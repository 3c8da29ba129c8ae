"""Installing phalanx's library once per dependency set, safely when runs overlap."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.ops.phalanx_library import PhalanxLibraryError, phalanx_python


def _slow_installer(calls: list[str], delay: float) -> Callable[[Path, Path], None]:
    def installer(venv: Path, checkout: Path) -> None:
        calls.append(str(venv))
        (venv / "bin").mkdir(parents=True)
        time.sleep(delay)  # long enough for the other run to arrive while this one builds
        (venv / "bin" / "python").write_text("#!/bin/sh\n")

    return installer


def test_two_cold_installs_at_once_build_once_and_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs at once used to race (`venv --clear` under the other's feet) and leave a
    broken environment that failed every later run."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checkout = tmp_path / "phalanx"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text("[project]\nname = 'phalanx'\n")
    calls: list[str] = []
    installer = _slow_installer(calls, 0.5)
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda _: phalanx_python(checkout, installer), range(2)))
    assert found[0] == found[1] and found[0].is_file()
    assert len(calls) == 1
    venv = found[0].parent.parent
    assert (venv / ".ukdac-installed").is_file()
    assert sorted(p.name for p in venv.parent.iterdir()) == [venv.name, f"{venv.name}.lock"]


def test_a_half_built_environment_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checkout = tmp_path / "phalanx"
    checkout.mkdir()
    calls: list[str] = []

    def failing(venv: Path, checkout: Path) -> None:
        (venv / "bin").mkdir(parents=True)
        raise PhalanxLibraryError("pip failed")

    with pytest.raises(PhalanxLibraryError):
        phalanx_python(checkout, failing)
    cache = tmp_path / "cache" / "ukdac"
    assert [p for p in cache.iterdir() if not p.name.endswith(".lock")] == []
    # An older run's half-built folder in place (no marker) is replaced, not trusted.
    venv = next(cache.glob("*.lock")).with_suffix("")
    (venv / "bin").mkdir(parents=True)
    python = phalanx_python(checkout, _slow_installer(calls, 0))
    assert python == venv / "bin" / "python" and python.is_file() and len(calls) == 1
