"""Charts and files from the stack's mirror (`ukdac:mirror`), with the same version and sha256
pins as from upstream: a site behind a firewall (or a test without the Internet) changes where
things come from, never what they are."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from components.kubernetes.helm import ChartRef
from infra.errors import UkdacError
from infra.stack.model import MirrorConfig
from infra.versions import CHART_REPOSITORIES, download_sha256, pinned


class MirrorError(UkdacError):
    """A mirrored file is missing or is not the pinned one."""


def chart(mirror: MirrorConfig, name: str) -> ChartRef:
    """The pinned chart `name`: from its repository, or from the mirror."""
    version = pinned(f"chart/{name}")
    where = mirror.charts
    if where is None:
        return ChartRef(name, version, CHART_REPOSITORIES[name])
    if where.startswith("oci://"):
        return ChartRef(f"{where.rstrip('/')}/{name}", version, "")
    archive = Path(where) / f"{name}-{version}.tgz"
    return ChartRef(
        str(archive if archive.is_file() else Path(where) / f"{name}-{version}"), version, ""
    )


def file_url(mirror: MirrorConfig, url: str) -> str:
    """Where `url` is fetched from: the mirror's `<prefix>/<host>/<path>`, or `url` itself."""
    if mirror.files is None:
        return url
    parts = urlsplit(url)
    return f"{mirror.files}/{parts.netloc}{parts.path}"


def node_url(mirror: MirrorConfig, url: str) -> str:
    """Where a node fetches `url`: nodes cannot read the operator's disk, so a `file://`
    mirror leaves their downloads upstream (the node checks the sha256 either way)."""
    mirrored = file_url(mirror, url)
    return mirrored if mirrored.startswith("https://") else url


def manifest(mirror: MirrorConfig, url: str) -> str:
    """A manifest the program applies: its URL, or a mirrored local copy checked against
    the sha256 pinned for `url` (a copy that differs stops the plan)."""
    source = file_url(mirror, url)
    if not source.startswith("file://"):
        return source
    path = Path(urlsplit(source).path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise MirrorError(
            f"mirror.files: cannot read {path} for {url} ({error.strerror})"
        ) from None
    if digest != download_sha256(url):
        raise MirrorError(
            f"mirror.files: {path} has sha256 {digest}, but {url} is pinned to "
            f"{download_sha256(url)} in infra/versions.py"
        )
    return str(path)
