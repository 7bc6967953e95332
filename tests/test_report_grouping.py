"""Symptoms are listed once, under the episode of their cause they belong to."""

from __future__ import annotations

from dataclasses import replace

from report_factory import at, empty_report, lock_leak, reply_lost

from triage.reports import ReportFormat, render
from triage.reports.common import blocks


def two_episodes() -> object:
    leak, lost = lock_leak(), reply_lost()
    later = {"first": at("15:00:00"), "last": at("15:10:00")}
    findings = (leak, lost, replace(leak, **later), replace(lost, **later))
    return replace(empty_report(), findings=findings)


def test_each_symptom_sits_under_its_own_episode_once() -> None:
    (block,) = blocks(two_episodes())  # type: ignore[arg-type]
    assert [c.finding.first for c in block.causes] == [lock_leak().first, at("15:00:00")]
    assert [[s.first for s in c.symptoms] for c in block.causes] == [
        [reply_lost().first],
        [at("15:00:00")],
    ]


def test_html_shows_every_finding_exactly_once() -> None:
    html = render(two_episodes(), ReportFormat.HTML)  # type: ignore[arg-type]
    assert html.count("<article") == 4
