"""Candidate hits: the few events a rule's predicates selected, with their values and time.

Also the small time helpers the sequence assembly and the findings share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from triage.findings import Evidence


@dataclass(frozen=True, slots=True)
class Hit:
    """One candidate event: which steps and withouts it satisfies, and its values."""

    row: int
    order: tuple[bool, datetime, int]
    ts: datetime | None
    file: str
    line: int
    text: str
    duplicate: bool
    key: str | None
    steps: frozenset[int]
    withouts: frozenset[int]
    values: dict[str, Any] = field(default_factory=dict)
    around: frozenset[int] = frozenset()
    """Indexes of the rule's `[[around.count]]` matchers this event satisfies."""

    def evidence(self, step: str = "") -> Evidence:
        """This hit as citable evidence."""
        return Evidence(path=self.file, line=self.line, ts=self.ts, text=self.text, step=step)

    def where(self) -> str:
        """`HH:MM:SS (file:line)` for reasons."""
        return f"{clock(self.ts)} ({self.file}:{self.line})"


def occurrences(hits: Sequence[Hit], merge: timedelta | None) -> int:
    """Distinct occurrences: duplicates excluded, hits within `merge` of the last one merged."""
    count = 0
    last: Hit | None = None
    for hit in hits:
        if hit.duplicate:
            continue
        gap = time_gap(last, hit)
        if last is None or merge is None or gap is None or gap > merge:
            count += 1
            last = hit
    return count


def time_gap(a: Hit | None, b: Hit) -> timedelta | None:
    """Time between two hits (by file-position time), None when one has no time."""
    if a is None or not a.order[0] or not b.order[0]:
        return None
    return abs(b.order[1] - a.order[1])


def iso(ts: datetime | None) -> str:
    """ISO 8601, or `?`."""
    return ts.isoformat() if ts else "?"


def clock(ts: datetime | None) -> str:
    """`HH:MM:SS`, or `?`."""
    return ts.strftime("%H:%M:%S") if ts else "?"


def human(delta: timedelta) -> str:
    """`42s`, `5m03s`, `1h02m`."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"
