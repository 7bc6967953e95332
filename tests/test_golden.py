"""Golden files: every format of each scenario, byte for byte (`pytest --update-golden` rewrites).

The scenarios are built with `report_factory` for now; the lead will switch them to pipeline
runs over `samples/`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from report_factory import empty_report, seed_report

from triage.findings import Report
from triage.reports import ReportFormat, render

GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS: dict[str, Callable[[], Report]] = {
    "seed": lambda: seed_report(with_stall=True),
    "healthy": empty_report,
}
SUFFIXES = {
    ReportFormat.TERMINAL: "txt",
    ReportFormat.MD: "md",
    ReportFormat.JSON: "json",
    ReportFormat.HTML: "html",
    ReportFormat.SARIF: "sarif",
    ReportFormat.JUNIT: "junit.xml",
}


@pytest.mark.parametrize("fmt", list(SUFFIXES))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_golden(scenario: str, fmt: ReportFormat, update_golden: bool) -> None:
    path = GOLDEN / f"{scenario}.{SUFFIXES[fmt]}"
    text = render(SCENARIOS[scenario](), fmt)
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {path.name}; run pytest --update-golden"
    assert text.encode("utf-8") == path.read_bytes(), (
        f"{path.name} changed; review, then --update-golden"
    )
