"""The catalogue: each rule loads, is named by its id, matches CATALOGUE.md, passes its fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.findings import Severity
from triage.rules import builtin_rules_dir, load_rule, load_rules
from triage.ruletest import fixtures_dir, run_fixtures

RULE_FILES = sorted(builtin_rules_dir().glob("*.toml"))
CATALOGUE = {
    "compaction-lock-leak": Severity.CRITICAL,
    "session-lock-contention": Severity.HIGH,
    "session-takeover-fence": Severity.HIGH,
    "compaction-stuck": Severity.HIGH,
    "event-loop-starvation": Severity.HIGH,
    "channel-reconnect-storm": Severity.MEDIUM,
    "gateway-restart-loop": Severity.HIGH,
    "lane-wait-blocked": Severity.MEDIUM,
    "stalled-agent-run": Severity.HIGH,
    "model-failover-exhausted": Severity.HIGH,
    "reply-lost": Severity.HIGH,
    "service-restart-loop": Severity.HIGH,
    "oom-kill": Severity.CRITICAL,
    "node-heap-oom": Severity.CRITICAL,
    "watchdog-timeout": Severity.HIGH,
    "start-stop-timeout": Severity.MEDIUM,
    "exec-failure": Severity.HIGH,
}


def test_the_catalogue_ships_exactly_its_ids() -> None:
    assert sorted(p.stem for p in RULE_FILES) == sorted(CATALOGUE)
    assert sorted(r.id for r in load_rules().rules) == sorted(CATALOGUE)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_loads_with_its_catalogue_severity(path: Path) -> None:
    rule = load_rule(path)
    assert rule.id == path.stem
    assert rule.severity is CATALOGUE[rule.id]
    assert rule.explain.cause and rule.explain.impact and rule.explain.workaround
    assert rule.explain.references
    assert rule.literals(), "every built-in rule must feed the reader's prefilter"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_has_a_firing_and_two_silent_fixtures(path: Path) -> None:
    folder = fixtures_dir(load_rule(path))
    expect = (folder / "expect.toml").read_text()
    assert expect.count("fires = true") >= 1
    assert expect.count("fires = false") >= 2


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_fixtures_pass(path: Path) -> None:
    rules = load_rules()
    results = run_fixtures(rules, [path.stem])
    assert [str(r) for r in results if not r.passed] == []
    assert len(results) >= 3


def test_one_finding_for_a_unit_killed_twice_scores_both_truth_records() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from score import RuleScore, score

    truth = [
        {"rule": "oom-kill", "session": "a.service", "first_line": 10, "last_line": 14},
        {"rule": "oom-kill", "session": "a.service", "first_line": 900, "last_line": 904},
    ]
    finding = {
        "rule": "oom-kill",
        "session": "a.service",
        "evidence": [{"line": n} for n in (10, 12, 14, 900, 902, 904)],
    }
    assert score([finding], truth) == [RuleScore("oom-kill", 2, 2, 1, 1)]
