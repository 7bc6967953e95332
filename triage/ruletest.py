"""Rule fixtures: each rule's own logs that must fire or stay silent (`triage test-rules`).

A rule file `<dir>/<id>.toml` has its fixtures in `<dir>/fixtures/<id>/`: log files plus an
`expect.toml` with one table per log:

    ["fires.log"]
    fires = true
    session = "agent:main:discord:channel:1"   # optional: the finding's session
    findings = 2                                # optional: how many findings of the rule
    count = 3                                   # optional: the finding's count
    summary = "3 closes from 14:00:00 to ..."   # optional: the finding's exact summary
    evidence = [1, 9]                           # optional: lines that must be cited

    ["restart.log"]
    fires = false
    near_miss = true                            # optional: a near miss of the rule is required
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from triage.errors import TriageError
from triage.findings import Report
from triage.rules import Rule, RuleSet


@dataclass(frozen=True, slots=True)
class FixtureResult:
    """One fixture log of one rule: passed or not, and why."""

    rule: str
    fixture: str
    """The log's path."""
    passed: bool
    message: str = ""

    def __str__(self) -> str:
        name = f"{self.rule}/{Path(self.fixture).name}"
        return f"PASS {name}" if self.passed else f"FAIL {name}: {self.message}"


def fixtures_dir(rule: Rule) -> Path:
    """Where a rule's fixtures live: `fixtures/<id>/` beside its file."""
    return Path(rule.path).parent / "fixtures" / rule.id


def run_fixtures(rules: RuleSet, rule_ids: Sequence[str] | None = None) -> list[FixtureResult]:
    """Run every fixture of the chosen rules (all by default) through the whole pipeline."""
    chosen = [rules.get(i) for i in rule_ids] if rule_ids is not None else list(rules.rules)
    results: list[FixtureResult] = []
    for rule in chosen:
        results.extend(_run_rule(rule, rules))
    return results


def _run_rule(rule: Rule, rules: RuleSet) -> list[FixtureResult]:
    folder = fixtures_dir(rule)
    expect_path = folder / "expect.toml"
    if not expect_path.is_file():
        return [FixtureResult(rule.id, str(folder), False, f"no fixtures: add {expect_path}")]
    try:
        expect = tomllib.loads(expect_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        return [FixtureResult(rule.id, str(expect_path), False, f"bad expect.toml: {error}")]
    results = []
    logs = sorted(p.name for p in folder.iterdir() if p.name != "expect.toml")
    for name in logs:
        path = folder / name
        if name not in expect:
            results.append(FixtureResult(rule.id, str(path), False, "no entry in expect.toml"))
            continue
        results.append(_run_one(rule, rules, path, expect[name]))
    for name in sorted(set(expect) - set(logs)):
        results.append(FixtureResult(rule.id, str(folder / name), False, "log file is missing"))
    return results


def _run_one(rule: Rule, rules: RuleSet, path: Path, want: dict[str, Any]) -> FixtureResult:
    from triage.pipeline import run  # the pipeline imports the engine; import it late

    try:
        report = run([str(path)], rules=rules)
    except TriageError as error:
        return FixtureResult(rule.id, str(path), False, f"cannot analyse: {error}")
    problem = _check(rule.id, report, want, str(path))
    return FixtureResult(rule.id, str(path), problem is None, problem or "")


def _check(rule_id: str, report: Report, want: dict[str, Any], path: str) -> str | None:
    """None when the report meets the expectation, else what is wrong."""
    found = [f for f in report.findings if f.rule == rule_id]
    misses = [m for m in report.near_misses if m.rule == rule_id]
    if not want.get("fires", True):
        if found:
            return f"expected silence, but it fired for {found[0].session}: {found[0].summary}"
        if want.get("near_miss") and not misses:
            return "expected a near miss, got none"
        return None
    if not found:
        near = f" (near miss: {misses[0].reason})" if misses else ""
        return f"expected a finding, got none{near}"
    if "findings" in want and len(found) != want["findings"]:
        listed = "; ".join(f"{f.session}: {f.summary}" for f in found)
        return f"expected {want['findings']} finding(s), got {len(found)}: {listed}"
    session = want.get("session")
    chosen = [f for f in found if session is None or f.session == session]
    if not chosen:
        return f"expected session {session!r}, got {', '.join(f.session for f in found)}"
    finding = chosen[0]
    if "count" in want and finding.count != want["count"]:
        return f"expected count {want['count']}, got {finding.count}"
    if "summary" in want and finding.summary != want["summary"]:
        return f"expected summary {want['summary']!r}, got {finding.summary!r}"
    cited = {e.line for e in finding.evidence if e.path == path}
    missing = [line for line in want.get("evidence", []) if line not in cited]
    if missing:
        return f"evidence lacks line(s) {missing}; cited {sorted(cited)}"
    return None


def junit_xml(results: Sequence[FixtureResult]) -> str:
    """A JUnit XML report: one testsuite, one testcase per fixture log (classname = rule id)."""
    failures = sum(1 for r in results if not r.passed)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="triage.rules" tests="{len(results)}" failures="{failures}">',
    ]
    for r in results:
        head = f"  <testcase classname={quoteattr(r.rule)} name={quoteattr(Path(r.fixture).name)}"
        if r.passed:
            lines.append(head + "/>")
        else:
            lines.append(head + ">")
            lines.append(
                f"    <failure message={quoteattr(r.message)}>{escape(r.message)}</failure>"
            )
            lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"
