"""Secret text redacted line by line: what reviewers see, and what they must never see."""

from __future__ import annotations

import re

from infra.plan.model import is_secret
from infra.plan.redact import redact
from tests.support.stacks import BACKENDS, STACKS, planned
from tests.support.values import all_strings

KEY = "\n".join(
    [
        "-----BEGIN EC PRIVATE KEY-----",
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oexample0123456789oAoGCCqGSM49",
        "AwEHoUQDQgAEexampleexampleexampleexampleexampleexampleexampleexample",
        "7eBd0qD2tpQop3l2/3/XMDgxJl3Q9RoRzg==",
        "-----END EC PRIVATE KEY-----",
    ]
)


def test_pem_blocks_become_one_masked_line_whatever_their_quoting() -> None:
    for prefix in ("", "    ", "  content: '", '  content: "'):
        lines = redact(f"before\n{prefix}{KEY}\nafter")
        assert lines[0] == "before" and lines[-1] == "after"
        (masked,) = lines[1:-1]
        assert re.fullmatch(re.escape(prefix) + r"\[ec-private-key:[0-9a-f]{8}\]", masked)
    # A different key is a different line, so a rotated key shows as a change.
    assert redact(KEY) != redact(KEY.replace("7eBd", "8eBd"))


def test_tokens_and_secret_settings_are_masked() -> None:
    text = "\n".join(
        [
            "  token: abcdef.0123456789abcdef",
            "kubeadm join --token abcdef.0123456789abcdef host:6443",
            "application-credential-secret = s3cr3t-value",
            "password: hunter2hunter2",
            "data: " + "QUJD" * 20,
            "kubelet=1.35.4-1.1",
        ]
    )
    lines = redact(text)
    joined = "\n".join(lines)
    for secret in ("abcdef.0123456789abcdef", "s3cr3t-value", "hunter2hunter2", "QUJD" * 20):
        assert secret not in joined
    assert lines[-1] == "kubelet=1.35.4-1.1"


def test_escaped_newlines_become_lines_of_their_own() -> None:
    assert redact('content: "a: 1\\nb: 2\\n"') == ['content: "a: 1', "  \u21b3 b: 2", '  \u21b3 "']


# What secret material looks like on a line of its own: base64 (keys, certificates) or a
# bootstrap token.
# Runs of key material inside a line (split at `/` too, so URLs fall apart into words).
TOKEN = re.compile(r"[A-Za-z0-9+]{16,}|[a-z0-9]{6}\.[a-z0-9]{16}")


def _random_looking(token: str) -> bool:
    """Digits among letters: generated material, not a word or a path of the recipe."""
    return any(c.isdigit() for c in token) and sum(c.isalpha() for c in token) >= 4


def test_no_line_of_any_secret_reaches_the_redacted_text_of_any_stack() -> None:
    """Every line (16+ characters) of every secret value stays out of every masked plan."""
    for backend in BACKENDS:
        for stack in STACKS:
            masked = planned(stack, backend)
            revealed = planned(stack, backend, show_secrets=True).by_urn()
            secret_lines: set[str] = set()
            for resource in masked.resources:
                for key, value in resource.inputs.items():
                    if is_secret(value):
                        for text in all_strings(revealed[resource.urn].inputs[key]):
                            # Key material wherever it sits in a line (`secret=...`, `data: ...`).
                            secret_lines |= {
                                token
                                for line in text.splitlines()
                                if not line.strip().startswith("-----")
                                for token in TOKEN.findall(line)
                                if _random_looking(token)
                            }
            assert secret_lines, stack
            shown = "\n".join(
                line for r in masked.resources for lines in r.secret_text.values() for line in lines
            )
            assert shown, stack
            leaked = {line for line in secret_lines if line in shown}
            assert leaked == set(), (stack, backend, sorted(leaked)[:3])


def test_user_data_shows_what_reviewers_need() -> None:
    plan = planned("ukdac-dev")
    (node,) = [r for r in plan.resources if r.name == "cluster-general-0"]
    lines = node.secret_text["userData"]
    assert lines[0] == "#cloud-config"
    assert any(re.search(r"kubelet=1\.35\.\d+-1\.1", line) for line in lines)
    assert any("[token:" in line for line in lines)
