"""Candidate hits: the few events a rule's predicates selected, with their values and time.

Also the small time helpers the sequence assembly and the findings share.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
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

    def breaker(self) -> Hit:
        """This hit as another key's breaker: its `without` flags only (`dataclasses.replace`
        costs several times a direct construction, and a rule makes one per global breaker)."""
        return Hit(
            row=self.row,
            order=self.order,
            ts=self.ts,
            file=self.file,
            line=self.line,
            text=self.text,
            duplicate=self.duplicate,
            key=self.key,
            steps=frozenset(),
            withouts=self.withouts,
            values=self.values,
        )

    def where(self) -> str:
        """`HH:MM:SS (file:line)` for reasons."""
        return f"{clock(self.ts)} ({self.file}:{self.line})"


def join_keys(hits: Sequence[Hit], name: str, within: timedelta) -> list[Hit]:
    """`join`: a step hit without `name` takes the key and `name` of the nearest step hit of its
    file within `within` that has one; a lender with the same `pid` wins over a nearer one."""
    lenders: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.steps and hit.order[0] and hit.values.get(name) is not None:
            lenders.setdefault(hit.file, []).append(hit)
    times = {file: [h.order[1] for h in found] for file, found in lenders.items()}
    joined = []
    for hit in hits:
        if hit.steps and hit.order[0] and hit.values.get(name) is None and hit.file in lenders:
            lo = bisect.bisect_left(times[hit.file], hit.order[1] - within)
            hi = bisect.bisect_right(times[hit.file], hit.order[1] + within)
            near = lenders[hit.file][lo:hi]
            if near:
                best = min(near, key=lambda lender: _closeness(hit, lender))
                values = {**hit.values, name: best.values[name]}
                hit = replace(hit, key=best.key, values=values)
        joined.append(hit)
    return joined


def _closeness(hit: Hit, lender: Hit) -> tuple[bool, timedelta, int, bool]:
    """Sort key: same pid first, then the nearest in time, then in the file, then the earlier."""
    pid = hit.values.get("pid")
    same_pid = pid is not None and lender.values.get("pid") == pid
    rows = abs(lender.row - hit.row)
    return (not same_pid, abs(lender.order[1] - hit.order[1]), rows, lender.row > hit.row)


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
    """ISO 8601 in UTC with the shortest exact fraction (`…13:56:27.284+00:00`), or `?`."""
    if ts is None:
        return "?"
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if ts.microsecond == 0:
        return ts.isoformat(timespec="seconds")
    exact_ms = ts.microsecond % 1000 == 0
    return ts.isoformat(timespec="milliseconds" if exact_ms else "microseconds")


def span(times: Sequence[datetime]) -> str:
    """`at 13:43:14`, or `between 13:43:14 and 13:53:05` when the times differ by the second."""
    if not times:
        return "at ?"
    first, last = clock(min(times)), clock(max(times))
    return f"at {first}" if first == last else f"between {first} and {last}"


def clock(ts: datetime | None) -> str:
    """`HH:MM:SS`, or `?`."""
    return f"{ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}" if ts else "?"  # strftime: 3x slower


def human(delta: timedelta) -> str:
    """`42s`, `5m03s`, `1h02m`."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"
