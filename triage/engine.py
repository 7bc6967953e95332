"""Rule matching: ordered steps per correlation key, with counts, windows and absences.

Shape, chosen for speed: each rule's step and `without` predicates are polars expressions
evaluated over the whole events frame in one `select` (`str.contains_any`, `str.contains`,
`str.extract_groups`, `pl.when`). Only the candidate hits (rows where some predicate holds, a
tiny share of a log) leave polars. Sequences are then assembled per key by a Python loop over
those few candidate hits, never over all lines. The semantics are documented in docs/rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from triage.findings import Finding, NearMiss, sort_findings
from triage.predicates import candidates
from triage.rules import RuleSet
from triage.sequences import Matched, match_rule


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What `match` found: findings (unlinked) and near misses."""

    findings: tuple[Finding, ...]
    near_misses: tuple[NearMiss, ...]


def match(events: pl.DataFrame, rules: RuleSet) -> MatchResult:
    """Run every rule over the events frame (EVENT_SCHEMA); rules explained by others go after."""
    frame = _prepare(events)
    ends = _ends(frame)
    findings: list[Finding] = []
    misses: list[NearMiss] = []
    used: dict[str, set[int]] = {}
    for rule in rules.rules:
        excluded = set().union(*(used.get(r, set()) for r in rule.explained_by))
        matched = Matched()
        for variant in rule.variants():
            _merge_variant(matched, match_rule(variant, candidates(frame, variant, excluded), ends))
        findings += matched.findings
        misses += matched.misses
        used[rule.id] = set().union(*matched.rows)
    misses.sort(key=lambda m: (m.rule, m.session, m.first or datetime.min.replace(tzinfo=None)))
    return MatchResult(tuple(sort_findings(findings)), tuple(misses))


def _merge_variant(into: Matched, new: Matched) -> None:
    """Add an `[[also]]` sequence's results, dropping what overlaps a finding already made.

    One episode is one finding: a finding (or near miss) of a later sequence is dropped when an
    earlier sequence's finding of the same session overlaps it in time.
    """
    before = list(into.findings)
    for finding, rows in zip(new.findings, new.rows, strict=True):
        if not any(
            _overlap(finding, f.first, f.last) for f in before if f.session == finding.session
        ):
            into.findings.append(finding)
            into.rows.append(rows)
    for miss in new.misses:
        if not any(
            _overlap(f, miss.first, miss.first) for f in into.findings if f.session == miss.session
        ):
            into.misses.append(miss)


def _overlap(finding: Finding, first: datetime | None, last: datetime | None) -> bool:
    if None in (finding.first, finding.last, first, last):
        return True
    return finding.first <= last and first <= finding.last  # type: ignore[operator]


def _ends(frame: pl.DataFrame) -> dict[str, datetime]:
    """The last event time of each file (an open absence waits for the log to pass it)."""
    ends = frame.group_by("file").agg(pl.col("__ots").max())
    return {f: t for f, t in ends.iter_rows() if f is not None and t is not None}


ADOPT_WITHIN = timedelta(seconds=5)
ADOPTED = ("session", "unit")
"""Columns an event without a value takes from the nearest event of its file within 5 s."""


def _prepare(events: pl.DataFrame) -> pl.DataFrame:
    # Events without `ts` take their place by file position: the nearest earlier stamp.
    ots = pl.col("ts").forward_fill().backward_fill().over("file")
    frame = events.with_row_index("__row").with_columns(ots.alias("__ots"))
    return frame.with_columns(_adopted(name).alias(name) for name in ADOPTED)


def _adopted(name: str) -> pl.Expr:
    """A lone line (`failed before reply`, `lane=main` of a pair, a V8 abort) joins its neighbour.

    The value comes from the nearest earlier event with one within ADOPT_WITHIN in the same
    file (a consequence follows its cause), else from the nearest later one within it.
    """
    value, at = pl.col(name), pl.col("__ots")
    known_at = pl.when(value.is_not_null()).then(at)
    before = (at - known_at.forward_fill().over("file")).fill_null(timedelta.max)
    after = (known_at.backward_fill().over("file") - at).fill_null(timedelta.max)
    take_before = before <= ADOPT_WITHIN
    take_after = after <= ADOPT_WITHIN
    return pl.coalesce(
        value,
        pl.when(take_before).then(value.forward_fill().over("file")),
        pl.when(take_after).then(value.backward_fill().over("file")),
    )
