"""State spans for the HTML timeline (stub until the vectorised version lands)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from triage.findings import Finding, Span


def spans(events: pl.DataFrame, findings: Sequence[Finding]) -> tuple[Span, ...]:
    """State spans (lock held, compaction running, gateway down, stalls) per lane."""
    return ()
