"""Default-deny security groups for a cluster, built from a table of rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from components.openstack.security_rules import Group, Rule

GROUPS: tuple[Group, ...] = ("control-plane", "workers", "ingress")
_WORLD = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class SecurityGroupsArgs:
    """`rules` say who may reach what; `admin_cidrs` is who the `admin` source means."""

    names: Mapping[str, str]  # the physical name of each group in GROUPS
    owner: str  # who the groups belong to, for their descriptions
    admin_cidrs: tuple[str, ...]
    rules: tuple[Rule, ...]
    tags: tuple[str, ...] = ()
    load_balancer_cidrs: tuple[str, ...] = ()  # where a load balancer's amphorae sit


def _ethertype(cidr: str) -> str:
    return "IPv6" if ipaddress.ip_network(cidr).version == 6 else "IPv4"


def _slug(text: str) -> str:
    return text.replace("/", "_").replace(":", "_")


class SecurityGroups(pulumi.ComponentResource):
    """One group per role; nodes get `control-plane` or `workers`, the FIP port `ingress` too."""

    ids: dict[Group, pulumi.Output[str]]

    def __init__(
        self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ukdac:openstack:SecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.groups = {
            group: openstack.networking.SecGroup(
                f"{name}-{group}",
                name=args.names[group],
                description=f"{group} nodes of {args.owner} (managed by Pulumi)",
                delete_default_rules=True,
                tags=list(args.tags),
                opts=child,
            )
            for group in GROUPS
        }
        self.ids = {group: sg.id for group, sg in self.groups.items()}
        self.rules: list[openstack.networking.SecGroupRule] = []
        for group in ("control-plane", "workers"):
            for ethertype in ("IPv4", "IPv6"):
                self._rule(
                    f"{name}-{group}-egress-{ethertype.lower()}",
                    self.groups[group],
                    None,
                    ethertype,
                    direction="egress",
                )
        for rule in args.rules:
            for group in rule.groups:
                self._expand(name, args, group, rule)
        self.register_outputs({k: v for k, v in self.ids.items()})

    def _expand(self, name: str, args: SecurityGroupsArgs, group: Group, rule: Rule) -> None:
        ports = f"{rule.protocol}{rule.low}" if rule.low is not None else rule.protocol
        if rule.low is not None and rule.high != rule.low:
            ports += f"-{rule.high}"
        base = f"{name}-{group}-{ports}"
        target = self.groups[group]
        if rule.source in ("admin", "world", "load-balancer"):
            cidrs = {
                "admin": args.admin_cidrs,
                "world": _WORLD,
                "load-balancer": args.load_balancer_cidrs,
            }[rule.source]
            for cidr in cidrs:
                self._rule(
                    f"{base}-from-{_slug(cidr)}", target, rule, _ethertype(cidr), remote_ip=cidr
                )
            return
        sources: tuple[Group, ...] = (
            ("control-plane", "workers") if rule.source == "cluster" else ("control-plane",)
        )
        for source in sources:
            self._rule(
                f"{base}-from-{source}", target, rule, "IPv4", remote_group=self.groups[source].id
            )

    def _rule(
        self,
        logical: str,
        group: openstack.networking.SecGroup,
        rule: Rule | None,
        ethertype: str,
        direction: str = "ingress",
        remote_ip: str | None = None,
        remote_group: pulumi.Output[str] | None = None,
    ) -> None:
        self.rules.append(
            openstack.networking.SecGroupRule(
                logical,
                security_group_id=group.id,
                direction=direction,
                ethertype=ethertype,
                protocol=rule.protocol if rule else None,
                port_range_min=rule.low if rule else None,
                port_range_max=rule.high if rule else None,
                remote_ip_prefix=remote_ip,
                remote_group_id=remote_group,
                description=rule.description if rule else "all outbound traffic",
                opts=pulumi.ResourceOptions(parent=self),
            )
        )
