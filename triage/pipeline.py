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
from triage.identity import identify
from triage.parsers import ParseResult, parse
from triage.parsers.base import ParseOptions
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
    options = _with_prefilter(parse_options or ParseOptions(), rules)
    results: list[ParseResult] = []
    tick = progress or (lambda stage, done: None)
    for path in paths:
        tick(f"reading {path}", 0)
        results.append(parse(path, options))
        tick(f"read {path}", input_size(path))
    tick("identifying sessions", 0)
    events = identify(_concat([r.events for r in results]))
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
        sessions=summarize_sessions(events, findings),
        spans=spans(events, findings),
        rules=tuple(sorted(rule.id for rule in rules.rules)),
    )


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


def _with_prefilter(options: ParseOptions, rules: RuleSet) -> ParseOptions:
    """Let the reader skip entries no rule and no identity needs, unless a rule needs them all."""
    literals = rules.literals()
    if literals is None or options.keep is not None:
        return options
    return replace(options, keep=tuple(sorted({*literals, *IDENTITY_LITERALS})))


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_events(PARSED_SCHEMA)
    return pl.concat(frames, how="vertical")


def summarize_sessions(
    events: pl.DataFrame, findings: Sequence[Finding]
) -> tuple[SessionSummary, ...]:
    """One summary per correlation key seen in the events or named by a finding."""
    causes = root_causes(findings)
    rows = (
        events.filter(pl.col("session").is_not_null())
        .group_by("session")
        .agg(
            pl.col("session_id").drop_nulls().unique().sort().alias("ids"),
            pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last"),
            pl.len().alias("events"),
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
