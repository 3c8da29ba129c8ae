"""Per-developer sandbox stacks: their names and the stack file made from the template."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).parent / "templates" / "sandbox.yaml"
STACK_PREFIX = "ukdac-sbx-"
NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")


def stack_name(name: str) -> str:
    """The stack of sandbox `name`: `ukdac-sbx-<name>`."""
    return f"{STACK_PREFIX}{name}"


def render(name: str, owner: str, expires: date, node_cidr: str, public_key: str) -> str:
    """The stack file of a sandbox, from the template."""
    if not NAME.match(name):
        raise ValueError(
            f"sandbox name '{name}' must be 2-20 lower-case letters, digits and '-', "
            "starting with a letter"
        )
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        name=name,
        owner=owner,
        expires=expires.isoformat(),
        node_cidr=node_cidr,
        public_key=public_key,
    )
