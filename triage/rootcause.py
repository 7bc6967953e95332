"""Root cause per session: rank causes over symptoms and link each symptom to its cause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from triage.findings import Finding, sort_findings

CAUSE_ORDER: tuple[str, ...] = (
    # Process and host causes first: they explain everything that happens inside them.
    "oom-kill",
    "node-heap-oom",
    "watchdog-timeout",
    "exec-failure",
    "start-stop-timeout",
    "service-restart-loop",
    "gateway-restart-loop",
    "event-loop-starvation",
    # Session causes, most specific first.
    "compaction-lock-leak",
    "session-takeover-fence",
    "compaction-stuck",
    "session-lock-contention",
    "model-failover-exhausted",
    "stalled-agent-run",
    "lane-wait-blocked",
    "channel-reconnect-storm",
    # Pure symptoms: the user got no answer.
    "reply-lost",
)
"""Rule ids from most causal to most symptomatic; unknown (user) rules rank after, by severity."""


def rank(finding: Finding) -> tuple[int, int, str]:
    """Sort key: lower is more causal."""
    position = CAUSE_ORDER.index(finding.rule) if finding.rule in CAUSE_ORDER else len(CAUSE_ORDER)
    return (position, -int(finding.severity), finding.rule)


def link(findings: Sequence[Finding]) -> list[Finding]:
    """Set `caused_by` on each finding explained by a more causal one in the same session."""
    by_session: dict[str, list[Finding]] = {}
    for finding in findings:
        by_session.setdefault(finding.session, []).append(finding)
    linked = []
    for finding in findings:
        cause = _cause_of(finding, by_session[finding.session])
        linked.append(replace(finding, caused_by=cause.rule) if cause else finding)
    return sort_findings(linked)


def _cause_of(finding: Finding, findings: Sequence[Finding]) -> Finding | None:
    """The most causal other finding of the same session that started before this one ended."""
    mine = rank(finding)
    causes = [
        other
        for other in findings
        if other.session == finding.session
        and other.rule != finding.rule
        and rank(other) < mine
        and _starts_before_end(other, finding)
    ]
    return min(causes, key=rank, default=None)


def _starts_before_end(cause: Finding, symptom: Finding) -> bool:
    if cause.first is None or symptom.last is None:
        return True
    return cause.first <= symptom.last


def root_causes(findings: Sequence[Finding]) -> dict[str, str]:
    """Session -> rule id of its most causal finding."""
    best: dict[str, Finding] = {}
    for finding in findings:
        current = best.get(finding.session)
        if current is None or rank(finding) < rank(current):
            best[finding.session] = finding
    return {session: best[session].rule for session in sorted(best)}
