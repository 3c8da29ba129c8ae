"""Today's date for the program, the one input that is not in the stack file.

Only the join token's expiry reads it. `UKDAC_TODAY` (an ISO date) fixes it, so offline
plans compared over time (golden files, base against head) differ only where a stack does.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

# A node an `up` creates can join for at least a day after it, at most two.
JOIN_WINDOW_DAYS = 2


def today() -> date:
    fixed = os.environ.get("UKDAC_TODAY")
    return date.fromisoformat(fixed) if fixed else datetime.now(UTC).date()


def join_token_expiry(on: date) -> str:
    """Midnight UTC, JOIN_WINDOW_DAYS after `on` (RFC 3339): it moves once a day at most."""
    return f"{(on + timedelta(days=JOIN_WINDOW_DAYS)).isoformat()}T00:00:00Z"
