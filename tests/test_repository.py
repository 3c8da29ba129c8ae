"""Generated documentation is current; workflows are pinned, minimal and wired to ukdac."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from infra.plan.render import COMMENT_MARKER
from infra.stack.reference import render
from tests.support.stacks import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def test_configuration_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render(), (
        "docs/configuration.md is stale: run `ukdac config docs --output docs/configuration.md`"
    )


def test_configuration_reference_covers_every_key() -> None:
    text = render()
    for key in (
        "cloud.adminCidrs",
        "cluster.nodeGroups[].taints",
        "tls.dns01.tsigSecret",
        "vault.mode",
        "qserv.ingestNodeLabel",
    ):
        assert f"`{key}`" in text, key


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_actions_are_pinned_by_commit_and_permissions_are_minimal(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    for use in re.findall(r"uses:\s*(\S+)", text):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use), use
    workflow = _workflow(name)
    assert workflow["permissions"] in ({}, {"contents": "read"}), name
    for job_name, job in workflow["jobs"].items():
        writes = {k for k, v in job.get("permissions", {}).items() if v == "write"}
        assert writes <= {"pull-requests"}, (name, job_name, writes)


def test_ci_runs_make_test() -> None:
    steps = _workflow("ci.yml")["jobs"]["test"]["steps"]
    assert any(step.get("run") == "make test" for step in steps)


def test_preview_diffs_offline_and_comments_once_in_place() -> None:
    preview = (WORKFLOWS / "preview.yml").read_text()
    assert "ukdac diff --base-ref" in preview and "--markdown" in preview
    # The real preview is one script, shared by the workflow and operators.
    jobs = _workflow("preview.yml")["jobs"]["pulumi-preview"]["steps"]
    assert any(step.get("run") == 'tools/preview.sh "${STACK}"' for step in jobs)
    script = (ROOT / "tools" / "preview.sh").read_text()
    assert "--policy-pack policies --policy-pack-config" in script
    assert "ukdac policy-config" in script
    comment = (WORKFLOWS / "preview-comment.yml").read_text()
    assert f"const marker = '{COMMENT_MARKER}';" in comment
    assert "updateComment" in comment and "createComment" in comment
    assert "head.sha !== context.payload.workflow_run.head_sha" in comment


def test_readme_opens_with_the_two_commands() -> None:
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.strip()]
    assert lines[0] == "# ukdac"
    assert lines[1] == "```sh"
    assert lines[2].startswith("make plan STACK=ukdac-dev")
    assert lines[3].startswith("make test")


def test_docs_link_to_files_that_exist() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(((?:\.\./|\./)?[\w./-]+\.md)\)", doc.read_text()):
            assert (doc.parent / target).resolve().is_file(), (
                f"{doc.name} links to missing {target}"
            )


def test_real_previews_get_each_stacks_secrets_from_its_own_environment() -> None:
    job = _workflow("preview.yml")["jobs"]["pulumi-preview"]
    assert job["environment"] == "preview-${{ matrix.stack }}"
    assert job["permissions"] == {"contents": "read"}
    assert "ukdac-prod" in job["strategy"]["matrix"]["stack"]
