"""Generate infra/plan/data/openstack_replace_triggers.json from the terraform provider.

pulumi-openstack bridges terraform-provider-openstack: an input whose Terraform schema says
`ForceNew: true` (at any depth under it) replaces the resource when it changes. This reads
the provider's Go sources and writes, per Pulumi type token ukdac uses, the top-level input
names that force a replacement. Run from the repository root:

    module=github.com/terraform-provider-openstack/terraform-provider-openstack/v3
    go mod download -json $module@v3.4.0     # prints the module's Dir
    python tools/replace_triggers.py <that Dir>

Pulumi's input names come from the provider schema in tests/data (the bridge renames some
Terraform attributes, e.g. pluralises `network` to `networks`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "infra" / "plan" / "data" / "openstack_replace_triggers.json"
SCHEMA = ROOT / "tests" / "data" / "pulumi-openstack" / "schema.json"
SOURCE = "terraform-provider-openstack/terraform-provider-openstack v3.4.0"

# Pulumi type token -> Terraform resource, for every OpenStack type the program can declare.
RESOURCES = {
    "openstack:compute/instance:Instance": "openstack_compute_instance_v2",
    "openstack:compute/keypair:Keypair": "openstack_compute_keypair_v2",
    "openstack:compute/serverGroup:ServerGroup": "openstack_compute_servergroup_v2",
    "openstack:networking/network:Network": "openstack_networking_network_v2",
    "openstack:networking/subnet:Subnet": "openstack_networking_subnet_v2",
    "openstack:networking/router:Router": "openstack_networking_router_v2",
    "openstack:networking/routerInterface:RouterInterface": (
        "openstack_networking_router_interface_v2"
    ),
    "openstack:networking/secGroup:SecGroup": "openstack_networking_secgroup_v2",
    "openstack:networking/secGroupRule:SecGroupRule": "openstack_networking_secgroup_rule_v2",
    "openstack:networking/port:Port": "openstack_networking_port_v2",
    "openstack:networking/floatingIp:FloatingIp": "openstack_networking_floatingip_v2",
    "openstack:networking/floatingIpAssociate:FloatingIpAssociate": (
        "openstack_networking_floatingip_associate_v2"
    ),
    "openstack:objectstorage/container:Container": "openstack_objectstorage_container_v1",
    "openstack:identity/ec2CredentialV3:Ec2CredentialV3": "openstack_identity_ec2_credential_v3",
    "openstack:identity/applicationCredential:ApplicationCredential": (
        "openstack_identity_application_credential_v3"
    ),
    "openstack:containerinfra/clusterTemplate:ClusterTemplate": (
        "openstack_containerinfra_clustertemplate_v1"
    ),
    "openstack:containerinfra/cluster:Cluster": "openstack_containerinfra_cluster_v1",
    "openstack:containerinfra/nodeGroup:NodeGroup": "openstack_containerinfra_nodegroup_v1",
    "openstack:loadbalancer/loadBalancer:LoadBalancer": "openstack_lb_loadbalancer_v2",
    "openstack:loadbalancer/listener:Listener": "openstack_lb_listener_v2",
    "openstack:loadbalancer/pool:Pool": "openstack_lb_pool_v2",
    "openstack:loadbalancer/member:Member": "openstack_lb_member_v2",
    "openstack:loadbalancer/monitor:Monitor": "openstack_lb_monitor_v2",
}

_SCHEMA_OPEN = re.compile(r"^(\t+)Schema: map\[string\]\*schema\.Schema\{\s*$")
_ATTRIBUTE = re.compile(r'^(\t+)"([a-z0-9_]+)": \{')


def force_new(source: str) -> list[str]:
    """Top-level attributes of the resource schema with `ForceNew: true` at any depth."""
    lines = source.splitlines()
    found: set[str] = set()
    depth: int | None = None
    current: str | None = None
    for line in lines:
        if depth is None:
            opened = _SCHEMA_OPEN.match(line)
            if opened:
                depth = len(opened.group(1))
            continue
        if re.match(rf"^\t{{{depth}}}\}},?\s*$", line):
            break
        attribute = _ATTRIBUTE.match(line)
        if attribute and len(attribute.group(1)) == depth + 1:
            current = attribute.group(2)
        if current and re.search(r"\bForceNew:\s+true\b", line):
            found.add(current)
    return sorted(found)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def pulumi_names(token: str, attributes: list[str], schema: dict[str, object]) -> list[str]:
    """The Pulumi input names of Terraform attributes (plural where the bridge made them so)."""
    inputs = schema["resources"][token]["inputProperties"]  # type: ignore[index]
    names = []
    for attribute in attributes:
        camel = _camel(attribute)
        for candidate in (camel, camel + "s", camel + "es"):
            if candidate in inputs:
                names.append(candidate)
                break
        else:  # computed-only in this Pulumi SDK: the program cannot change it
            print(f"{token}: {attribute} is not a Pulumi input; skipped")
    return sorted(names)


def main(provider_dir: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    table: dict[str, object] = {"source": SOURCE, "generatedBy": "tools/replace_triggers.py"}
    triggers = {}
    for token, resource in sorted(RESOURCES.items()):
        path = provider_dir / "openstack" / f"resource_{resource}.go"
        attributes = force_new(path.read_text(encoding="utf-8"))
        triggers[token] = pulumi_names(token, attributes, schema)
    table["replaceOnChange"] = triggers
    OUTPUT.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(triggers)} types")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
