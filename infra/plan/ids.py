"""The offline plan's resource ids: stable, UUID-shaped, derived from what names a resource.

Kept apart from the fakes (which need the SDK and cryptography) so that diffing two plans,
which recomputes ids, imports neither.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f0b7c1e-3c1a-4f57-9a43-2a1f4f1e0d11")


def fake_id(*parts: str) -> str:
    """A stable UUID-shaped id for the given parts."""
    return str(uuid.uuid5(_NAMESPACE, "\x00".join(parts)))
