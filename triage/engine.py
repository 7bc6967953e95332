"""Rule matching: ordered steps per correlation key, with counts, windows and absences.

Shape, chosen for speed: each rule's step and `without` predicates are polars expressions
evaluated over the whole events frame in one `select` (`literals.contains_any`, `str.contains`,
`str.extract_groups`, `pl.when`). Only the candidate hits (rows where some predicate holds, a
tiny share of a log) leave polars. Sequences are then assembled per key by a Python loop over
those few candidate hits, never over all lines. The semantics are documented in docs/rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import polars as pl

from triage.findings import Finding, NearMiss, sort_findings
from triage.literals import contains_any
from triage.predicates import candidates, select_all
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
    variants = [(rule, list(rule.variants())) for rule in rules.rules]
    selected = iter(select_all(frame, [v for _, vs in variants for v in vs]))
    for rule, rule_variants in variants:
        excluded = set().union(*(used.get(r, set()) for r in rule.explained_by))
        matched = Matched()
        for variant in rule_variants:
            hits = candidates(next(selected), variant, excluded)
            _merge_variant(matched, match_rule(variant, hits, ends))
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


BORROW_WITHIN = timedelta(seconds=5)


class Toward(StrEnum):
    """Which neighbour a borrowing line looks at first."""

    BEFORE = "before"  # a consequence follows its cause
    AFTER = "after"  # the cause's report comes later (systemd's exit line after a V8 abort)
    NEAREST = "nearest"  # either side, whichever is closer


@dataclass(frozen=True, slots=True)
class Borrow:
    """A kind of line that takes a missing `column` from a neighbour within BORROW_WITHIN."""

    column: str
    lines: pl.Expr
    toward: Toward
    lenders: pl.Expr = field(default_factory=lambda: pl.lit(True))
    twin: pl.Expr = field(default_factory=lambda: pl.lit(""))
    """What a lender must share with the borrowing line (the text before `lane=`)."""


_MESSAGE = pl.col("message").fill_null("")
V8_ABORT = ("JavaScript heap out of memory", "Reached heap limit", "Ineffective mark-compacts")
BORROWS: tuple[Borrow, ...] = (
    # An untagged `Embedded agent failed before reply` joins the lane error logged before it.
    Borrow(
        "session",
        _MESSAGE.str.starts_with("Embedded agent failed before reply")
        & pl.col("subsystem").is_null(),
        Toward.BEFORE,
    ),
    # The `lane=main` line of a lane pair joins its `lane=session:<key>` twin.
    Borrow(
        "session",
        (pl.col("lane") == "main") & pl.col("lock_path").is_null(),
        Toward.NEAREST,
        pl.col("lane").str.starts_with("session:").fill_null(False),
        _MESSAGE.str.extract(r"^(.*?)lane=").fill_null(""),
    ),
    # A V8 abort joins systemd's `Main process exited` line of its unit.
    Borrow(
        "unit",
        contains_any(_MESSAGE, V8_ABORT),
        Toward.AFTER,
        _MESSAGE.str.contains("Main process exited", literal=True),
    ),
)
"""The only lines that borrow a key (docs/rules.md, *Per key*); a lender of the same pid first."""


def _prepare(events: pl.DataFrame) -> pl.DataFrame:
    # Events without `ts` take their place by file position: the nearest earlier stamp.
    ots = pl.col("ts").forward_fill().backward_fill().over("file")
    frame = events.with_row_index("__row").with_columns(ots.alias("__ots"))
    for column in dict.fromkeys(b.column for b in BORROWS):
        cases = [b for b in BORROWS if b.column == column]
        # Only borrowing and lending lines take part (a few in a big log); dropping the rest
        # keeps each partition's order, so the fills see the same neighbours.
        involved = pl.any_horizontal(
            [c.lines.fill_null(False) for c in cases]
            + [c.lenders.fill_null(False) & pl.col(column).is_not_null() for c in cases]
        )
        part = frame.filter(involved).select("__row", _borrowed(column, cases).alias(column))
        if part.height:
            frame = frame.update(part, on="__row")
    return frame


def _borrowed(column: str, cases: list[Borrow]) -> pl.Expr:
    """The column, or for a borrowing line without it, its lender's value (same pid first)."""
    value = pl.col(column)
    options = []
    for case in cases:
        for part in ([pl.col("file"), pl.col("pid"), case.twin], [pl.col("file"), case.twin]):
            borrows = case.lines.fill_null(False)
            if len(part) == 3:
                borrows = borrows & pl.col("pid").is_not_null()
            options.append(pl.when(borrows).then(_neighbour(value, case, part)))
    return pl.coalesce(value, *options)


def _neighbour(value: pl.Expr, case: Borrow, part: list[pl.Expr]) -> pl.Expr:
    """The value of the lender before / after within BORROW_WITHIN, in `case.toward` order."""
    at = pl.col("__ots")
    lender = case.lenders.fill_null(False) & value.is_not_null()
    lent, lent_at = pl.when(lender).then(value), pl.when(lender).then(at)
    before_at = lent_at.forward_fill().over(part)
    after_at = lent_at.backward_fill().over(part)
    gap_before = (at - before_at).fill_null(timedelta.max)
    gap_after = (after_at - at).fill_null(timedelta.max)
    before = pl.when(gap_before <= BORROW_WITHIN).then(lent.forward_fill().over(part))
    after = pl.when(gap_after <= BORROW_WITHIN).then(lent.backward_fill().over(part))
    if case.toward is Toward.AFTER:
        return pl.coalesce(after, before)
    if case.toward is Toward.NEAREST:
        return pl.when(gap_after < gap_before).then(after).otherwise(pl.coalesce(before, after))
    return pl.coalesce(before, after)
