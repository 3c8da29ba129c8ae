"""The server-level NGINX configuration that Gafaelfawr-protected Ingresses need.

Gafaelfawr's per-Ingress snippet copies the auth subrequest's status, body and headers into
`$auth_*` variables and sends failures to the named location `@autherror`. Both must exist
on every server the controller renders, or NGINX rejects the whole configuration: the
variables are declared (empty) here and the location answers with the status, body and
headers Gafaelfawr chose.
"""

from __future__ import annotations

LOCATION = "@autherror"

# Variables the per-Ingress snippets fill from the auth subrequest.
VARIABLES = (
    "auth_error_body",
    "auth_ratelimit_limit",
    "auth_ratelimit_remaining",
    "auth_ratelimit_reset",
    "auth_ratelimit_resource",
    "auth_ratelimit_used",
    "auth_retry_after",
    "auth_status",
    "auth_www_authenticate",
)

# Response headers by the status Gafaelfawr reported; any other failure becomes a bare 403.
NO_CACHE = {"Cache-Control": '"no-cache, must-revalidate"'}
CHALLENGE = {**NO_CACHE, "WWW-Authenticate": "$auth_www_authenticate"}
HEADERS_BY_STATUS: dict[int, dict[str, str]] = {
    400: CHALLENGE,
    429: {
        **NO_CACHE,
        "Retry-After": "$auth_retry_after",
        "X-RateLimit-Limit": "$auth_ratelimit_limit",
        "X-RateLimit-Remaining": "$auth_ratelimit_remaining",
        "X-RateLimit-Reset": "$auth_ratelimit_reset",
        "X-RateLimit-Resource": "$auth_ratelimit_resource",
        "X-RateLimit-Used": "$auth_ratelimit_used",
    },
}
DEFAULT_STATUS = 403
DEFAULT_HEADERS = CHALLENGE


def _headers(headers: dict[str, str], indent: str) -> list[str]:
    return [f"{indent}add_header {name} {value} always;" for name, value in headers.items()]


def server_snippet() -> str:
    """The `server-snippet` controller setting: declarations, then the error location."""
    lines = [f"set ${variable} '';" for variable in VARIABLES]
    lines += [f"location {LOCATION} {{", "  default_type application/json;"]
    for status, headers in HEADERS_BY_STATUS.items():
        lines.append(f"  if ($auth_status = {status}) {{")
        lines += _headers(headers, "    ")
        lines += [f"    return {status} $auth_error_body;", "  }"]
    lines += _headers(DEFAULT_HEADERS, "  ")
    lines += [f"  return {DEFAULT_STATUS};", "}"]
    return "\n".join(lines) + "\n"
