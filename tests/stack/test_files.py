"""Reading stack files as the Pulumi CLI does, with a clear message for each way they fail."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from infra.errors import ConfigError, StackFileError
from infra.stack.files import Project, load_stack_file
from tests.support.stacks import DEV, stack_document, with_dns01_secret

MakeProject = Callable[..., Project]


def test_missing_stack_file_lists_the_stacks_there(make_project: MakeProject) -> None:
    project = make_project({"ukdac-dev": stack_document(DEV)})
    with pytest.raises(StackFileError) as caught:
        load_stack_file(project, "ukdac-nope")
    message = str(caught.value)
    assert "stacks/Pulumi.ukdac-nope.yaml: no such stack file" in message
    assert "ukdac-dev" in message


def test_yaml_syntax_error_points_at_line_and_column(make_project: MakeProject) -> None:
    project = make_project(
        {"ukdac-dev": "config:\n  ukdac:environment: dev\n  ukdac:fqdn: [a, b\n"}
    )
    with pytest.raises(StackFileError, match=r"Pulumi\.ukdac-dev\.yaml:\d+:\d+: YAML syntax error"):
        load_stack_file(project, "ukdac-dev")


def test_another_projects_stack_file_is_named_as_such(make_project: MakeProject) -> None:
    project = make_project({"ukdac-dev": {"config": {"gafaelfawr:region": "x", "gafaelfawr:n": 1}}})
    with pytest.raises(StackFileError, match="stack file of project 'gafaelfawr'"):
        load_stack_file(project, "ukdac-dev")


def test_foreign_namespace_beside_ukdac_is_rejected(make_project: MakeProject) -> None:
    document = stack_document(DEV)
    document["config"]["openstack:cloud"] = "x"
    project = make_project({"ukdac-dev": document})
    with pytest.raises(StackFileError, match=r"namespace.*openstack.*not used"):
        load_stack_file(project, "ukdac-dev")


def test_keys_without_namespace_and_unknown_top_level_keys(make_project: MakeProject) -> None:
    project = make_project(
        {
            "ukdac-a": {"config": {"environment": "dev"}},
            "ukdac-b": {"config": {"ukdac:environment": "dev"}, "stack": "x"},
        }
    )
    with pytest.raises(StackFileError, match="have no namespace; write them as ukdac:<key>"):
        load_stack_file(project, "ukdac-a")
    with pytest.raises(StackFileError, match="unknown top-level key"):
        load_stack_file(project, "ukdac-b")


def test_secure_values_become_marked_placeholders(make_project: MakeProject) -> None:
    document = with_dns01_secret(stack_document(DEV), {"secure": "v1:abc"})
    project = make_project({"ukdac-dev": document})
    stack = load_stack_file(project, "ukdac-dev")
    assert stack.secret_keys == ("ukdac:tls",)
    assert stack.secure_paths == frozenset({("tls", "dns01", "tsigSecret")})
    placeholder = stack.namespace()["tls"]["dns01"]["tsigSecret"]
    assert placeholder.startswith("<secure:") and "v1:abc" not in placeholder
    # The CLI hands structured values to the program as JSON text.
    runtime = stack.runtime_config()
    assert json.loads(runtime["ukdac:tls"])["solver"] == "dns01"
    assert runtime["ukdac:environment"] == "dev"


def test_project_config_defaults_apply_under_the_stack_file(make_project: MakeProject) -> None:
    project = make_project({"ukdac-dev": stack_document(DEV)})
    text = (
        project.root / "Pulumi.yaml"
    ).read_text() + "config:\n  ukdac:fqdn:\n    default: x.y.z\n"
    (project.root / "Pulumi.yaml").write_text(text)
    from infra.stack.files import load_project

    reloaded = load_project(project.root)
    assert reloaded.config_defaults == {"ukdac:fqdn": "x.y.z"}
    assert load_stack_file(reloaded, "ukdac-dev").namespace()["fqdn"] == "rsp-dev.lsst.ac.uk"


def test_an_empty_secure_value_is_refused_with_its_path(
    make_project: Callable[..., Project],
) -> None:
    document = stack_document(DEV)
    document["config"]["ukdac:tls"] = {"dns01": {"tsigSecret": {"secure": "  "}}}
    project = make_project({"ukdac-dev": document})
    with pytest.raises(StackFileError, match=r"ukdac:tls\.dns01\.tsigSecret: an empty `secure:`"):
        load_stack_file(project, "ukdac-dev")


MERGED = """\
config:
  ukdac:environment: dev
  ukdac:fqdn: rsp-dev.lsst.ac.uk
  ukdac:cloud: {name: somerville-ukdac-dev}
  ukdac:phalanx: {environment: ukidacdev}
  ukdac:cluster:
    nodeGroups:
      - &general {name: general, flavor: m1.xlarge, count: COUNT, labels: {tier: utility}}
      - <<: *general
        name: general-b
      - <<: [*general]
        name: general-c
        count: 1
"""


def test_yaml_merge_keys_share_node_group_settings(make_project: MakeProject) -> None:
    from infra.stack.validation import validate_stack_file

    project = make_project({"ukdac-dev": MERGED.replace("COUNT", "2")})
    groups = validate_stack_file(load_stack_file(project, "ukdac-dev")).config.cluster.node_groups
    assert [(g.name, g.flavor, g.count, dict(g.labels)) for g in groups] == [
        ("general", "m1.xlarge", 2, {"tier": "utility"}),
        ("general-b", "m1.xlarge", 2, {"tier": "utility"}),
        ("general-c", "m1.xlarge", 1, {"tier": "utility"}),
    ]


def test_a_merged_value_is_validated_where_it_lands(make_project: MakeProject) -> None:
    from infra.stack.validation import validate_stack_file

    project = make_project({"ukdac-dev": MERGED.replace("COUNT", "-1")})
    with pytest.raises(ConfigError) as caught:
        validate_stack_file(load_stack_file(project, "ukdac-dev"))
    message = str(caught.value)
    assert "ukdac:cluster.nodeGroups[0].count = -1" in message
    assert "ukdac:cluster.nodeGroups[1].count = -1" in message  # brought in by '<<'
    assert "nodeGroups[2].count" not in message  # its own count overrides the merged one


def test_a_merge_of_something_that_is_not_a_mapping_is_refused(make_project: MakeProject) -> None:
    text = "config:\n  ukdac:environment: dev\n  ukdac:cloud:\n    <<: [1, 2]\n"
    project = make_project({"ukdac-dev": text})
    with pytest.raises(StackFileError, match=r"yaml:4:5: '<<' merges a mapping"):
        load_stack_file(project, "ukdac-dev")


def test_the_passphrase_salt_is_checked_before_pulumi_needs_it(make_project: MakeProject) -> None:
    """One `pulumi stack init --secrets-provider passphrase` wrote (the engine tier makes
    more); a damaged one is refused where it stands, not at decryption."""
    written = "v1:alm4CjiQaRo=:v1:MK+YWoni+pGqs2to:d1bJGtkX1w1UI9Ct2ykgVLFoEmO/IQ=="
    document = {**stack_document(DEV), "encryptionsalt": written}
    load_stack_file(make_project({"ukdac-dev": document}), "ukdac-dev")
    damaged = {**stack_document(DEV), "encryptionsalt": written.replace("v1:MK", "v1:M!")}
    project = make_project({"ukdac-dev": damaged})
    with pytest.raises(StackFileError, match=r"yaml:\d+:1: encryptionsalt is not the 'v1:"):
        load_stack_file(project, "ukdac-dev")
