"""No stack file crashes or hangs ukdac: the whole broken-file corpus, and secrets unechoed."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli.app import app
from tests.support.corpus import corpus
from tests.support.stacks import project_file

DISPLAY = "stacks/Pulumi.ukdac-case.yaml"
# Where the problem is: a YAML position, a key path, or (for bytes that are not YAML at
# all) the offset or the reason.
LOCATED = re.compile(
    rf"{re.escape(DISPLAY)}(:\d+:\d+|: ukdac:\S|: (not UTF-8 text|a binary file|\d+ bytes|"
    r"unknown top-level key|must be a mapping|config key\(s\)|this looks like a stack file|"
    r"'config' must be|config namespace)|: \d+ problems?)"
)
SUMMARY: list[str] = []


@pytest.fixture(scope="module")
def case_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    (root / "Pulumi.yaml").write_text(project_file())
    (root / "stacks").mkdir()
    return root


def _check(root: Path, data: bytes) -> tuple[int, str, float]:
    (root / "stacks" / "Pulumi.ukdac-case.yaml").write_bytes(data)
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["config", "check", "ukdac-case"])
    took = time.perf_counter() - start
    return result.exit_code, result.stdout + result.stderr, took


def test_every_broken_file_is_refused_cleanly(
    case_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case_project)
    cases = corpus()
    assert len(cases) >= 300
    failures = []
    slowest = 0.0
    by_category: dict[str, int] = {}
    for category, name, data in cases:
        code, output, took = _check(case_project, data)
        slowest = max(slowest, took)
        by_category[category] = by_category.get(category, 0) + 1
        problems = []
        if code != 2:
            problems.append(f"exit {code}")
        if "Traceback" in output:
            problems.append("traceback")
        if not LOCATED.search(output):
            problems.append("names no key path or position")
        if took > 5:
            problems.append(f"{took:.1f} s")
        if problems:
            failures.append(f"{category}: {name}: {', '.join(problems)}: {output[:200]!r}")
    rejected = len(cases) - len(failures)
    SUMMARY.append(
        f"bad-input corpus: {rejected} of {len(cases)} refused cleanly (exit 2, located, no "
        f"traceback), slowest {slowest:.2f} s; "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_category.items()))
    )
    assert failures == [], "\n".join(failures[:40])


def test_no_secret_is_echoed_whatever_key_it_sits_under(
    case_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case_project)
    secret = "Zq7-very-secret-value"
    for tls in (
        {"dns01": {"nameserver": "192.0.2.1:53", "tsigKeyName": "k", "tsigSecret": secret}},
        {"dns01": {"nameserver": "192.0.2.1:53", "tsigKeyName": "k", "tsigSecrett": secret}},
        {"tsigSecret": secret},
    ):
        document = {
            "config": {
                "ukdac:environment": "dev",
                "ukdac:fqdn": "rsp-dev.lsst.ac.uk",
                "ukdac:cloud": {"name": "c"},
                "ukdac:phalanx": {"environment": "ukidacdev"},
                "ukdac:tls": {
                    "solver": "dns01",
                    "issuer": "letsencrypt",
                    "acmeEmail": "a@b.org",
                    **tls,
                },
                "ukdac:mispelt": {"password": secret},
            }
        }
        import yaml

        code, output, _ = _check(case_project, yaml.safe_dump(document).encode())
        assert code == 2
        assert secret not in output, output
