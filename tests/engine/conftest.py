"""The engine tier: the real Pulumi engine (make engine) against the test cloud.

State lives on the test cloud's object store over S3, in a bucket of the admin project (a
project of its own, as the README tells operators to keep Somerville's), secrets by
passphrase. Everything a stack makes is in the demo project, which the tests inspect through
openstacksdk.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
import yaml

from tests.cloud.conftest import admin, clouds_yaml, demo  # noqa: F401 (fixtures)
from tests.support.engine import DEFAULT_BIN, Engine, project_file, write_stack
from tests.support.tiers import mark_tier, unavailable

PASSPHRASE = "engine-tier-passphrase"
REGION = "RegionOne"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, "engine", pytest.mark.engine)


def _unavailable(reason: str) -> NoReturn:
    unavailable("UKDAC_REQUIRE_ENGINE", reason)


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The folder with the pulumi CLI and the Python language host (`make engine`)."""
    folder = Path(os.environ.get("UKDAC_ENGINE_BIN", DEFAULT_BIN))
    for tool in ("pulumi", "pulumi-language-python"):
        if not os.access(folder / tool, os.X_OK):
            _unavailable(f"{folder / tool} is missing: run `make engine`")
    return folder


@pytest.fixture(scope="session")
def state_backend(admin: Any) -> Iterator[dict[str, str]]:  # noqa: F811
    """A state bucket of the admin project and an EC2 credential for it: the environment
    `pulumi` needs to use it (PULUMI_BACKEND_URL and the AWS keys)."""
    bucket = f"ukdac-engine-state-{uuid.uuid4().hex[:8]}"
    admin.object_store.create_container(name=bucket)
    path = f"/users/{admin.current_user_id}/credentials/OS-EC2"
    made = admin.identity.post(path, json={"tenant_id": admin.current_project_id}).json()
    credential = made["credential"]
    endpoint = urlsplit(admin.object_store.get_endpoint())  # RGW serves S3 on the same port
    url = (
        f"s3://{bucket}?endpoint={endpoint.scheme}://{endpoint.netloc}"
        f"&s3ForcePathStyle=true&region={REGION}"
    )
    try:
        yield {
            "PULUMI_BACKEND_URL": url,
            "AWS_ACCESS_KEY_ID": credential["access"],
            "AWS_SECRET_ACCESS_KEY": credential["secret"],
            # RGW sends no response checksums; the AWS SDK would warn on every read.
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        }
    finally:
        for item in admin.object_store.objects(bucket):
            admin.object_store.delete_object(item, container=bucket)
        admin.object_store.delete_container(bucket)
        admin.identity.delete(f"{path}/{credential['access']}")


@pytest.fixture
def engine_for_program(
    make_engine: Callable[[dict[str, dict[str, Any]]], Engine],
) -> Engine:
    """An Engine whose project runs tests/engine/violations instead of ukdac's program."""
    engine = make_engine({})
    program = Path(__file__).parent / "violations"
    (engine.project / "Pulumi.yaml").write_text(project_file("violations", program))
    return engine


@pytest.fixture
def make_engine(
    engine_bin: Path,
    state_backend: dict[str, str],
    clouds_yaml: Path,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, dict[str, Any]]], Engine]]:
    """An Engine in a fresh project folder holding the given stack files."""
    made: list[Engine] = []

    def make(stacks: dict[str, dict[str, Any]]) -> Engine:
        root = tmp_path / f"project-{len(made)}"
        (root / "stacks").mkdir(parents=True)
        (root / "Pulumi.yaml").write_text(project_file())
        for stack, document in stacks.items():
            write_stack(root, stack, document)
        engine = Engine(
            bin=engine_bin,
            project=root,
            env={
                **state_backend,
                "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "OS_CLIENT_CONFIG_FILE": str(clouds_yaml),
            },
        )
        made.append(engine)
        return engine

    yield make
    for engine in made:  # what a failed test left: destroy it so the next starts clean
        listing = engine.run("stack", "ls", "--json", check=False)
        if listing.returncode == 0:
            for entry in yaml.safe_load(listing.stdout) or []:
                name = entry["name"]
                engine.run("state", "unprotect", "--all", "--yes", "--stack", name, check=False)
                engine.run("destroy", "--stack", name, "--yes", "--remove", check=False)
    shutil.rmtree(tmp_path, ignore_errors=True)
