"""How a wait is said, on every page and paper (issue 10 §4): one rule, so
the display, the kiosk, the ticket page, the printed ticket and the SMS
never contradict each other. The catalogs hold the words; this decides which
words and which number. Its twin for the pages is
queue_server/static/common/wait.js; tests/wait_wording_cases.json holds the
cases both must agree on.

- No estimate (no counter serves the service now): "unknown".
- Nobody ahead: "soon" (まもなく), whatever the estimate says.
- Someone ahead: "about N minutes", N the estimate rounded up to a step of
  5 minutes and never less than 5: never "0 minutes" with people ahead.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

STEP_MINUTES = 5


class WaitWording(NamedTuple):
    kind: Literal["unknown", "soon", "minutes"]
    minutes: int | None = None


def wait_wording(ahead: int | None, minutes: float | None) -> WaitWording:
    """`ahead`: people in front (None: not known); `minutes`: the estimate."""
    if minutes is None:
        return WaitWording("unknown")
    if ahead == 0:
        return WaitWording("soon")
    steps = max(1, math.ceil(max(0.0, minutes) / STEP_MINUTES))
    return WaitWording("minutes", steps * STEP_MINUTES)
