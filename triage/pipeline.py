"""The one orchestrator: parse -> identify -> match -> root cause -> Report (STYLE.md G1)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import polars as pl

from triage import __version__
from triage.engine import match
from triage.events import PARSED_SCHEMA, empty_events
from triage.findings import Finding, Report, SessionSummary, sort_findings
from triage.identity import LITERALS as IDENTITY_LITERALS
from triage.identity import PAIR_SCHEMA, identify, learnt_keys, with_session
from triage.literals import rarest
from triage.parsers import ParseResult, parse
from triage.parsers.base import ParseOptions
from triage.parsers.reader import HEAD_BYTES
from triage.parsers.tally import TALLY_SCHEMA
from triage.rootcause import link, root_causes
from triage.rules import RuleSet
from triage.timeline import spans

Progress = Callable[[str, int], None]
"""Called with a stage description and the input bytes finished since the last call."""


def run(
    paths: Sequence[str],
    *,
    rules: RuleSet,
    parse_options: ParseOptions | None = None,
    generated_at: datetime | None = None,
    progress: Progress | None = None,
) -> Report:
    """Analyse the inputs with the rule set and return the full report.

    Each input is parsed on its own (a pure function of its bytes, so fleets can shard by file),
    then the events are concatenated in input order and identified and matched together.
    """
    options = _with_prefilter(parse_options or ParseOptions(), rules, _sample(paths))
    results: list[ParseResult] = []
    tick = progress or (lambda stage, done: None)
    for path in paths:
        results.append(_parse_with_progress(path, options, tick))
    tick("identifying sessions", 0)
    pairs = _concat([r.pairs for r in results], PAIR_SCHEMA)
    events = identify(_concat([r.events for r in results]), pairs)
    tallied = _concat([r.tally for r in results], TALLY_SCHEMA)
    tally = with_session(tallied, learnt_keys(events, pairs))
    tick("matching rules", 0)
    matched = match(events, rules)
    tick("building the report", 0)
    findings = [_in_file_order(f, paths) for f in link(matched.findings)]
    return Report(
        tool_version=__version__,
        generated_at=generated_at or datetime.now(UTC).replace(microsecond=0),
        inputs=tuple(r.summary for r in results),
        findings=tuple(findings),
        near_misses=tuple(matched.near_misses),
        sessions=summarize_sessions(events, findings, tally),
        spans=spans(events, findings),
        rules=tuple(sorted(rule.id for rule in rules.rules)),
    )


def _parse_with_progress(path: str, options: ParseOptions, tick: Progress) -> ParseResult:
    """Parse one input, advancing the bar per block read (by the rest at the end, for readers
    that do not report blocks)."""
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        tick(f"reading {path}", size)

    tick(f"reading {path}", 0)
    result = parse(path, replace(options, progress=advance))
    tick(f"read {path}", max(input_size(path) - done, 0))
    return result


def input_size(path: str) -> int:
    """Bytes of an input on disk (0 for stdin or an unreadable path), for progress display."""
    try:
        return 0 if path == "-" else os.path.getsize(path)
    except OSError:
        return 0


def _in_file_order(finding: Finding, paths: Sequence[str]) -> Finding:
    """Evidence in input order, then line order: file order is the truth within one file, and
    a second-precision journald stamp can otherwise sort before the precise stamp above it."""
    rank = {path: i for i, path in enumerate(paths)}
    ordered = sorted(finding.evidence, key=lambda e: (rank.get(e.path, len(rank)), e.path, e.line))
    return replace(finding, evidence=tuple(ordered))


TIMELINE_LITERALS = ("attempting auto-compaction", "SessionWriteLockError")
"""Session lines `timeline.spans` draws states from that hold no rule literal."""
LENDER_LITERALS = ("lane task error: lane=session:",)
"""Lines the engine lends a session key from (an untagged failure takes its lane error's key)."""


def _with_prefilter(options: ParseOptions, rules: RuleSet, sample: str = "") -> ParseOptions:
    """Let the reader skip entries no rule, restart, timeline state or key lender needs
    (session lines are tallied, not kept), unless a rule needs them all.

    Where a matcher's conditions all hold on a match (`contains` and `regex`), the literals of
    any one of them do: the set rarest in `sample` is taken (`dispatch complete` with
    `replies=0\b` keeps the lines holding `replies=0`, not every dispatch).
    """
    literals = rules.literals(rarest(sample))
    if literals is None or options.keep is not None:
        return options
    needed = {*literals, *IDENTITY_LITERALS, *TIMELINE_LITERALS, *LENDER_LITERALS}
    # A literal that contains another adds nothing to the scan (and costs it time).
    shortest = {k for k in needed if not any(o != k and o in k for o in needed)}
    return replace(options, keep=tuple(sorted(shortest)))


def _sample(paths: Sequence[str]) -> str:
    """The start of the first plain file among the inputs (stdin and compressed inputs give
    none), to tell which literals are rare: as much as the reader sniffs formats from."""
    for path in paths:
        if path != "-" and not path.endswith((".gz", ".zst")) and os.path.isfile(path):
            try:
                with open(path, "rb") as handle:
                    return handle.read(HEAD_BYTES).decode("utf-8", "replace")
            except OSError:
                return ""  # the reader reports it
    return ""


def _concat(
    frames: list[pl.DataFrame], schema: dict[str, pl.DataType] = PARSED_SCHEMA
) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_events(schema)
    return pl.concat(frames, how="vertical")


def summarize_sessions(
    events: pl.DataFrame, findings: Sequence[Finding], tally: pl.DataFrame | None = None
) -> tuple[SessionSummary, ...]:
    """One summary per correlation key seen in the events, the tally or named by a finding.

    `tally` (TALLY_SCHEMA plus `session`) counts the session lines the reader did not keep.
    """
    causes = root_causes(findings)
    kept = events.filter(pl.col("session").is_not_null()).select(
        "session", "session_id", first="ts", last="ts", events=pl.lit(1, pl.UInt32)
    )
    if tally is not None and tally.height:
        tallied = tally.select("session", "session_id", "first", "last", "events")
        kept = pl.concat([kept, tallied], how="vertical_relaxed")
    rows = (
        kept.group_by("session")
        .agg(
            pl.col("session_id").drop_nulls().unique().sort().alias("ids"),
            pl.col("first").min(),
            pl.col("last").max(),
            pl.col("events").sum(),
        )
        .sort("session")
    )
    summaries = {
        row["session"]: SessionSummary(
            key=row["session"],
            ids=tuple(i for i in row["ids"] if i != row["session"]),
            first=row["first"],
            last=row["last"],
            events=row["events"],
            root_cause=causes.get(row["session"]),
        )
        for row in rows.iter_rows(named=True)
    }
    for finding in sort_findings(list(findings)):
        if finding.session not in summaries:
            summaries[finding.session] = SessionSummary(
                key=finding.session,
                ids=(),
                first=finding.first,
                last=finding.last,
                events=finding.count,
                root_cause=causes.get(finding.session),
            )
    return tuple(summaries[k] for k in sorted(summaries))
