"""The JSON report (schema_version 1): explicit dicts out, and `load` to read one back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from triage.errors import Location, ReportError
from triage.findings import (
    Evidence,
    Explain,
    Finding,
    InputSummary,
    NearMiss,
    Report,
    SessionSummary,
    Severity,
    Span,
)
from triage.reports.common import pretty_json

SCHEMA_VERSION = 1
T = TypeVar("T")


def iso(ts: datetime | None) -> str | None:
    """UTC ISO 8601 with the shortest exact fraction: `2026-05-19T13:43:45.077+00:00`."""
    if ts is None:
        return None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if ts.microsecond == 0:
        spec = "seconds"
    elif ts.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return ts.isoformat(timespec=spec)


def render(report: Report) -> str:
    """The report as JSON text: sorted keys, 2-space indent, trailing newline."""
    return pretty_json(to_dict(report))


def to_dict(report: Report) -> dict[str, Any]:
    """The JSON contract of DESIGN.md, built field by field (never `asdict`)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "triage", "version": report.tool_version},
        "generated_at": iso(report.generated_at),
        "inputs": [_input(i) for i in report.inputs],
        "findings": [_finding(f) for f in report.findings],
        "near_misses": [_near_miss(n) for n in report.near_misses],
        "sessions": [_session(s) for s in report.sessions],
        "spans": [_span(s) for s in report.spans],
        "rules": list(report.rules),
    }


def _input(i: InputSummary) -> dict[str, Any]:
    return {
        "path": i.path,
        "format": i.format,
        "lines": i.lines,
        "events": i.events,
        "continuations": i.continuations,
        "noise": i.noise,
        "unparsed": i.unparsed,
        "notes": list(i.notes),
    }


def _evidence(e: Evidence) -> dict[str, Any]:
    return {"path": e.path, "line": e.line, "ts": iso(e.ts), "text": e.text, "step": e.step}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "title": f.title,
        "session": f.session,
        "first": iso(f.first),
        "last": iso(f.last),
        "count": f.count,
        "summary": f.summary,
        "evidence": [_evidence(e) for e in f.evidence],
        "caused_by": f.caused_by,
        "details": [{"name": name, "value": value} for name, value in f.details],
        "explain": {
            "cause": f.explain.cause,
            "impact": f.explain.impact,
            "workaround": f.explain.workaround,
            "references": list(f.explain.references),
        },
    }


def _near_miss(n: NearMiss) -> dict[str, Any]:
    return {
        "rule": n.rule,
        "session": n.session,
        "matched_steps": n.matched_steps,
        "total_steps": n.total_steps,
        "reason": n.reason,
        "first": iso(n.first),
        "evidence": [_evidence(e) for e in n.evidence],
    }


def _session(s: SessionSummary) -> dict[str, Any]:
    return {
        "key": s.key,
        "ids": list(s.ids),
        "first": iso(s.first),
        "last": iso(s.last),
        "events": s.events,
        "root_cause": s.root_cause,
    }


def _span(s: Span) -> dict[str, Any]:
    return {
        "lane": s.lane,
        "kind": s.kind,
        "start": iso(s.start),
        "end": iso(s.end),
        "label": s.label,
    }


def load(text: str, path: str = "<json>") -> Report:
    """Read a JSON report back (for `triage merge`); bad input raises `ReportError`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"not valid JSON: {error.msg}", Location(path, error.lineno)) from None
    root = _Node(data, path, "")
    version = root.get("schema_version", int)
    if version != SCHEMA_VERSION:
        raise root.error(
            f"schema_version {version} is not supported; expected {SCHEMA_VERSION}",
            "schema_version",
        )
    tool = root.child("tool")
    return Report(
        tool_version=tool.get("version", str),
        generated_at=root.time("generated_at"),
        inputs=root.items("inputs", _load_input),
        findings=root.items("findings", _load_finding),
        near_misses=root.items("near_misses", _load_near_miss),
        sessions=root.items("sessions", _load_session),
        spans=root.items("spans", _load_span, required=False),
        rules=root.strings("rules"),
    )


class _Node:
    """A JSON object being read, with its key path for error messages."""

    def __init__(self, value: Any, path: str, key: str) -> None:
        self.path = path
        self.key = key
        if not isinstance(value, dict):
            raise self.error("expected a JSON object", "")
        self.value: dict[str, Any] = value

    def error(self, message: str, name: str) -> ReportError:
        key = f"{self.key}.{name}" if self.key and name else (self.key or name)
        return ReportError(message, Location(self.path, key=key or None))

    def get(self, name: str, kind: type, default: Any = ..., *, nullable: bool = False) -> Any:
        if name not in self.value:
            if default is not ...:
                return default
            raise self.error("missing key", name)
        value = self.value[name]
        if value is None and nullable:
            return value
        # bool is an int in Python; a count of `true` is still a type error.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(f"expected {kind.__name__}, got {type(value).__name__}", name)
        return value

    def optional_str(self, name: str) -> str | None:
        return self.get(name, str, None, nullable=True)

    def time(self, name: str, *, nullable: bool = False) -> Any:
        text = self.get(name, str, None if nullable else ..., nullable=nullable)
        if text is None:
            return None
        try:
            ts = datetime.fromisoformat(text)
        except ValueError:
            raise self.error(f"not an ISO 8601 time: {text!r}", name) from None
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)

    def strings(self, name: str) -> tuple[str, ...]:
        values = self.get(name, list, [])
        if not all(isinstance(v, str) for v in values):
            raise self.error("expected a list of strings", name)
        return tuple(values)

    def child(self, name: str) -> _Node:
        return _Node(self.get(name, dict), self.path, self._sub(name))

    def items(
        self, name: str, build: Callable[[_Node], T], *, required: bool = True
    ) -> tuple[T, ...]:
        values = self.get(name, list, ... if required else [])
        return tuple(
            build(_Node(v, self.path, f"{self._sub(name)}[{i}]")) for i, v in enumerate(values)
        )

    def _sub(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name


def _load_input(n: _Node) -> InputSummary:
    return InputSummary(
        path=n.get("path", str),
        format=n.get("format", str),
        lines=n.get("lines", int),
        events=n.get("events", int),
        continuations=n.get("continuations", int, 0),
        noise=n.get("noise", int, 0),
        unparsed=n.get("unparsed", int),
        notes=n.strings("notes"),
    )


def _load_evidence(n: _Node) -> Evidence:
    return Evidence(
        path=n.get("path", str),
        line=n.get("line", int),
        ts=n.time("ts", nullable=True),
        text=n.get("text", str),
        step=n.get("step", str, ""),
    )


def _load_finding(n: _Node) -> Finding:
    try:
        severity = Severity.parse(n.get("severity", str))
    except ValueError as error:
        raise n.error(str(error), "severity") from None
    explain = n.child("explain") if "explain" in n.value else None
    return Finding(
        rule=n.get("rule", str),
        severity=severity,
        title=n.get("title", str),
        session=n.get("session", str),
        first=n.time("first", nullable=True),
        last=n.time("last", nullable=True),
        count=n.get("count", int),
        summary=n.get("summary", str),
        evidence=n.items("evidence", _load_evidence, required=False),
        explain=_load_explain(explain),
        caused_by=n.optional_str("caused_by"),
        details=n.items("details", _load_detail, required=False),
    )


def _load_explain(n: _Node | None) -> Explain:
    if n is None:
        return Explain(cause="", impact="", workaround="")
    return Explain(
        cause=n.get("cause", str, ""),
        impact=n.get("impact", str, ""),
        workaround=n.get("workaround", str, ""),
        references=n.strings("references"),
    )


def _load_detail(n: _Node) -> tuple[str, str]:
    return (n.get("name", str), n.get("value", str))


def _load_near_miss(n: _Node) -> NearMiss:
    return NearMiss(
        rule=n.get("rule", str),
        session=n.get("session", str),
        matched_steps=n.get("matched_steps", int),
        total_steps=n.get("total_steps", int),
        reason=n.get("reason", str),
        first=n.time("first", nullable=True),
        evidence=n.items("evidence", _load_evidence, required=False),
    )


def _load_session(n: _Node) -> SessionSummary:
    return SessionSummary(
        key=n.get("key", str),
        ids=n.strings("ids"),
        first=n.time("first", nullable=True),
        last=n.time("last", nullable=True),
        events=n.get("events", int),
        root_cause=n.optional_str("root_cause"),
    )


def _load_span(n: _Node) -> Span:
    return Span(
        lane=n.get("lane", str),
        kind=n.get("kind", str),
        start=n.time("start"),
        end=n.time("end"),
        label=n.get("label", str, ""),
    )
