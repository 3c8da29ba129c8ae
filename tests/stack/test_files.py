"""Reading stack files as the Pulumi CLI does, with a clear message for each way they fail."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from infra.errors import StackFileError
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
