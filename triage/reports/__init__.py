"""Reporters: pure `Report -> str` functions keyed by `ReportFormat`, plus `merge`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from enum import StrEnum

from triage.errors import Location, ReportError
from triage.findings import NearMiss, Report, SessionSummary, Span, sort_findings
from triage.redact import redact_report
from triage.reports import json_report


class ReportFormat(StrEnum):
    """Output formats; the value is the `--format` spelling."""

    TERMINAL = "terminal"
    JSON = "json"
    MD = "md"
    HTML = "html"
    SARIF = "sarif"
    JUNIT = "junit"


Reporter = Callable[[Report], str]

# Module per format, imported on first use: a terminal run should not pay for jinja2 (HTML).
REPORTERS: dict[ReportFormat, str] = {
    ReportFormat.TERMINAL: "triage.reports.terminal",
    ReportFormat.JSON: "triage.reports.json_report",
    ReportFormat.MD: "triage.reports.markdown",
    ReportFormat.HTML: "triage.reports.html",
    ReportFormat.SARIF: "triage.reports.sarif",
    ReportFormat.JUNIT: "triage.reports.junit",
}


def reporter(fmt: ReportFormat) -> Reporter:
    """The `render` function of `fmt`'s module."""
    render_fn: Reporter = importlib.import_module(REPORTERS[fmt]).render
    return render_fn


def render(report: Report, fmt: ReportFormat, *, redact: bool = True, color: bool = False) -> str:
    """Render `report` as `fmt`; secrets are replaced by stable pseudonyms unless `redact=False`.

    `color` only affects the terminal format (ANSI styles when True, plain text when False).
    """
    if redact:
        report = redact_report(report)
    if fmt is ReportFormat.TERMINAL:
        from triage.reports import terminal

        return terminal.render(report, color=color)
    return reporter(fmt)(report)


def merge(reports: Sequence[Report]) -> Report:
    """Combine per-host reports into one (for `triage merge`), sorted deterministically."""
    if not reports:
        raise ReportError("nothing to merge: give at least one JSON report", Location("<merge>"))
    return Report(
        tool_version=reports[0].tool_version,
        generated_at=max(r.generated_at for r in reports),
        inputs=tuple(
            sorted((i for r in reports for i in r.inputs), key=lambda i: (i.path, i.format))
        ),
        findings=tuple(sort_findings([f for r in reports for f in r.findings])),
        near_misses=tuple(sorted((n for r in reports for n in r.near_misses), key=_near_key)),
        sessions=tuple(sorted((s for r in reports for s in r.sessions), key=_session_key)),
        spans=tuple(sorted((s for r in reports for s in r.spans), key=_span_key)),
        rules=tuple(sorted({rule for r in reports for rule in r.rules})),
    )


def _near_key(n: NearMiss) -> tuple[str, str, str, str]:
    return (n.rule, n.session, json_report.iso(n.first) or "", n.reason)


def _session_key(s: SessionSummary) -> tuple[str, str, str]:
    return (s.key, json_report.iso(s.first) or "", ",".join(s.ids))


def _span_key(s: Span) -> tuple[str, str, str, str]:
    return (s.lane, json_report.iso(s.start) or "", s.kind, s.label)


__all__ = ["REPORTERS", "ReportFormat", "merge", "render"]
