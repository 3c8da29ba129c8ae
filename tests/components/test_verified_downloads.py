"""What a node does with a download, run for real: the runcmd lines `fetch` and
`trust_signing_key` write are executed by `sh` (as cloud-init runs runcmd) against local
files served through `file://` URLs, with real sha256sum and gpg."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.kubeadm.cloud_init import Download, fetch, trust_signing_key

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("sh", "curl", "sha256sum", "gpg", "awk")),
    reason="needs sh, curl, sha256sum, gpg and awk",
)


def _run(line: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The line, then a marker: runcmd is one script, so a failed check must stop it."""
    env = {**os.environ, **({"GNUPGHOME": str(home)} if home else {})}
    return subprocess.run(
        ["/bin/sh", "-c", f"{line}\necho next-step"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    source = tmp_path / "served" / "manifest.yaml"
    source.parent.mkdir()
    source.write_text("kind: ConfigMap\n")
    return source


def test_a_file_with_its_pinned_digest_is_kept_and_the_boot_goes_on(
    tmp_path: Path, manifest: Path
) -> None:
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    target = tmp_path / "manifest.yaml"
    result = _run(fetch(Download(manifest.as_uri(), str(target), digest)))
    assert result.returncode == 0, result.stderr
    assert "next-step" in result.stdout
    assert target.read_bytes() == manifest.read_bytes()


def test_a_file_that_differs_from_its_pin_is_removed_and_stops_the_boot(
    tmp_path: Path, manifest: Path
) -> None:
    target = tmp_path / "manifest.yaml"
    result = _run(fetch(Download(manifest.as_uri(), str(target), "0" * 64)))
    assert result.returncode == 1
    assert "next-step" not in result.stdout
    assert not target.exists()
    assert f"{manifest.as_uri()} failed its sha256 check" in result.stderr


def test_a_missing_file_stops_the_boot(tmp_path: Path) -> None:
    missing = (tmp_path / "absent.yaml").as_uri()
    result = _run(fetch(Download(missing, str(tmp_path / "x"), "0" * 64)))
    assert (result.returncode, "next-step" in result.stdout) == (1, False)


def _gpg(home: Path, *args: str) -> str:
    """gpg in batch mode on the key ring in `home`; its standard output."""
    return subprocess.run(
        ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args],
        env={**os.environ, "GNUPGHOME": str(home)},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def _key(home: Path, name: str) -> tuple[str, str]:
    """A new signing key's (armored public key, fingerprint)."""
    email = f"{name}@example.org"
    _gpg(home, "--quick-gen-key", f"{name} <{email}>", "ed25519", "sign", "1d")
    listing = _gpg(home, "--with-colons", "--list-keys", email)
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line[:4] == "fpr:")
    return _gpg(home, "--armor", "--export", email), fingerprint


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    yield {name: _key(home, name) for name in ("repository", "intruder")}
    # Making keys started an agent for this key ring; it must not outlive the tests.
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, timeout=60
    )


def _serve(tmp_path: Path, *armored: str) -> str:
    served = tmp_path / "Release.key"
    served.write_text("".join(armored))
    return served.as_uri()


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "node-gnupg"
    home.mkdir(mode=0o700)
    return home


def test_the_pinned_signing_key_is_installed_for_apt(
    tmp_path: Path, keys: dict[str, tuple[str, str]]
) -> None:
    armored, fingerprint = keys["repository"]
    keyring = tmp_path / "keyrings" / "repository.gpg"
    line = trust_signing_key(_serve(tmp_path, armored), fingerprint, str(keyring))
    result = _run(line, _home(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "next-step" in result.stdout
    assert keyring.read_bytes()[:1] != b"-", "apt's signed-by wants the binary keyring"


@pytest.mark.parametrize("served", [["intruder"], ["repository", "intruder"]])
def test_any_other_key_stops_the_boot_before_apt_trusts_it(
    tmp_path: Path, keys: dict[str, tuple[str, str]], served: list[str]
) -> None:
    _, fingerprint = keys["repository"]
    keyring = tmp_path / "keyrings" / "repository.gpg"
    url = _serve(tmp_path, *(keys[name][0] for name in served))
    result = _run(trust_signing_key(url, fingerprint, str(keyring)), _home(tmp_path))
    assert result.returncode == 1
    assert "next-step" not in result.stdout
    assert not keyring.exists()
    assert f"is not the key {fingerprint}" in result.stderr
