"""docs/rules.md's worked example is a real rule: it loads, and fires on the log shown there."""

from __future__ import annotations

import re
from pathlib import Path

from triage.pipeline import run
from triage.rules import RuleSet, load_rule_text

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_worked_example_loads() -> None:
    rule = load_rule_text(fenced("toml")[0], "fetch-then-close.toml")
    assert [s.name for s in rule.steps] == ["fetch-timeout", "closed"]
    assert rule.literals() == (
        "Gateway websocket closed",
        "fetch timeout after",
        "http server listening",
        "ready",
    )


def test_the_worked_example_fires_on_the_documented_log(tmp_path: Path) -> None:
    rules = RuleSet((load_rule_text(fenced("toml")[0], "fetch-then-close.toml"),))
    log = tmp_path / "journal.txt"
    log.write_text(fenced("text")[0])
    (finding,) = run([str(log)], rules=rules).findings
    assert (finding.rule, finding.session, finding.count) == (
        "fetch-then-close",
        "gateway:963591",
        2,
    )
    assert finding.summary == (
        "2 closes within 2m of a 2500 ms fetch timeout, between 14:00:30 and 14:01:30."
    )
    assert [e.line for e in finding.evidence] == [1, 2, 3]


def test_the_example_stays_silent_when_the_closes_come_too_late(tmp_path: Path) -> None:
    rules = RuleSet((load_rule_text(fenced("toml")[0], "fetch-then-close.toml"),))
    log = tmp_path / "journal.txt"
    log.write_text(
        fenced("text")[0].replace("14:00:30", "14:03:30").replace("14:01:30", "14:04:30")
    )
    report = run([str(log)], rules=rules)
    assert report.findings == ()
    assert [m.matched_steps for m in report.near_misses] == [1]
