"""SARIF 2.1.0 for code-scanning UIs: one rule per fired rule id, one result per finding."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from triage.findings import Evidence, Finding, Report, Severity
from triage.reports.common import pretty_json
from triage.reports.json_report import iso

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LOCATIONS = 20
LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def render(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (sorted keys, 2-space indent)."""
    return pretty_json(to_sarif(report))


def to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log as plain dicts."""
    rules: dict[str, Finding] = {}
    for finding in sorted(report.findings, key=lambda f: f.rule):
        rules.setdefault(finding.rule, finding)
    index = {rule: i for i, rule in enumerate(rules)}
    driver = {
        "name": "triage",
        "version": report.tool_version,
        "rules": [_rule(f) for f in rules.values()],
    }
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "results": [_result(f, index[f.rule]) for f in report.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def _rule(f: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f.rule,
        "name": f.rule,
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.explain.cause or f.title},
        "help": {"text": f.explain.workaround or f.explain.cause or f.title},
        "defaultConfiguration": {"level": LEVELS[f.severity]},
        "properties": {"severity": str(f.severity), "impact": f.explain.impact},
    }
    urls = [ref for ref in f.explain.references if ref.startswith(("https://", "http://"))]
    if urls:
        rule["helpUri"] = urls[0]
    return rule


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": f.summary or f.title},
        "locations": [_location(e) for e in f.evidence[:LOCATIONS]],
        "partialFingerprints": {"triageFinding/v1": fingerprint(f)},
        "properties": {
            "session": f.session,
            "severity": str(f.severity),
            "count": f.count,
            "first": iso(f.first),
            "last": iso(f.last),
            "causedBy": f.caused_by,
        },
    }


def _location(e: Evidence) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(e.path.replace("\\", "/"), safe="/:@")},
            "region": {"startLine": max(1, e.line), "snippet": {"text": e.text}},
        }
    }


def fingerprint(f: Finding) -> str:
    """A stable id for a finding across runs: rule, session and first time."""
    key = "\0".join((f.rule, f.session, iso(f.first) or ""))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
