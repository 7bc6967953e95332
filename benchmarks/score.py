"""Score triage's JSON findings against a ground-truth list (recall and precision per rule).

A finding matches a truth record when the rule is the same, the session agrees (chat key or
session id; any `gateway…` for gateway-wide records; the unit name for units; any session for
channel records), and at least one evidence line lies within the record's lines (± SLACK).
A finding without evidence lines matches on rule and session alone.

Repeated episodes of one key with no `window` between them are one finding with a count
(docs/rules.md, *Once per episode*): a unit OOM-killed twice gives two truth records and one
`oom-kill` finding that cites both kills, so it matches both records (recall 2/2) and is itself
correct (precision 1/1). The truth keeps one record per incident; the scorer needs no special case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SLACK = 50


@dataclass(frozen=True)
class RuleScore:
    """Counts for one rule: truth records found, findings that match some record."""

    rule: str
    expected: int
    found: int
    findings: int
    correct: int

    @property
    def recall(self) -> float | None:
        """Share of truth records that some finding matched."""
        return self.found / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        """Share of findings that match some truth record."""
        return self.correct / self.findings if self.findings else None


def _session_ok(finding: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    session = str(finding.get("session") or "")
    expected = str(record["session"])
    if expected.startswith("gateway"):
        return session.startswith("gateway")
    if expected.startswith("channel:"):
        return True
    return session in (expected, str(record.get("session_id", ""))) or expected in session


def _lines(finding: Mapping[str, Any]) -> list[int]:
    return [int(e["line"]) for e in finding.get("evidence") or [] if e.get("line") is not None]


def matches(finding: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """True when the finding reports the truth record's incident."""
    if finding.get("rule") != record["rule"] or not _session_ok(finding, record):
        return False
    lines = _lines(finding)
    low, high = int(record["first_line"]) - SLACK, int(record["last_line"]) + SLACK
    return not lines or any(low <= line <= high for line in lines)


def score(
    findings: Sequence[Mapping[str, Any]], truth: Sequence[Mapping[str, Any]]
) -> list[RuleScore]:
    """One RuleScore per rule seen in the truth or the findings, sorted by rule id."""
    rules = sorted({str(r["rule"]) for r in truth} | {str(f.get("rule")) for f in findings})
    out = []
    for rule in rules:
        records = [r for r in truth if r["rule"] == rule]
        mine = [f for f in findings if f.get("rule") == rule]
        found = sum(any(matches(f, r) for f in mine) for r in records)
        correct = sum(any(matches(f, r) for r in records) for f in mine)
        out.append(RuleScore(rule, len(records), found, len(mine), correct))
    return out


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def format_scores(scores: Sequence[RuleScore]) -> str:
    """A Markdown table: rule, expected, findings, recall, precision; then the totals."""
    rows = ["| rule | expected | findings | recall | precision |", "|---|---:|---:|---:|---:|"]
    for s in scores:
        rows.append(
            f"| `{s.rule}` | {s.expected} | {s.findings} | {_pct(s.recall)} | {_pct(s.precision)} |"
        )
    total = RuleScore(
        "all",
        sum(s.expected for s in scores),
        sum(s.found for s in scores),
        sum(s.findings for s in scores),
        sum(s.correct for s in scores),
    )
    recall, precision = _pct(total.recall), _pct(total.precision)
    rows.append(f"| **all** | {total.expected} | {total.findings} | {recall} | {precision} |")
    return "\n".join(rows)
