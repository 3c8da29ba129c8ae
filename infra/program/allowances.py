"""The stack file's allowed changes (`ukdac:allow`): protection lifted from named resources.

Protection is the engine's own guard (it refuses to replace or delete a protected resource),
so an allowed change is one whose resource the program declares unprotected, for as long as
the stack file lists it. Names are the logical names a plan shows; one that matches nothing
is reported, since a misspelt allowance would let nothing through and say nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from infra.stack.model import AllowedChange


class Allowances:
    """Registers the lifting transformation and reports, at the end, what it lifted."""

    def __init__(self, allowed: Sequence[AllowedChange]) -> None:
        self.allowed = {a.resource: a for a in allowed}
        self.lifted: set[str] = set()
        if self.allowed:
            pulumi.runtime.register_stack_transformation(self._lift)

    def _lift(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        if args.name not in self.allowed or not args.opts.protect:
            return None
        self.lifted.add(args.name)
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=False))
        return pulumi.ResourceTransformationResult(args.props, opts)

    def report(self) -> None:
        """One warning per allowance: what it unprotects, or that it names nothing protected."""
        for name, allowance in sorted(self.allowed.items()):
            if name in self.lifted:
                pulumi.log.warn(
                    f"ukdac:allow: {name} is unprotected for a {allowance.change} "
                    f"({allowance.reason}); remove the entry once the change is done"
                )
            else:
                pulumi.log.warn(
                    f"ukdac:allow: {name} names no protected resource of this stack "
                    "(see the plan for logical names); the entry allows nothing"
                )
