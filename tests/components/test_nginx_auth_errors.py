"""The controller's server snippet, read by NGINX's own configuration parser (crossplane).

Gafaelfawr puts a snippet like `GAFAELFAWR_LOCATION` into each protected Ingress's location
(from its documentation: the `nginx.ingress.kubernetes.io/configuration-snippet` it emits).
NGINX loads a server only if everything that snippet names is defined at server level, so
these tests render a server the way the controller does and check it is a valid, complete
configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import crossplane

from components.kubernetes.helm import ChartRef
from components.kubernetes.ingress import ImageRef, IngressArgs, controller_values
from components.kubernetes.nginx_auth_errors import HEADERS_BY_STATUS, server_snippet

GAFAELFAWR_LOCATION = """
auth_request_set $auth_www_authenticate $upstream_http_www_authenticate;
auth_request_set $auth_status $upstream_http_x_error_status;
auth_request_set $auth_error_body $upstream_http_x_error_body;
auth_request_set $auth_retry_after $upstream_http_retry_after;
auth_request_set $auth_ratelimit_limit $upstream_http_x_ratelimit_limit;
error_page 403 = @autherror;
"""


def _parse(tmp_path: Path, server_body: str) -> dict[str, Any]:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n  server {\n    listen 443;\n"
        f"{server_body}\n"
        f"    location / {{\n{GAFAELFAWR_LOCATION}\n"
        "      proxy_pass http://127.0.0.1:8080;\n    }\n"
        "  }\n}\n",
        encoding="utf-8",
    )
    payload: dict[str, Any] = crossplane.parse(str(conf), strict=True)
    return payload


def _walk(block: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for directive in block:
        yield directive
        yield from _walk(directive.get("block", []))


def _server(payload: dict[str, Any]) -> list[dict[str, Any]]:
    (config,) = payload["config"]
    http = next(d for d in config["parsed"] if d["directive"] == "http")
    (server,) = [d for d in http["block"] if d["directive"] == "server"]
    block: list[dict[str, Any]] = server["block"]
    return block


def test_snippet_is_valid_nginx_in_server_context(tmp_path: Path) -> None:
    payload = _parse(tmp_path, server_snippet())
    assert payload["errors"] == [], payload["errors"]
    assert payload["status"] == "ok"


def test_every_name_gafaelfawr_uses_is_defined_at_server_level(tmp_path: Path) -> None:
    server = _server(_parse(tmp_path, server_snippet()))
    declared = {d["args"][0] for d in server if d["directive"] == "set"}
    named_locations = {d["args"][0] for d in server if d["directive"] == "location"}
    used_variables: set[str] = set()
    targets: set[str] = set()
    for directive in _walk(server):
        for arg in directive["args"]:
            used_variables.update(re.findall(r"\$auth_\w+", arg))
        if directive["directive"] == "error_page":
            targets.add(directive["args"][-1].lstrip("="))
    assert targets == {"@autherror"}
    assert targets <= named_locations
    assert used_variables and used_variables <= declared


def test_without_the_snippet_the_server_is_incomplete(tmp_path: Path) -> None:
    """The check above is not vacuous: the bare server lacks the location and variables."""
    server = _server(_parse(tmp_path, ""))
    assert not any(d["directive"] == "location" and d["args"] == ["@autherror"] for d in server)
    assert not any(d["directive"] == "set" for d in server)


def test_statuses_gafaelfawr_reports_are_returned_with_the_body(tmp_path: Path) -> None:
    server = _server(_parse(tmp_path, server_snippet()))
    (location,) = [d for d in server if d["args"] == ["@autherror"]]
    branches = {int(d["args"][-1]): d["block"] for d in location["block"] if d["directive"] == "if"}
    assert set(branches) == set(HEADERS_BY_STATUS) == {400, 429}
    for status, block in branches.items():
        assert {"directive": "return", "args": [str(status), "$auth_error_body"]} in [
            {"directive": d["directive"], "args": d["args"]} for d in block
        ]
        for header in (d for d in block if d["directive"] == "add_header"):
            assert header["args"][-1] == "always"  # sent on error responses too
    final = location["block"][-1]
    assert (final["directive"], final["args"]) == ("return", ["403"])


def test_the_controller_is_configured_with_the_snippet() -> None:
    args = IngressArgs(
        chart=ChartRef("ingress-nginx", "4.15.1", "https://example.org"),
        image=ImageRef("ghcr.io", "x/controller", "v1"),
        public_address="192.0.2.10",
    )
    config = controller_values(args, "192.0.2.10")["controller"]
    assert isinstance(config, dict)
    assert config["config"]["server-snippet"] == server_snippet()
    assert config["allowSnippetAnnotations"] is True
    assert config["config"]["annotations-risk-level"] == "Critical"
