"""Secret text with its secret material masked, so reviewers can diff it line by line.

A node's user data is a secret because it holds keys and a bootstrap token, yet most of it
(packages, kubelet pins, boot steps) is what a reviewer needs to see change. Each rule
below masks one kind of material with a digest of it, so a changed key still shows as a
changed line without saying what the key is.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable

_PEM_BEGIN = re.compile(r"^(\s*(?:[\w-]+:\s*)?['\"]?)-----BEGIN ([A-Z0-9 ]+)-----")
_CONTINUED = "  \u21b3 "  # marks a line split out of an escaped `\\n`
_PEM_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _mask(kind: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        secret = match.group("secret")
        start, end = match.span("secret")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + f"[{kind}:{_digest(secret)}]" + whole[end - offset :]

    return replace


# (what it is, pattern with a `secret` group), applied to every line outside PEM blocks.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # kubeadm bootstrap tokens: [a-z0-9]{6}.[a-z0-9]{16}
    ("token", re.compile(r"(?<![\w.])(?P<secret>[a-z0-9]{6}\.[a-z0-9]{16})(?![\w.])")),
    # `key: value` / `key = value` where the key names a secret
    (
        "redacted",
        re.compile(
            r"(?i)^\s*[-\w.]*(?:secret|password|passwd|token|private[-_]?key)[-\w.]*\s*[:=]\s*"
            r"(?P<secret>[^\s'\"]\S*)"
        ),
    ),
    # long base64 runs (encoded keys or archives)
    ("base64", re.compile(r"(?P<secret>[A-Za-z0-9+/]{40,}={0,2})")),
)


def redact(text: str) -> list[str]:
    """The lines of `text`, each PEM block as one line and every secret masked by digest."""
    return list(_redacted(text))


# A node group's nodes share one user data: a 200-node plan redacts the same text 200 times.
@functools.lru_cache(maxsize=64)
def _redacted(text: str) -> tuple[str, ...]:
    lines: list[str] = []
    block: list[str] | None = None
    prefix = ""
    for line in text.splitlines():
        if block is not None:
            block.append(line)
            if _PEM_END.search(line):
                kind = _PEM_END.search(line).group(1).lower()  # type: ignore[union-attr]
                lines.append(f"{prefix}[{kind.replace(' ', '-')}:{_digest(chr(10).join(block))}]")
                block = None
            continue
        begin = _PEM_BEGIN.match(line)
        if begin:
            prefix, block = begin.group(1), [line]
            if _PEM_END.search(line):  # a one-line PEM (escaped newlines)
                kind = begin.group(2).lower().replace(" ", "-")
                lines.append(f"{prefix}[{kind}:{_digest(line)}]")
                block = None
            continue
        masked = line
        for kind, pattern in RULES:
            masked = pattern.sub(_mask(kind), masked)
        # A YAML double-quoted scalar keeps a whole file on one line: one line per line.
        first, *rest = masked.split("\\n")
        lines.append(first)
        lines += [f"{_CONTINUED}{part}" for part in rest if part]
    if block is not None:  # an unterminated block is still secret
        lines.append(f"{prefix}[pem:{_digest(chr(10).join(block))}]")
    return tuple(lines)
