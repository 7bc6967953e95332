"""Every catalogue rule fires on its bundled scenario exactly as the scenario's truth says, and
nothing fires on the healthy sample (parametrised over the live rule set)."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from triage.pipeline import run
from triage.reports.json_report import to_dict
from triage.rules import builtin_rules_dir, load_rules

ROOT = Path(__file__).resolve().parent.parent
RULE_IDS = sorted(p.stem for p in builtin_rules_dir().glob("*.toml"))
CLOCK = datetime(2026, 11, 24, tzinfo=UTC)


def scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score", ROOT / "benchmarks" / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("score", module)  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rules() -> object:
    return load_rules()


def findings_of(rules: object, path: Path) -> list[dict[str, object]]:
    report = run([str(path)], rules=rules, generated_at=CLOCK)  # type: ignore[arg-type]
    findings: list[dict[str, object]] = to_dict(report)["findings"]
    return findings


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_on_its_sample_exactly_as_its_truth_says(rules: object, rule_id: str) -> None:
    folder = ROOT / "samples" / rule_id
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    findings = findings_of(rules, folder / "journal.txt")
    assert any(f["rule"] == rule_id for f in findings)
    scores = {s.rule: s for s in scorer().score(findings, truth)}
    for rule, s in scores.items():  # every truth record found, every finding a true one
        assert (s.found, s.correct) == (s.expected, s.findings), f"{rule}: {s}"


def test_nothing_fires_on_the_healthy_sample(rules: object) -> None:
    assert findings_of(rules, ROOT / "samples" / "healthy" / "journal.txt") == []
