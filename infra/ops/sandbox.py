"""Per-developer sandbox stacks: names, address ranges, the stack file, and expiry.

A sandbox is `stacks/Pulumi.ukdac-sbx-<name>.yaml`, made from `infra/ops/templates/sandbox.yaml`.
Sandboxes share one OpenStack project, so each gets its own /24 for nodes, derived from its
name and moved along when another sandbox has it already.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

from infra.errors import StackFileError, UkdacError
from infra.stack.files import Project, load_stack_file
from infra.stack.profiles import SANDBOX_POOL

TEMPLATE = Path(__file__).parent / "templates" / "sandbox.yaml"
STACK_PREFIX = "ukdac-sbx-"
NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
POOL = SANDBOX_POOL


class SandboxError(UkdacError):
    exit_code = 2


@dataclass(frozen=True)
class Sandbox:
    name: str
    stack: str
    path: Path
    owner: str
    expires: date
    node_cidr: str

    def expired(self, today: date) -> bool:
        return today > self.expires


def check_name(name: str) -> str:
    if not NAME.fullmatch(name) or "--" in name:
        raise SandboxError(
            f"sandbox name '{name}' must be 2-20 characters: lower-case letters, digits and "
            "single '-', starting with a letter and not ending with '-' (it becomes a DNS label)"
        )
    return name


def stack_name(name: str) -> str:
    """The stack of sandbox `name`: `ukdac-sbx-<name>`."""
    return f"{STACK_PREFIX}{name}"


def allocate_cidr(name: str, taken: set[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """A /24 of the pool: the one the name hashes to, or the next free one."""
    subnets: list[ipaddress.IPv4Network] = list(POOL.subnets(new_prefix=24))
    start = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % len(subnets)
    for step in range(len(subnets)):
        candidate = subnets[(start + step) % len(subnets)]
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise SandboxError(f"no free /24 left in {POOL} for another sandbox: reap expired ones")


def render(
    name: str, owner: str, expires: date, node_cidr: str, public_key: str, layers: str = "all"
) -> str:
    """The stack file of a sandbox, from the template (`layers`: "cloud" for the OpenStack
    layer alone, such as to try a substrate change without a cluster's services)."""
    check_name(name)
    if layers not in ("all", "cloud"):
        raise SandboxError(f"layers '{layers}' must be 'all' or 'cloud'")
    text = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        name=name,
        owner=owner,
        expires=expires.isoformat(),
        node_cidr=node_cidr,
        public_key=public_key,
    )
    if layers == "all":  # the profile's default: the file says nothing
        return text
    return text.replace(
        "  ukdac:environment: sandbox\n",
        f"  ukdac:environment: sandbox\n  ukdac:layers: {layers}\n",
    )


def list_sandboxes(project: Project, skipped: list[str] | None = None) -> list[Sandbox]:
    """Every readable sandbox stack file, read without the rest of the validation.

    A malformed neighbour is skipped with a reason in `skipped`, never guessed at: an
    unreadable expiry must not make a sandbox look expired to `reap`.
    """
    found = []
    for stack in project.stacks():
        if not stack.startswith(STACK_PREFIX):
            continue
        path = project.stack_path(stack)
        try:
            config = load_stack_file(project, stack).config
            sandbox = config.get("ukdac:sandbox") or {}
            network = config.get("ukdac:network") or {}
            expires = sandbox["expires"]
            found.append(
                Sandbox(
                    name=stack.removeprefix(STACK_PREFIX),
                    stack=stack,
                    path=path,
                    owner=str(sandbox.get("owner", "?")),
                    expires=expires if isinstance(expires, date) else date.fromisoformat(expires),
                    node_cidr=str(network.get("nodeCidr", "")),
                )
            )
        except (StackFileError, KeyError, TypeError, ValueError, AttributeError) as error:
            reason = str(error) if isinstance(error, StackFileError) else "no valid sandbox.expires"
            if skipped is not None:
                skipped.append(f"{project.display(path)} skipped: {reason}")
    return found


def create(
    project: Project,
    name: str,
    owner: str,
    expires: date,
    public_key: str,
    today: date,
    layers: str = "all",
) -> Sandbox:
    """Write the stack file of a new sandbox (not deployed yet)."""
    check_name(name)
    stack = stack_name(name)
    path = project.stack_path(stack)
    if path.exists():
        raise SandboxError(f"{project.display(path)} exists already: pick another name")
    if expires <= today:
        raise SandboxError(f"expiry {expires} is not in the future")
    taken = set()
    for sandbox in list_sandboxes(project):
        try:
            taken.add(ipaddress.ip_network(sandbox.node_cidr))
        except ValueError:  # a neighbour whose range cannot be read (list and reap name it)
            continue
    cidr = allocate_cidr(name, {t for t in taken if isinstance(t, ipaddress.IPv4Network)})
    text = render(name, owner, expires, str(cidr), public_key, layers)
    path.write_text(text, encoding="utf-8")
    return Sandbox(name, stack, path, owner, expires, str(cidr))
