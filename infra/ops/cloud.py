"""The adapter to a real OpenStack: connecting, retrying, and errors a person can act on.

Every call the tooling makes goes through `Cloud.call`, which retries transient failures
(connection refused or reset, 5xx) a bounded number of times with backoff, turns the
rest into a one-line `CloudError`, and counts requests for the benchmark.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openstack
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as os_exc

from infra.errors import UkdacError

T = TypeVar("T")
TRANSIENT_STATUS = {500, 502, 503, 504}


class CloudError(UkdacError):
    """OpenStack could not be used; the message says why and what to check."""


def _status(error: BaseException) -> int | None:
    for attribute in ("status_code", "http_status"):
        value = getattr(error, attribute, None)
        if isinstance(value, int):
            return value
    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    if isinstance(code, int):
        return code
    # openstacksdk sometimes re-raises keystoneauth errors as text only: "... (HTTP 401) ..."
    found = re.search(r"\(HTTP (\d{3})\)", str(error))
    return int(found.group(1)) if found else None


def _unreachable(error: BaseException) -> bool:
    # openstacksdk re-raises keystoneauth's ConnectFailure as a plain SDKException at times.
    return isinstance(error, ks_exc.ConnectFailure | ks_exc.ConnectTimeout) or (
        "Unable to establish connection" in str(error)
    )


def explain(error: BaseException, cloud: str) -> str:
    """One line that says what went wrong and what to check."""
    status = _status(error)
    if isinstance(error, ks_exc.MissingRequiredOptions | ks_exc.NoMatchingPlugin):
        return f"cloud '{cloud}': no usable credentials in clouds.yaml ({error})"
    if isinstance(error, os_exc.ConfigException) and "was not found" in str(error):
        return (
            f"cloud '{cloud}' is not in any clouds.yaml (set OS_CLOUD or the stack's "
            f"ukdac:cloud.name, or OS_CLIENT_CONFIG_FILE): {error}"
        )
    if isinstance(error, ks_exc.Unauthorized) or status == 401:
        return f"cloud '{cloud}': the credentials were refused (401): check clouds.yaml"
    if _unreachable(error):
        reason = str(error).split(":", 1)[0] if "Unable to establish" in str(error) else error
        return f"cloud '{cloud}': cannot reach the endpoint after retries: {reason}"
    if isinstance(error, ks_exc.EndpointNotFound | os_exc.EndpointNotFound):
        return f"cloud '{cloud}': a service is missing from the catalog: {error}"
    if status is not None and status >= 500:
        return f"cloud '{cloud}': the service kept failing ({status}) after retries: {error}"
    return f"cloud '{cloud}': {type(error).__name__}: {error}"


def _transient(error: BaseException) -> bool:
    if _unreachable(error):
        return True
    status = _status(error)
    return status in TRANSIENT_STATUS


@dataclass
class Cloud:
    """A connection with retries and a request counter."""

    name: str
    connection: Any
    retries: int = 4
    backoff: float = 0.5
    requests: int = field(default=0)

    def call(self, what: Callable[[], T]) -> T:
        """Run one API operation (a request, or a listing consumed whole)."""
        for attempt in range(self.retries + 1):
            self.requests += 1
            try:
                return what()
            except (ks_exc.ClientException, os_exc.SDKException) as error:
                if attempt < self.retries and _transient(error):
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise CloudError(explain(error, self.name)) from None
        raise AssertionError("unreachable")

    def has_service(self, service_type: str) -> bool:
        """Whether the catalog has the service (and the SDK can use it)."""
        try:
            endpoint = self.call(lambda: self.connection.endpoint_for(service_type))
        except CloudError:
            return False
        return bool(endpoint)


def cloud_name(configured: str) -> str:
    """The clouds.yaml entry to use: OS_CLOUD overrides the stack's `ukdac:cloud.name`."""
    return os.environ.get("OS_CLOUD") or configured


def connect(configured: str, region: str | None = None) -> Cloud:
    """Connect and authenticate now, so a bad cloud fails here with a clear message."""
    name = cloud_name(configured)
    try:
        connection = openstack.connect(cloud=name, region_name=region)
    except (ks_exc.ClientException, os_exc.SDKException) as error:
        raise CloudError(explain(error, name)) from None
    cloud = Cloud(name, connection)
    cloud.call(connection.authorize)
    return cloud


def as_application_credential(connection: Any, credential_id: str, secret: str) -> Any:
    """A connection to the same cloud and region that authenticates as an application
    credential (to see what the credential itself may do)."""
    return openstack.connection.Connection(
        auth_type="v3applicationcredential",
        auth={
            "auth_url": connection.auth["auth_url"],
            "application_credential_id": credential_id,
            "application_credential_secret": secret,
        },
        region_name=connection.config.get_region_name(),
    )
