"""Golden files: every format of each scenario, byte for byte (`pytest --update-golden` rewrites).

Scenarios are real pipeline runs over the seed excerpt and the bundled samples (paths relative
to the repository root, a fixed clock), plus one factory-built report whose spans include an
event-loop stall.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from report_factory import seed_report

from triage.findings import Report
from triage.pipeline import run
from triage.reports import ReportFormat, render
from triage.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CLOCK = datetime(2026, 11, 24, tzinfo=UTC)


def pipeline(path: str) -> Callable[[], Report]:
    return lambda: run([path], rules=load_rules(), generated_at=CLOCK)


SCENARIOS: dict[str, Callable[[], Report]] = {
    "seed": pipeline("tests/data/seed-excerpt.log"),
    "compaction-lock-leak": pipeline("samples/compaction-lock-leak/journal.txt"),
    "healthy": pipeline("samples/healthy/journal.txt"),
    "factory-stall": lambda: seed_report(with_stall=True),
}
SUFFIXES = {
    ReportFormat.TERMINAL: "txt",
    ReportFormat.MD: "md",
    ReportFormat.JSON: "json",
    ReportFormat.HTML: "html",
    ReportFormat.SARIF: "sarif",
    ReportFormat.JUNIT: "junit.xml",
}


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    cwd = Path.cwd()
    try:
        os.chdir(ROOT)
        return {name: build() for name, build in SCENARIOS.items()}
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("fmt", list(SUFFIXES))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_golden(
    scenario: str, fmt: ReportFormat, reports: dict[str, Report], update_golden: bool
) -> None:
    path = GOLDEN / f"{scenario}.{SUFFIXES[fmt]}"
    text = render(reports[scenario], fmt)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {path.name}; run pytest --update-golden"
    assert text.encode("utf-8") == path.read_bytes(), (
        f"{path.name} changed; review, then --update-golden"
    )
