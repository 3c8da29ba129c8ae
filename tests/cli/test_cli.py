"""The `ukdac` command line: output people read, files tools read, and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.cli.app import app
from infra.plan.model import Plan
from infra.plan.render import COMMENT_MARKER
from infra.stack.files import Project
from tests.support.stacks import DEV, ROOT, stack_document, with_changes

MakeProject = Callable[..., Project]
runner = CliRunner()


def ukdac(cwd: Path, *args: str) -> tuple[int, str, str]:
    old = Path.cwd()
    try:
        import os

        os.chdir(cwd)
        result = runner.invoke(app, list(args))
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def test_plan_prints_tree_counts_and_outputs() -> None:
    code, out, _ = ukdac(ROOT, "plan", "ukdac-dev")
    assert code == 0
    assert "ukdac:openstack:Network  network" in out
    assert "ukdac-dev-net" in out
    assert "Resources by type" in out and "total" in out
    assert "vault.rsp-test.lsst.ac.uk" in out


def test_plan_writes_json(tmp_path: Path) -> None:
    target = tmp_path / "dev.json"
    code, _, _ = ukdac(ROOT, "plan", "ukdac-dev", "--json", str(target), "--quiet")
    assert code == 0
    plan = Plan.read(target)
    assert plan.stack == "ukdac-dev" and len(plan.resources) >= 5


def test_plan_of_missing_stack_exits_2_without_traceback() -> None:
    code, out, err = ukdac(ROOT, "plan", "ukdac-nope")
    assert code == 2
    assert "no such stack file" in err and "Traceback" not in out + err


def test_bad_stack_exits_2_with_every_problem(make_project: MakeProject) -> None:
    bad = with_changes(DEV, **{"vault.mode": "dev", "network.podCidr": "10.10.0.0/20"})
    project = make_project({"ukdac-dev": stack_document(bad)})
    for command in (["config", "check", "ukdac-dev"], ["plan", "ukdac-dev"]):
        code, out, err = ukdac(project.root, *command)
        assert code == 2, command
        assert "stacks/Pulumi.ukdac-dev.yaml: ukdac:vault.mode = 'dev': not allowed in dev" in err
        assert "ukdac:network.podCidr" in err
        assert "Traceback" not in out + err


def test_messages_print_user_text_literally(make_project: MakeProject) -> None:
    """Rich read `:cloud:` in `ukdac:Cloud: unknown key` as an emoji and `[bold]` in a value
    as markup: every message is printed as written."""
    document = stack_document(DEV)
    document["config"]["ukdac:Cloud:"] = {"name": "x"}
    document["config"]["ukdac:fqdn"] = "[bold]rsp[/bold].example.org"
    project = make_project({"ukdac-dev": document})
    for command in (["config", "check", "ukdac-dev"], ["plan", "ukdac-dev"]):
        code, _, err = ukdac(project.root, *command)
        assert code == 2, command
        assert "ukdac:Cloud:" in err and "\u2601" not in err, err
        assert "[bold]rsp[/bold].example.org" in err, err


def test_yaml_error_exits_2(make_project: MakeProject) -> None:
    project = make_project({"ukdac-dev": "config: [\n"})
    code, _, err = ukdac(project.root, "config", "check", "ukdac-dev")
    assert code == 2 and "YAML syntax error" in err


def test_config_check_all_and_schema() -> None:
    code, out, _ = ukdac(ROOT, "config", "check", "--all")
    assert code == 0 and "ok stacks/Pulumi.ukdac-prod.yaml" in out
    code, out, _ = ukdac(ROOT, "config", "schema")
    schema = json.loads(out)
    assert "ukdac:cluster" in schema["properties"]["config"]["properties"]


def test_config_show_says_where_values_come_from() -> None:
    code, out, _ = ukdac(ROOT, "config", "show", "ukdac-prod")
    assert code == 0
    assert "ukdac:vault.mode" in out and "prod profile" in out and "stack file" in out


def _plans(make_project: MakeProject, tmp_path: Path) -> tuple[Path, Path]:
    base = make_project({"ukdac-dev": stack_document(DEV)})
    code, _, err = ukdac(
        base.root, "plan", "ukdac-dev", "--json", str(tmp_path / "base.json"), "--quiet"
    )
    assert code == 0, err
    head_raw = with_changes(DEV, **{"network.nodeCidr": "10.11.0.0/24", "cloud.name": "other"})
    (base.stack_dir / "Pulumi.ukdac-dev.yaml").write_text(json.dumps(stack_document(head_raw)))
    code, _, err = ukdac(
        base.root, "plan", "ukdac-dev", "--json", str(tmp_path / "head.json"), "--quiet"
    )
    assert code == 0, err
    return tmp_path / "base.json", tmp_path / "head.json"


def test_diff_shows_changed_inputs(make_project: MakeProject, tmp_path: Path) -> None:
    base, head = _plans(make_project, tmp_path)
    code, out, _ = ukdac(ROOT, "diff", str(base), str(head))
    assert code == 0
    # A subnet's cidr is ForceNew in the provider: the subnet is replaced, not updated.
    assert "+- openstack:networking/subnet:Subnet  network-subnet" in out
    assert "replaced because inputs.cidr changed" in out
    assert "inputs.cidr: 10.10.0.0/24 -> 10.11.0.0/24" in out
    assert "~ pulumi:providers:openstack  openstack" in out
    assert "inputs.cloud: somerville-ukdac-dev -> other" in out


def test_diff_markdown_is_a_pr_comment(make_project: MakeProject, tmp_path: Path) -> None:
    base, head = _plans(make_project, tmp_path)
    code, out, _ = ukdac(ROOT, "diff", str(base), str(head), "--markdown")
    assert code == 0
    assert out.startswith(COMMENT_MARKER)
    # Nothing created or deleted; the provider and the ports are updated, the subnet and
    # its router interface replaced. The nodes' user data changes too, but a node's user
    # data applies to new nodes only: the nodes are kept, and say so.
    row = re.search(
        r"^\| `ukdac-dev` \|  \| 0 \| ([1-9][0-9]*) \| 2 \| 0 \| [0-9]+ \| none \|$", out, re.M
    )
    assert row, out[:600]
    assert "- **replace** `openstack:networking/subnet:Subnet` **network-subnet**" in out
    assert "- `openstack:compute/instance:Instance` **cluster-control-plane-0** (keep" in out
    assert "6 kept (only ignored inputs changed)" in out
    assert "- `ukdac:network.nodeCidr`: `10.10.0.0/24` → `10.11.0.0/24` (stack file; was" in out
    assert "- `inputs.cidr`: `10.10.0.0/24` → `10.11.0.0/24`" in out
    # The control plane's fixed address moves with the subnet: the port shows it.
    assert "`inputs.fixedIps[0].ipAddress`: `10.10.0.10` → `10.11.0.10`" in out


def _committed_copy(tmp_path: Path) -> Path:
    """This project's program and stacks, committed in a repository of their own."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Pulumi.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("infra", "components", "policies", "stacks"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for args in (("init", "-q"), ("add", "."), ("commit", "-qm", "base")):
        command = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args]
        subprocess.run(command, check=True, capture_output=True)
    return repo


def test_diff_with_base_ref_plans_the_base_from_git(tmp_path: Path) -> None:
    repo = _committed_copy(tmp_path)
    dev = repo / "stacks" / "Pulumi.ukdac-dev.yaml"
    dev.write_text(dev.read_text().replace("name: somerville-ukdac-dev", "name: somerville-dev2"))
    code, out, err = ukdac(
        repo, "diff", "--base-ref", "HEAD", "--markdown", "ukdac-dev", "ukdac-prod"
    )
    assert code == 0, err
    assert "| `ukdac-dev` |  | 0 | 1 | 0 | 0 |" in out
    assert "`inputs.cloud`: `somerville-ukdac-dev` → `somerville-dev2`" in out
    assert "### `ukdac-prod`: no changes" in out


def test_diff_with_base_ref_plans_a_changed_program_with_the_base_code(tmp_path: Path) -> None:
    # Only the program differs (a profile default, committed in the base; the working tree
    # has this checkout's code, which plans the head): the base must be planned by its own.
    repo = _committed_copy(tmp_path)
    profiles = repo / "infra" / "stack" / "profiles.py"
    text = profiles.read_text()
    assert '"dnsNameservers": ["1.1.1.1", "8.8.8.8"]' in text
    profiles.write_text(text.replace('["1.1.1.1", "8.8.8.8"]', '["1.1.1.1", "9.9.9.9"]'))
    for args in (("add", "."), ("commit", "-qm", "a base with other nameservers")):
        command = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args]
        subprocess.run(command, check=True, capture_output=True)
    profiles.write_text(text)
    code, out, err = ukdac(repo, "diff", "--base-ref", "HEAD", "--markdown", "ukdac-dev")
    assert code == 0, err
    assert "`inputs.dnsNameservers[1]`: `9.9.9.9` → `8.8.8.8`" in out


def test_diff_keeps_secrets_masked(tmp_path: Path) -> None:
    def plan(secret: str) -> Path:
        path = tmp_path / f"{secret}.json"
        path.write_text(
            json.dumps(
                {
                    "project": "p",
                    "stack": "s",
                    "resources": [
                        {
                            "urn": "urn:a",
                            "type": "t",
                            "name": "a",
                            "custom": True,
                            "inputs": {"password": secret},
                        }
                    ],
                }
            )
        )
        return path

    code, out, _ = ukdac(
        ROOT, "diff", str(plan("[secret:aaaa1111]")), str(plan("[secret:bbbb2222]")), "--markdown"
    )
    assert code == 0
    assert "`inputs.password`: `[secret:aaaa1111]` → `[secret:bbbb2222]`" in out


@pytest.mark.parametrize("args", [["diff"], ["diff", "only-one.json"]])
def test_diff_usage_errors(args: list[str]) -> None:
    code, _, err = ukdac(ROOT, *args)
    assert code == 1 and "BASE.json HEAD.json" in err


def test_phalanx_values_merges_into_a_fork_and_check_says_when_it_is_stale(
    tmp_path: Path, make_project: MakeProject
) -> None:
    from tests.support.phalanx_fork import make_fork

    fork = str(make_fork(tmp_path / "fork"))
    project = make_project({"ukdac-dev": stack_document(DEV)})
    code, out, err = ukdac(project.root, "phalanx-values", "ukdac-dev", "--phalanx-dir", fork)
    assert code == 0 and "Traceback" not in err
    assert "+++ b/applications/tap/values-ukidacdev.yaml" in out
    code, out, _ = ukdac(project.root, "phalanx-values", "ukdac-dev", "--phalanx-dir", fork)
    assert code == 0 and "up to date" in out
    tap = Path(fork) / "applications" / "tap" / "values-ukidacdev.yaml"
    tap.write_text(tap.read_text().replace("ukdac-dev-tap-results", "stale"))
    code, out, err = ukdac(
        project.root, "phalanx-values", "ukdac-dev", "--phalanx-dir", fork, "--check"
    )
    assert code == 1 and "1 file(s) differ" in err and '-    gcsBucket: "stale"' in out
    assert "stale" in tap.read_text()  # --check changes nothing
    code, _, err = ukdac(project.root, "phalanx-values", "ukdac-dev", "--phalanx-dir", "/nope")
    assert code == 2 and "is not a phalanx checkout" in err


def test_secrets_lists_what_ukdac_provides_masked_and_show_needs_the_cli() -> None:
    code, out, _ = ukdac(ROOT, "secrets", "ukdac-dev")
    assert code == 0
    assert "AWS_SECRET_ACCESS_KEY" in out and "********" in out and "s3SecretKey" in out
    # The two keys cadc-tap reads, each from the stack output that holds it.
    from infra.stack.phalanx import ProvidedSecret, provided_secrets
    from tests.support.stacks import config

    assert provided_secrets(config("ukdac-dev")) == [
        ProvidedSecret("tap", "AWS_ACCESS_KEY_ID", "s3AccessKey"),
        ProvidedSecret("tap", "AWS_SECRET_ACCESS_KEY", "s3SecretKey"),
    ]
    if shutil.which("pulumi") is None:
        code, _, err = ukdac(ROOT, "secrets", "ukdac-dev", "--show")
        assert code == 1 and "needs the pulumi CLI" in err and "Traceback" not in err


def test_secrets_writes_a_private_static_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.cli import phalanx as phalanx_cli

    outputs = {"s3AccessKey": "AKIA-FIXTURE", "s3SecretKey": "fixture-secret-key"}
    monkeypatch.setattr(
        phalanx_cli, "read_stack_outputs", lambda stack, names: {n: outputs[n] for n in names}
    )
    target = tmp_path / "static.yaml"
    code, out, _ = ukdac(ROOT, "secrets", "ukdac-dev", "--static-secrets", str(target))
    assert code == 0 and "fixture-secret-key" not in out
    assert target.stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(target.read_text()) == {
        "applications": {
            "tap": {
                "AWS_ACCESS_KEY_ID": {"value": "AKIA-FIXTURE"},
                "AWS_SECRET_ACCESS_KEY": {"value": "fixture-secret-key"},
            }
        }
    }


def test_backups_env_prints_rclone_settings_from_the_outputs_or_says_why_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.ops import pulumi_cli

    outputs: dict[str, object] = {
        "backupStore": {"endpoint": "https://rgw.example.org", "bucket": "ukdac-test-backups"},
        "backupKeys": {"accessKeyId": "AK", "secretAccessKey": "SK"},
        "backupPassphrase": "phrase",
    }
    monkeypatch.setattr(pulumi_cli, "stack_outputs", lambda stack: outputs)
    code, out, _ = ukdac(ROOT, "backups", "env", "ukdac-test", "--prefix", "vault")
    assert code == 0
    assert "export RCLONE_CONFIG_SAFE_REMOTE=store:ukdac-test-backups/vault\n" in out
    assert "export RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY=SK\n" in out
    assert out.endswith('_PASSWORD="$(rclone obscure "$BACKUP_PASSPHRASE")"\n')
    monkeypatch.setattr(pulumi_cli, "stack_outputs", lambda stack: {})
    code, out, err = ukdac(ROOT, "backups", "env", "ukdac-dev")
    assert code == 1 and out == "" and "backups are off" in err and "Traceback" not in err


def _synthetic(
    tmp_path: Path, name: str, resources: list[dict[str, object]], outputs: dict[str, object]
) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(
        json.dumps(
            {"project": "ukdac", "stack": "ukdac-dev", "resources": resources, "outputs": outputs}
        )
    )
    return path


def test_markdown_diff_lists_added_removed_and_changed_for_a_reviewer(tmp_path: Path) -> None:
    def resource(logical: str, **inputs: object) -> dict[str, object]:
        return {
            "urn": f"urn:{logical}",
            "type": "openstack:networking/port:Port",
            "name": logical,
            "custom": True,
            "inputs": inputs,
        }

    base = _synthetic(
        tmp_path,
        "base",
        [
            resource("kept", name="a"),
            resource("changed", name="b", adminStateUp=True),
            resource("gone", name="c"),
        ],
        {"apiUrl": "https://203.0.113.5:6443", "kubeconfig": "[secret:11112222]"},
    )
    head = _synthetic(
        tmp_path,
        "head",
        [
            resource("kept", name="a"),
            resource("changed", name="b", adminStateUp=False),
            resource("new", name="d"),
        ],
        {"apiUrl": "https://203.0.113.5:6443", "kubeconfig": "[secret:33334444]"},
    )
    code, out, _ = ukdac(ROOT, "diff", str(base), str(head), "--markdown")
    assert code == 0
    # created, updated, replaced, deleted, outputs changed; a port deleted is no hazard
    assert "| `ukdac-dev` |  | 1 | 1 | 0 | 1 | 1 | none |" in out
    assert "- **delete** `openstack:networking/port:Port` **gone**\n" in out
    added, removed, changed = (
        out.index("**Created**"),
        out.index("**Deleted**"),
        out.index("**Updated in place**"),
    )
    assert (
        out.rindex("**new**") > added
        and out.rindex("**gone**") > removed
        and out.rindex("**changed**") > changed
    )
    assert "**kept**" not in out
    assert "- `inputs.adminStateUp`: `true` → `false`" in out
    assert "- `kubeconfig`: `[secret:11112222]` → `[secret:33334444]`" in out
    assert "1 to create, 1 to update, 0 to replace, 1 to delete, 1 output(s) changed" in out


def test_diff_reports_warnings_a_change_brings_or_clears_but_not_standing_ones(
    tmp_path: Path,
) -> None:
    def plan(name: str, warnings: list[str]) -> Path:
        path = _synthetic(tmp_path, name, [], {})
        document = json.loads(path.read_text())
        path.write_text(json.dumps({**document, "warnings": warnings}))
        return path

    base = plan("base", ["standing: image pinned by tag only", "old: cleared by this change"])
    head = plan("head", ["standing: image pinned by tag only", "fresh: brought by this change"])
    code, out, _ = ukdac(ROOT, "diff", str(base), str(head), "--markdown")
    assert code == 0
    assert "**New warnings**\n\n- `ukdac-dev`: fresh: brought by this change" in out
    assert "**Warnings resolved**\n\n- `ukdac-dev`: old: cleared by this change" in out
    assert "standing" not in out
    assert "0 output(s) changed, 1 new warning(s)" in out
    same = plan("same", ["standing: image pinned by tag only"])
    code, out, _ = ukdac(ROOT, "diff", str(same), str(same), "--markdown")
    assert code == 0 and "no changes" in out and "warning" not in out.lower()


def test_diff_json_gives_each_resources_operation(
    make_project: MakeProject, tmp_path: Path
) -> None:
    base, head = _plans(make_project, tmp_path)
    code, out, _ = ukdac(ROOT, "diff", str(base), str(head), "--json")
    assert code == 0
    (stack,) = json.loads(out)
    operations = {r["name"]: r["operation"] for r in stack["resources"]}
    assert operations["network-subnet"] == "replace"
    assert operations["openstack"] == "update"
    (subnet,) = [r for r in stack["resources"] if r["name"] == "network-subnet"]
    assert subnet["replaceBecause"] == ["inputs.cidr"]
    assert stack["summary"]["replace"] == sum(1 for op in operations.values() if op == "replace")
    assert stack["flagged"] is False  # no control plane, stateful or protected resource
    assert operations["cluster-control-plane-0"] == "keep (ignored changes)"
    assert stack["summary"]["keep"] == 6
    code, _, err = ukdac(ROOT, "diff", str(base), str(head), "--json", "--markdown")
    assert code != 0 and "not both" in err
    # The PR job's one run: the comment on stdout (or --output) and the JSON beside it.
    document = tmp_path / "diff.json"
    code, comment, _ = ukdac(
        ROOT, "diff", str(base), str(head), "--markdown", "--json-output", str(document)
    )
    assert code == 0 and comment.startswith(COMMENT_MARKER)
    assert json.loads(document.read_text()) == json.loads(out)


def test_progress_shows_only_when_work_takes_longer_than_a_second() -> None:
    import io
    import time

    from rich.console import Console

    from infra.cli.common import progress

    quick, slow = io.StringIO(), io.StringIO()
    with progress("planning quick", Console(file=quick, force_terminal=True), after=0.3):
        pass
    with progress("planning slow", Console(file=slow, force_terminal=True), after=0.3):
        time.sleep(0.6)
    assert "planning quick" not in quick.getvalue()
    assert "planning slow" in slow.getvalue()
    piped = io.StringIO()
    with progress("planning piped", Console(file=piped, force_terminal=False), after=0.0):
        time.sleep(0.1)
    assert piped.getvalue() == ""


def test_diff_refuses_bad_inputs_in_one_line(make_project: MakeProject, tmp_path: Path) -> None:
    base, head = _plans(make_project, tmp_path)
    for args, message in (
        ([str(tmp_path), str(head)], "a directory, not a plan file"),
        ([str(tmp_path / "missing.json"), str(head)], "no such plan file"),
        ([str(base), str(head), "--output", str(tmp_path / "no" / "dir.md")], "cannot be written"),
    ):
        code, _, err = ukdac(ROOT, "diff", *args)
        assert code == 1 and message in err and "Traceback" not in err, err
    other = json.loads(head.read_text())
    other["stack"] = "ukdac-prod"
    (tmp_path / "prod.json").write_text(json.dumps(other))
    code, _, err = ukdac(ROOT, "diff", str(base), str(tmp_path / "prod.json"))
    assert code == 1 and "pass --any-stacks" in err
    code, _, _ = ukdac(ROOT, "diff", str(base), str(tmp_path / "prod.json"), "--any-stacks")
    assert code == 0


def test_config_check_refuses_environments_sharing_a_project(make_project: MakeProject) -> None:
    """dev and test on one cloud entry: one's EC2 credentials would reach the other's buckets."""
    documents = {}
    for stack in ("ukdac-dev", "ukdac-test"):
        document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
        document["config"]["ukdac:cloud"]["name"] = "somerville-shared"
        documents[stack] = document
    sandbox = yaml.safe_load((ROOT / "stacks" / "Pulumi.ukdac-sbx-sample.yaml").read_text())
    documents["ukdac-sbx-sample"] = sandbox
    project = make_project(documents)
    code, _, err = ukdac(project.root, "config", "check", "--all")
    assert code == 2
    assert "ukdac-dev, ukdac-test use the same cloud entry 'somerville-shared'" in err
    # Sandboxes share their project by design.
    other = dict(sandbox)
    project = make_project({"ukdac-sbx-sample": sandbox, "ukdac-sbx-other": other})
    code, _, err = ukdac(project.root, "config", "check", "ukdac-sbx-sample", "ukdac-sbx-other")
    assert code == 0, err
