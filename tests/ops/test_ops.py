"""Operations tooling without a cloud: sandboxes, address allocation, footprints, retries."""

from __future__ import annotations

import ipaddress
import re
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as os_exc
from typer.testing import CliRunner

from infra.cli.app import app
from infra.ops.cloud import Cloud, CloudError, explain
from infra.ops.sandbox import POOL, SandboxError, allocate_cidr, check_name, create, list_sandboxes
from infra.plan.engine import plan_stack
from infra.plan.footprint import footprint
from infra.stack.files import Project, load_stack_file
from infra.stack.validation import validate, validate_stack_file
from tests.support.stacks import ROOT

MakeProject = Callable[..., Project]
KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHR6kw+SbpchLzGRBZepWNMn63BqGHUr/4rq2WS0qWUs "
    "dev@example.org"
)
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("name", ["jo", "alice-2", "a1234567890123456789"])
def test_good_sandbox_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["j", "Jo", "1jo", "jo-", "jo--x", "jo_x", "a12345678901234567890", "jo.x"]
)
def test_bad_sandbox_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(SandboxError, match="2-20 characters: lower-case letters, digits"):
        check_name(name)


def test_fifty_sandboxes_get_fifty_disjoint_cidrs(make_project: MakeProject) -> None:
    project = make_project({})
    made = []
    for index in range(50):
        made.append(create(project, f"dev{index}", "o@x", TODAY + timedelta(days=3), KEY, TODAY))
    networks = [ipaddress.IPv4Network(s.node_cidr) for s in made]
    assert len(set(networks)) == 50
    assert all(n.subnet_of(POOL) and n.prefixlen == 24 for n in networks)
    assert {s.name for s in list_sandboxes(project)} == {f"dev{i}" for i in range(50)}
    # Every file is a valid stack: its CIDRs do not overlap the pod and service ranges either.
    for sandbox in made[:5]:
        stack_file = load_stack_file(project, sandbox.stack)
        validate(
            stack_file.namespace(), sandbox.stack, stack_file.display, set(stack_file.secure_paths)
        )


def test_allocation_is_by_name_and_moves_on_when_taken() -> None:
    first = allocate_cidr("jo", set())
    assert allocate_cidr("jo", set()) == first
    moved = allocate_cidr("jo", {first})
    assert moved != first and not moved.overlaps(first)
    full = set(POOL.subnets(new_prefix=24))
    with pytest.raises(SandboxError, match="no free /24"):
        allocate_cidr("jo", full)  # type: ignore[arg-type]


def test_create_refuses_an_existing_name_and_a_past_expiry(make_project: MakeProject) -> None:
    project = make_project({})
    create(project, "jo", "o@x", TODAY + timedelta(days=1), KEY, TODAY)
    with pytest.raises(SandboxError, match="exists already"):
        create(project, "jo", "o@x", TODAY + timedelta(days=1), KEY, TODAY)
    with pytest.raises(SandboxError, match="not in the future"):
        create(project, "kim", "o@x", TODAY, KEY, TODAY)


def test_expiry(make_project: MakeProject) -> None:
    project = make_project({})
    create(project, "old", "o@x", TODAY + timedelta(days=1), KEY, TODAY)
    create(project, "new", "o@x", TODAY + timedelta(days=9), KEY, TODAY)
    later = TODAY + timedelta(days=5)
    assert {s.name for s in list_sandboxes(project) if s.expired(later)} == {"old"}


def test_cli_sandbox_create_list_reap(
    make_project: MakeProject, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project({})
    key = tmp_path / "id.pub"
    key.write_text(KEY)
    monkeypatch.chdir(project.root)
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "sandbox",
            "create",
            "jo",
            "--owner",
            "jo@example.org",
            "--public-key",
            str(key),
            "--days",
            "3",
        ],
    )
    assert made.exit_code == 0, made.stdout + made.stderr
    assert "wrote stacks/Pulumi.ukdac-sbx-jo.yaml" in made.stdout
    listed = runner.invoke(app, ["sandbox", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    assert "jo@example.org" in listed.stdout and "m1.large" in listed.stdout
    # vCPU and RAM from the site's flavor table (3 x m1.large = 4 vCPU, 8 GiB each).
    assert re.search(r"3x m1\.large\W+12\W+24\W", listed.stdout), listed.stdout
    reaped = runner.invoke(app, ["sandbox", "reap"])
    assert reaped.exit_code == 0 and "no expired sandbox" in reaped.stdout
    bad = runner.invoke(app, ["sandbox", "create", "Bad_Name", "--public-key", str(key)])
    assert bad.exit_code == 2 and "2-20 characters" in bad.stderr and "Traceback" not in bad.stderr


def test_footprint_counts_what_the_plan_takes(project: Project) -> None:
    plan = plan_stack(project, "ukdac-prod")
    cfg = validate_stack_file(load_stack_file(project, "ukdac-prod")).config
    need = footprint(plan)
    expected: Counter[str] = Counter(
        {cfg.cluster.control_plane.flavor: cfg.cluster.control_plane.count}
    )
    for group in cfg.cluster.node_groups:
        expected[group.flavor] += group.count
    assert need.flavors == expected
    assert need.instances == cfg.cluster.control_plane.count + sum(
        g.count for g in cfg.cluster.node_groups
    )
    assert (need.floating_ips, need.networks, need.subnets, need.routers) == (1, 1, 1, 1)
    assert need.ports == need.instances + 2  # a port per node, the router interface, DHCP
    assert need.security_groups == 3
    assert need.volumes == 0 and need.gigabytes == 0


def test_footprint_counts_boot_volumes(make_project: MakeProject) -> None:
    import yaml

    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-dev.yaml").read_text())
    document["config"]["ukdac:cluster"] = {"bootVolumeSize": 60}
    project = make_project({"ukdac-dev": document})
    need = footprint(plan_stack(project, "ukdac-dev"))
    assert need.volumes == need.instances == 6
    assert need.gigabytes == 6 * 60


class _Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


# openstacksdk warns that http_status will go in SDK 5; the status is what these tests are about.
quiet_sdk = pytest.mark.filterwarnings("ignore:The 'http_status' parameter")


@quiet_sdk
def test_transient_errors_are_retried_a_bounded_number_of_times() -> None:
    cloud = Cloud("c", connection=None, retries=3, backoff=0)
    flaky = _Flaky(
        [os_exc.HttpException(message="busy", http_status=503), ks_exc.ConnectFailure("reset")]
    )
    assert cloud.call(flaky) == "ok" and flaky.calls == 3
    always = _Flaky([os_exc.HttpException(message="down", http_status=502) for _ in range(10)])
    with pytest.raises(CloudError, match=r"kept failing \(502\) after retries"):
        cloud.call(always)
    assert always.calls == 4  # one try and three retries, no more
    refused = _Flaky([os_exc.HttpException(message="no", http_status=401)])
    with pytest.raises(CloudError, match=r"refused \(401\)"):
        cloud.call(refused)
    assert refused.calls == 1  # a 401 is not retried


@quiet_sdk
def test_errors_are_one_line_explanations() -> None:
    assert "not in any clouds.yaml" in explain(
        os_exc.ConfigException("Cloud x was not found."), "x"
    )
    assert "cannot reach the endpoint" in explain(ks_exc.ConnectFailure("refused"), "x")
    assert "no usable credentials" in explain(ks_exc.MissingRequiredOptions([]), "x")
    for message in (
        explain(ks_exc.Unauthorized(), "x"),
        explain(os_exc.HttpException(http_status=503), "x"),
    ):
        assert "\n" not in message


def test_cleanup_refuses_prod_without_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["cleanup", "ukdac-prod"])
    assert result.exit_code == 1 and "refuses without --force-prod" in result.stderr


@pytest.mark.skipif(shutil.which("pulumi") is not None, reason="the pulumi CLI is installed here")
def test_sandbox_destroy_and_up_say_the_cli_is_missing_and_change_nothing(
    make_project: MakeProject, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project({})
    create(project, "jo", "o@x", TODAY + timedelta(days=1), KEY, TODAY)
    monkeypatch.chdir(project.root)
    runner = CliRunner()
    result = runner.invoke(app, ["sandbox", "destroy", "jo"])
    assert result.exit_code == 1 and "needs the pulumi CLI" in result.stderr
    assert (project.stack_dir / "Pulumi.ukdac-sbx-jo.yaml").exists()
    key = tmp_path / "k.pub"
    key.write_text(KEY)
    result = runner.invoke(app, ["sandbox", "create", "kim", "--public-key", str(key), "--up"])
    assert result.exit_code == 1 and "needs the pulumi CLI" in result.stderr
    assert not (project.stack_dir / "Pulumi.ukdac-sbx-kim.yaml").exists()


def test_sandbox_commands_skip_a_malformed_neighbour_with_a_warning(
    make_project: MakeProject, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(
        {
            "ukdac-sbx-bad": "config:\n  ukdac:sandbox: {owner: x, expires: [not a date]}\n",
            "ukdac-sbx-binary": "\x00\x01",
        }
    )
    monkeypatch.chdir(project.root)
    runner = CliRunner()
    for command in (["sandbox", "list"], ["sandbox", "reap"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "Pulumi.ukdac-sbx-bad.yaml skipped: no valid sandbox.expires" in result.stderr
        assert "Pulumi.ukdac-sbx-binary.yaml skipped" in result.stderr
    # A malformed expiry never reads as expired: reap destroys nothing it cannot read.
    assert "no expired sandbox" in runner.invoke(app, ["sandbox", "reap"]).stdout


def test_sandbox_destroy_reports_progress_and_survives_stack_rm_removing_the_file(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi stack rm` deletes the stack's config file itself: the real engine's first
    `sandbox destroy` ended in a FileNotFoundError after 20 silent seconds."""
    from infra.cli import sandbox as sandbox_cli
    from infra.ops import cleanup, cloud

    project = make_project({})
    create(project, "jo", "o@x", TODAY + timedelta(days=1), KEY, TODAY)
    path = project.stack_dir / "Pulumi.ukdac-sbx-jo.yaml"
    monkeypatch.chdir(project.root)
    destroyed: list[str] = []

    def fake_destroy(root: str, stack: str, on_output: Callable[[str], None]) -> None:
        # The Automation API hands over each line stripped of its newline.
        on_output("Destroying (ukdac-sbx-jo):")
        on_output("  - openstack:networking:Network [ukdac:Cloud:] deleted")
        path.unlink()  # what `pulumi stack rm` does to the config file
        destroyed.append(stack)

    monkeypatch.setattr(sandbox_cli, "require_cli", lambda: "pulumi")
    # The command imports openstacksdk's side when it runs: patched where it lives.
    monkeypatch.setattr(cloud, "connect", lambda *args: object())
    monkeypatch.setattr(cleanup, "controller_names", lambda *args: ())
    monkeypatch.setattr(cleanup, "find_leftovers", lambda *args: ["volume pvc-1"])
    monkeypatch.setattr(cleanup, "delete_leftovers", lambda cloud, found: ["deleted pvc-1"])
    monkeypatch.setattr(sandbox_cli, "destroy", fake_destroy)
    result = CliRunner().invoke(app, ["sandbox", "destroy", "jo"])
    assert result.exit_code == 0, result.output
    assert destroyed == ["ukdac-sbx-jo"] and not path.exists()
    lines = result.stdout.splitlines()
    # Progress comes before the engine's own output, which is passed through literally.
    assert lines[0].startswith("ukdac-sbx-jo: looking for what Kubernetes made")
    assert "1 leftover(s)" in lines[1] and lines[2] == "deleted pvc-1"
    assert "Destroying (ukdac-sbx-jo):" in lines
    assert "  - openstack:networking:Network [ukdac:Cloud:] deleted" in lines
    assert lines[-1] == "removed ukdac-sbx-jo and stacks/Pulumi.ukdac-sbx-jo.yaml"


def test_a_sandbox_of_the_cloud_layer_alone(make_project: MakeProject) -> None:
    project = make_project({})
    made = create(project, "jo", "o@x", TODAY + timedelta(days=3), KEY, TODAY, layers="cloud")
    stack_file = load_stack_file(project, made.stack)
    assert validate_stack_file(stack_file).config.layers == "cloud"
    plain = create(project, "kim", "o@x", TODAY + timedelta(days=3), KEY, TODAY)
    assert validate_stack_file(load_stack_file(project, plain.stack)).config.layers == "all"
    with pytest.raises(SandboxError, match="must be 'all' or 'cloud'"):
        create(project, "lee", "o@x", TODAY + timedelta(days=3), KEY, TODAY, layers="platform")


def test_a_failed_pulumi_operation_is_an_error_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real engine's first failed `sandbox create --up` ended in the Automation API's
    traceback; it is one line saying what to do, exit 1, the engine's diagnostics above it."""
    from pulumi.automation.errors import CommandError

    from infra.ops import pulumi_cli

    class Failing:
        def up(self, on_output: Callable[[str], None]) -> None:
            on_output("error: update failed")
            raise CommandError(_FakeResult())

        destroy = up

    class _FakeResult:
        def __str__(self) -> str:
            return "code: 255"

    monkeypatch.setattr(pulumi_cli, "_stack", lambda *args, **kwargs: Failing())
    seen: list[str] = []
    with pytest.raises(pulumi_cli.PulumiFailed, match="pulumi up of ukdac-sbx-jo failed"):
        pulumi_cli.up(".", "ukdac-sbx-jo", seen.append)
    with pytest.raises(pulumi_cli.PulumiFailed, match="stack and its file are kept"):
        pulumi_cli.destroy(".", "ukdac-sbx-jo", seen.append)
    assert seen == ["error: update failed"] * 2
