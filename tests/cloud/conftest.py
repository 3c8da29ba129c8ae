"""The real OpenStack on 127.0.0.1 that tests/cloud/up.sh starts (`make test-cloud`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml

from infra.stack.files import Project, load_project
from tests.support.stacks import project_file
from tests.support.tiers import mark_tier, unavailable

CLOUD_DIR = Path(os.environ.get("OSBOX_DIR", "/tmp/ukdac-testcloud"))
KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR6kw+SbpchLzGRBZepWNMn63BqGHUr/4rq2WS0qWUs "
    "dev@example.org"
)
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, "cloud", pytest.mark.cloud)


@pytest.fixture(scope="session")
def clouds_yaml() -> Path:
    """The test cloud's clouds.yaml; the suite fails (in CI) or skips, saying why, without it."""
    path = Path(os.environ.get("OS_CLIENT_CONFIG_FILE", CLOUD_DIR / "etc/openstack/clouds.yaml"))
    reason = f"the test cloud is not running ({path} is missing): run `make test-cloud`"
    if path.is_file():
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(path)
        try:
            openstack.connect(cloud="osbox-demo").authorize()
            return path
        except Exception as error:
            reason = f"the test cloud does not answer: {error}"
    unavailable("UKDAC_REQUIRE_CLOUD", reason)


@pytest.fixture(scope="session")
def admin(clouds_yaml: Path) -> Any:
    return openstack.connect(cloud="osbox-admin")


@pytest.fixture(scope="session")
def demo(clouds_yaml: Path) -> Any:
    return openstack.connect(cloud="osbox-demo")


def sandbox_stack(name: str, workers: int = 2, cloud: str = "osbox-demo") -> dict[str, Any]:
    """A sandbox stack sized for the test cloud (flavors m1.tiny/m1.small, image cirros-fake)."""
    return {
        "config": {
            "ukdac:environment": "sandbox",
            "ukdac:fqdn": f"{name}.sbx.example.org",
            "ukdac:sandbox": {"owner": "tests@example.org", "expires": "2099-01-01"},
            "ukdac:cloud": {
                "name": cloud,
                "externalNetwork": "public",
                "image": "cirros-fake",
                "keypairPublicKey": KEY,
                "applicationCredentialRoles": ["member"],
            },
            "ukdac:network": {"nodeCidr": "10.20.7.0/24"},
            "ukdac:cluster": {
                "controlPlane": {"flavor": "m1.small", "count": 1},
                "nodeGroups": [
                    {
                        "name": "workers",
                        "flavor": "m1.tiny",
                        "count": workers,
                        "labels": {"tier": "utility"},
                    }
                ],
            },
            "ukdac:phalanx": {"environment": f"sbx-{name}"},
        }
    }


@pytest.fixture
def cloud_project(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    def make(stacks: dict[str, dict[str, Any]]) -> Project:
        (tmp_path / "Pulumi.yaml").write_text(project_file())
        (tmp_path / "stacks").mkdir(exist_ok=True)
        for stack, document in stacks.items():
            (tmp_path / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
        return load_project(tmp_path)

    yield make
