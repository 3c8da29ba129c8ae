"""The pull-request comment: what a reviewer reads first, valid GFM, and within GitHub's limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from infra.plan.diff import diff_plans
from infra.plan.engine import plan_stack
from infra.plan.model import Plan, PlannedResource
from infra.plan.render import COMMENT_LIMIT, markdown
from infra.stack.files import Project
from tests.support.stacks import DEV, stack_document, with_changes

MakeProject = Callable[..., Project]
GROUPS = [
    {"name": "general", "flavor": "m1.xlarge", "count": 4},
    {"name": "utility", "flavor": "m1.xlarge", "count": 2, "labels": {"tier": "utility"}},
]


def _parse(text: str) -> list[Any]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_a_version_bump_and_one_more_node_read_as_what_they_do(
    make_project: MakeProject, tmp_path: Path
) -> None:
    """The reviewer's example: Kubernetes 1.35.3 -> 1.35.4 and general 3 -> 4 on ukdac-dev."""
    project = make_project({"ukdac-dev": stack_document(DEV)})
    base = plan_stack(project, "ukdac-dev")
    head_raw = with_changes(
        DEV, **{"cluster.kubernetesVersion": "1.35.4", "cluster.nodeGroups": GROUPS}
    )
    (project.stack_dir / "Pulumi.ukdac-dev.yaml").write_text(json.dumps(stack_document(head_raw)))
    head = plan_stack(project, "ukdac-dev")
    text = markdown([diff_plans(base, head)])
    section = text[text.index("### `ukdac-dev`") :]
    # It leads with what is replaced: only the join token (a new node set gets a new one),
    # a routine replacement with no warning, since user data is the recipe for new nodes;
    # the six existing nodes are kept and the stack is not flagged.
    replaced = section[
        section.index("**Replaced or deleted**") : section.index("**Configuration**")
    ]
    assert replaced.count("- **replace**") == 3 and "⚠️" not in replaced
    for name in ("cluster-token-id", "cluster-token-secret", "join-token-secret"):
        assert f"**{name}**" in replaced
    assert "| `ukdac-dev` |  | 2 | 0 | 3 | 0 | 1 |" in text
    assert "6 kept (only ignored inputs changed)" in section
    assert "- general: 1 new, 3 kept on their recipe" in section
    assert (
        "- `ukdac:cluster.kubernetesVersion`: `1.35.3` → `1.35.4` (stack file; was dev profile)"
        in text
    )
    assert "- `ukdac:cluster.nodeGroups[0].count`: `3` → `4` (stack file; was dev profile)" in text
    # The masked user data, line by line: the package pins changed, no key or token shown.
    assert "\n  -  - kubelet=1.35.3-1.1\n" in text and "\n  +  - kubelet=1.35.4-1.1\n" in text
    assert "PRIVATE KEY" not in text and "BEGIN" not in text
    assert '- `nodes.general[3]`: `(absent)` → `{"ip":' in text
    assert "instances 6 → 7 (+1), vCPU 48 → 56 (+8), RAM GiB 96 → 112 (+16)" in text


def _big_plan(stack: str, version: int) -> Plan:
    resources = [
        PlannedResource(
            urn=f"urn:pulumi:{stack}::ukdac::openstack:networking/port:Port::port-{i}",
            type="openstack:networking/port:Port",
            name=f"port-{i}",
            custom=True,
            inputs={"description": f"v{version} " + "x" * 80, "networkId": f"net-{version}"},
        )
        for i in range(150)
    ]
    return Plan(project="ukdac", stack=stack, resources=resources)


def test_many_large_stacks_fit_githubs_limit_and_keep_the_blast_radius() -> None:
    diffs = [diff_plans(_big_plan(f"s{n}", 1), _big_plan(f"s{n}", 2)) for n in range(8)]
    text = markdown(diffs)
    assert len(text) < COMMENT_LIMIT
    assert "Details cut to fit GitHub's comment limit" in text
    assert "the whole diff is in the `plan-diff` workflow artifact" in text
    for n in range(8):  # every stack still says what it replaces, even with details cut
        assert f"### `s{n}`: 0 to create, 0 to update, 150 to replace" in text
    # Routine replacements are listed up to a count, the rest summed up.
    assert "- **replace** `openstack:networking/port:Port` **port-0**" in text
    assert "- … and 130 more (see the details)" in text
    small = markdown(diffs[:1])
    assert "Details cut" not in small and "<details>" in small


def test_the_comment_is_well_formed_gfm() -> None:
    diffs = [
        diff_plans(_big_plan("a", 1), _big_plan("a", 2)),
        diff_plans(_big_plan("b", 1), _big_plan("b", 1)),
    ]
    tokens = _parse(markdown(diffs))
    kinds = [t.type for t in tokens]
    assert kinds.count("table_open") == 1
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + len(diffs)  # header and one row per stack
    cells_per_row = [0]
    for token in tokens:
        if token.type == "tr_open":
            cells_per_row.append(0)
        elif token.type in ("th_open", "td_open"):
            cells_per_row[-1] += 1
    assert set(cells_per_row[1:]) == {8}
    headings = [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.tag == "h3"
    ]
    assert headings == [
        "`a`: 0 to create, 0 to update, 150 to replace, 0 to delete, 0 output(s) changed",
        "`b`: no changes",
    ]
    html = "".join(t.content for t in tokens if t.type == "html_block")
    assert html.count("<details>") == html.count("</details>") == 1
