"""The self-contained HTML timeline: swimlanes per session, spans, markers, escaped evidence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from triage.findings import Evidence, Finding, NearMiss, Report, Severity, Span
from triage.reports.common import blocks, duration, headline, safe_text
from triage.reports.json_report import iso

EVIDENCE = 25
OPEN_EVIDENCE = 50
EVIDENCE_BUDGET = 4000
"""Evidence lines over the whole file: with many findings each shows fewer (at least 3), so a
report on a busy 1 GB journal stays a few MB and opens fast."""
"""Evidence lines shown per finding; the rest are counted, not shown (keeps the file small)."""
EVIDENCE_CHARS = 2000
QUIET_SESSIONS = 200
"""Sessions without findings listed (key and counts only)."""


@cache
def environment() -> Environment:
    """The one Jinja environment: package templates, autoescape on, typos fail loudly."""
    return Environment(
        loader=PackageLoader("triage", "reports/templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(report: Report) -> str:
    """The report as one HTML file with inline CSS and JS and no network access."""
    axis = Axis.of(report)
    lanes = _lanes(report, axis)
    ids = _finding_ids(report)
    cap = evidence_cap(len(report.findings))
    context = {
        # Open evidence costs layout time: a report with many findings opens them on demand.
        "open_evidence": len(report.findings) <= OPEN_EVIDENCE,
        "headline": headline(report),
        "report": report,
        "generated_at": iso(report.generated_at),
        "axis": axis,
        "ticks": axis.ticks(),
        "lanes": lanes,
        "blocks": [_block_view(b.session, b.causes, ids, cap) for b in blocks(report)],
        "near_misses": [_near_view(n) for n in report.near_misses],
        "quiet": _quiet_sessions(report),
        "severities": [(int(s), str(s)) for s in sorted(Severity)],
        "data": _script_json({"t0": axis.start, "t1": axis.end, "lanes": len(lanes)}),
    }
    return environment().get_template("timeline.html.j2").render(context)


def _script_json(value: Any) -> Markup:
    """JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` survives."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # escaped above; autoescaping would break the JSON


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Axis:
    """The shared time axis in epoch milliseconds; `pct` places a time on it."""

    start: int
    end: int

    @classmethod
    def of(cls, report: Report) -> Axis:
        """Span every dated finding, near miss, span and evidence line (padded if a point)."""
        times = [_ms(t) for t in _times(report)]
        if not times:
            return cls(0, 0)
        low, high = min(times), max(times)
        pad = max(30_000, (high - low) // 50)
        return cls(low - pad, high + pad)

    @property
    def known(self) -> bool:
        """Whether any time was found at all."""
        return self.end > self.start

    def pct(self, ms: int) -> str:
        """Position of `ms` on the axis in percent, 3 decimals (deterministic text)."""
        if not self.known:
            return "0.000"
        return f"{100 * (ms - self.start) / (self.end - self.start):.3f}"

    def ticks(self, n: int = 6) -> list[tuple[str, str]]:
        """(left %, label) for `n` evenly spaced UTC labels."""
        if not self.known:
            return []
        step = (self.end - self.start) / (n - 1)
        points = [round(self.start + i * step) for i in range(n)]
        long = self.end - self.start > 86_400_000
        return [(self.pct(p), _tick_label(p, long)) for p in points]


def _tick_label(ms: int, long: bool) -> str:
    text = iso(datetime.fromtimestamp(ms / 1000, tz=UTC)) or ""
    return text[5:16].replace("T", " ") if long else text[11:19]


def _times(report: Report) -> list[datetime]:
    times: list[datetime | None] = []
    for f in report.findings:
        times += [f.first, f.last, *(e.ts for e in f.evidence)]
    times += [n.first for n in report.near_misses]
    times += [t for s in report.spans for t in (s.start, s.end)]
    return [t for t in times if t is not None]


def _finding_ids(report: Report) -> dict[int, str]:
    return {id(f): f"f{i}" for i, f in enumerate(report.findings)}


def _lanes(report: Report, axis: Axis) -> list[dict[str, Any]]:
    """One lane per session with findings, then span-only lanes, then near-miss lanes."""
    order: dict[str, dict[str, Any]] = {}

    def lane(name: str) -> dict[str, Any]:
        if name not in order:
            order[name] = {"name": name, "sev": 0, "spans": [], "markers": []}
        return order[name]

    ids = _finding_ids(report)
    for f in report.findings:
        target = lane(f.session)
        target["sev"] = max(target["sev"], int(f.severity))
        if f.first is not None:
            target["markers"].append(_marker(axis, f.first, str(f.severity), f.title, ids[id(f)]))
    for s in report.spans:
        lane(s.lane)["spans"].append(_span_view(axis, s))
    for i, n in enumerate(report.near_misses):
        if n.first is not None:
            label = f"near miss: {n.rule} ({n.matched_steps}/{n.total_steps})"
            lane(n.session)["markers"].append(_marker(axis, n.first, "near", label, f"n{i}"))
    return list(order.values())


def _marker(axis: Axis, ts: datetime, kind: str, label: str, anchor: str) -> dict[str, str]:
    ms = _ms(ts)
    return {
        "kind": kind,
        "left": axis.pct(ms),
        "ms": str(ms),
        "label": f"{label} at {iso(ts)}",
        "anchor": anchor,
    }


def _span_view(axis: Axis, s: Span) -> dict[str, str]:
    start, end = _ms(s.start), max(_ms(s.end), _ms(s.start))
    width = float(axis.pct(end)) - float(axis.pct(start))
    return {
        "kind": s.kind,
        "label": f"{s.label} ({iso(s.start)} to {iso(s.end)})",
        "left": axis.pct(start),
        "width": f"{max(width, 0.2):.3f}",
        "start": str(start),
        "end": str(end),
    }


def evidence_cap(findings: int) -> int:
    """Evidence lines shown per finding when the report has `findings` findings."""
    return max(3, min(EVIDENCE, EVIDENCE_BUDGET // max(findings, 1)))


def _block_view(session: str, causes: Any, ids: dict[int, str], cap: int) -> dict[str, Any]:
    findings = [f for c in causes for f in (c.finding, *c.symptoms)]
    return {
        "session": session,
        "sev": max(int(f.severity) for f in findings),
        "findings": [_finding_view(f, ids[id(f)], cap) for f in findings],
    }


def _finding_view(f: Finding, anchor: str, cap: int = EVIDENCE) -> dict[str, Any]:
    return {
        "anchor": anchor,
        "f": f,
        "severity": str(f.severity),
        "sev": int(f.severity),
        "first": iso(f.first) or "-",
        "last": iso(f.last) or "-",
        "duration": duration(f.duration_seconds),
        "links": [r for r in f.explain.references if r.startswith(("https://", "http://"))],
        "texts": [r for r in f.explain.references if not r.startswith(("https://", "http://"))],
        "evidence": [_evidence_view(e) for e in f.evidence[:cap]],
        "omitted": max(0, len(f.evidence) - cap),
    }


def _evidence_view(e: Evidence) -> dict[str, str]:
    text = safe_text(e.text)
    if len(text) > EVIDENCE_CHARS:
        text = text[:EVIDENCE_CHARS] + f"… ({len(e.text) - EVIDENCE_CHARS} more characters)"
    return {"loc": f"{e.path}:{e.line}", "ts": iso(e.ts) or "", "text": text, "step": e.step}


def _near_view(n: NearMiss) -> dict[str, Any]:
    return {"n": n, "first": iso(n.first) or "-"}


def _quiet_sessions(report: Report) -> dict[str, Any]:
    loud = {f.session for f in report.findings}
    quiet = [s for s in report.sessions if s.key not in loud]
    rows = [
        {"key": s.key, "events": s.events, "first": iso(s.first) or "-", "last": iso(s.last) or "-"}
        for s in quiet[:QUIET_SESSIONS]
    ]
    return {"rows": rows, "omitted": max(0, len(quiet) - QUIET_SESSIONS), "total": len(quiet)}
