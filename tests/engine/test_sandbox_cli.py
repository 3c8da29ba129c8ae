"""`ukdac sandbox` as a developer runs it, through the Automation API and the real engine:
create --up, list, destroy (with its progress), and reap --yes of an expired one.

A sandbox's stack file carries the site's names from the sandbox profile (its clouds.yaml
entry, image, flavors, external network); the fixture gives the test cloud those names.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stack.model import CloudConfig
from infra.stack.profiles import defaults_for
from tests.cloud.conftest import KEY
from tests.support.engine import ROOT, Engine, inventory, left_behind

MakeEngine = Callable[[dict[str, dict[str, Any]]], Engine]
SANDBOX = defaults_for("sandbox")


@pytest.fixture
def site_names(admin: Any, clouds_yaml: Path, tmp_path: Path) -> Iterator[Path]:
    """The sandbox profile's image, flavors and external network on the test cloud, and a
    clouds.yaml whose sandbox entry (the template's) is the demo project. Yields it."""
    cloud = SANDBOX["cloud"]
    made: list[Callable[[], object]] = []
    try:
        image = admin.image.create_image(
            name=cloud["image"],
            data=b"\0" * 1024,
            disk_format="raw",
            container_format="bare",
            visibility="public",
        )
        made.append(lambda: admin.image.delete_image(image))
        flavors = {group["flavor"] for group in SANDBOX["cluster"]["nodeGroups"]}
        flavors.add(SANDBOX["cluster"]["controlPlane"]["flavor"])
        for name in sorted(flavors):
            if admin.compute.find_flavor(name) is None:
                flavor = admin.compute.create_flavor(name=name, vcpus=1, ram=512, disk=1)
                made.append(lambda flavor=flavor: admin.compute.delete_flavor(flavor))
        external = admin.network.create_network(
            name=cloud["externalNetwork"], is_router_external=True
        )
        admin.network.create_subnet(
            network_id=external.id, cidr="198.51.100.0/24", ip_version=4, enable_dhcp=False
        )
        made.append(lambda: admin.network.delete_network(external))
        # The roles its application credential asks for, held by the demo user.
        demo_user = admin.identity.find_user("demo")
        demo_project = admin.identity.find_project("demo")
        roles = CloudConfig.model_fields["application_credential_roles"].default
        for role_name in roles:
            role = admin.identity.find_role(role_name)
            if role is None:
                role = admin.identity.create_role(name=role_name)
                made.append(lambda role=role: admin.identity.delete_role(role))
            admin.identity.assign_project_role_to_user(demo_project, demo_user, role)
        entries = yaml.safe_load(clouds_yaml.read_text())
        entries["clouds"]["somerville-ukdac-sandbox"] = entries["clouds"]["osbox-demo"]
        copy = tmp_path / "clouds.yaml"
        copy.write_text(yaml.safe_dump(entries))
        yield copy
    finally:
        for undo in reversed(made):
            undo()


def test_sandbox_create_list_destroy_and_reap(
    site_names: Path, make_engine: MakeEngine, demo: Any, tmp_path: Path
) -> None:
    # site_names comes first: set up before the engine, torn down after the engine's own
    # clean-up has destroyed whatever a failure left on those names.
    before = inventory(demo)
    engine = make_engine({})
    engine.env = {**engine.env, "OS_CLIENT_CONFIG_FILE": str(site_names)}
    env = {**engine.environment(), "COLUMNS": "200"}  # the list's table unwrapped
    key = tmp_path / "id.pub"
    key.write_text(KEY)

    def ukdac(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "ukdac"), "sandbox", *args],
            cwd=engine.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, (
            f"sandbox {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result

    made = ukdac(
        "create", "jo", "--up", "--layers", "cloud", "--public-key", str(key), "--owner", "jo@x"
    )
    assert "Resources:" in made.stdout and "created" in made.stdout
    stack_file = engine.project / "stacks" / "Pulumi.ukdac-sbx-jo.yaml"
    assert stack_file.is_file()
    listed = ukdac("list")
    assert "jo" in listed.stdout and "jo@x" in listed.stdout

    destroyed = ukdac("destroy", "jo")
    lines = destroyed.stdout.splitlines()
    assert lines[0].startswith("ukdac-sbx-jo: looking for what Kubernetes made"), lines[:3]
    assert any("deleted" in line for line in lines), destroyed.stdout[-2000:]
    assert lines[-1] == "removed ukdac-sbx-jo and stacks/Pulumi.ukdac-sbx-jo.yaml"
    assert not stack_file.exists()
    assert engine.run("stack", "ls", "--json").stdout.strip() in ("[]", "")

    # An expired sandbox is reaped: listed by a dry run, destroyed with --yes.
    ukdac("create", "kim", "--up", "--layers", "cloud", "--public-key", str(key), "--owner", "k@x")
    expired = engine.project / "stacks" / "Pulumi.ukdac-sbx-kim.yaml"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    document = yaml.safe_load(expired.read_text())
    document["config"]["ukdac:sandbox"]["expires"] = yesterday
    expired.write_text(yaml.safe_dump(document))
    assert "dry run" in ukdac("reap").stdout and expired.exists()
    reaped = ukdac("reap", "--yes")
    assert "removed ukdac-sbx-kim" in reaped.stdout and not expired.exists()

    assert left_behind(before, inventory(demo)) == {}
