"""The cluster's credential against the real Keystone and the services' own middleware:
what OCCM and Cinder CSI call is allowed, anything else is refused.

Keystone does not apply access rules to its own API: such a credential can still read its
user's identity objects (`GET /v3/credentials` answered here), which is why the program's
user must own nothing in other projects (docs/architecture.md, Safety)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest
from openstack import exceptions

from components.openstack.cloud_credentials import CLOUD_PROVIDER_ACCESS_RULES
from infra.ops.cloud import as_application_credential

pytestmark = pytest.mark.cloud


@pytest.fixture(scope="module")
def restricted(demo: Any) -> Iterator[Any]:
    """A connection through an application credential limited by ukdac's rules."""
    user = demo.current_user_id
    credential = demo.identity.create_application_credential(
        user=user,
        name=f"ukdac-rules-{uuid.uuid4().hex[:8]}",
        roles=[{"name": "member"}],
        access_rules=[asdict(rule) for rule in CLOUD_PROVIDER_ACCESS_RULES],
    )
    yield as_application_credential(demo, credential.id, credential.secret)
    demo.identity.delete_application_credential(user, credential.id)


def test_what_the_cloud_provider_reads_is_allowed(restricted: Any) -> None:
    list(restricted.compute.servers())  # OCCM: node addresses and lifecycle
    list(restricted.compute.flavors())
    list(restricted.network.ports())
    list(restricted.network.ips())


def test_cinder_csi_makes_and_removes_volumes(restricted: Any) -> None:
    volume = restricted.block_storage.create_volume(size=1, name=f"pvc-{uuid.uuid4().hex[:8]}")
    try:
        restricted.block_storage.wait_for_status(volume, status="available", wait=120)
        assert restricted.block_storage.get_volume(volume.id).size == 1
    finally:
        restricted.block_storage.delete_volume(volume.id)
        restricted.block_storage.wait_for_delete(volume, wait=120)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.network.create_network(name="escape"), id="create a network"),
        pytest.param(
            lambda c: c.compute.create_server(
                name="escape", flavor_id="1", image_id="x", networks="none"
            ),
            id="create a server",
        ),
        pytest.param(lambda c: list(c.image.images()), id="list images"),
        pytest.param(
            lambda c: c.identity.create_application_credential(
                user=c.current_user_id, name="escape"
            ),
            id="make another credential",
        ),
    ],
)
def test_anything_else_is_refused(restricted: Any, call: Any) -> None:
    with pytest.raises((exceptions.HttpException, exceptions.SDKException)) as raised:
        call(restricted)
    status = getattr(raised.value, "status_code", None)
    assert status in (401, 403), raised.value
