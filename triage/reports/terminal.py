"""The terminal summary: one block per session with findings, then near misses and counts.

Lines are built as styled segments; rich renders them only when colour is on, so a plain run
(a pipe, a file, `-o`) does not import it (a tenth of a small run's start-up).
"""

from __future__ import annotations

import io

from triage.findings import Finding, InputSummary, NearMiss, Report, Severity
from triage.reports.common import Block, Cause, blocks, duration, headline, key_evidence, one_line
from triage.reports.json_report import iso

EVIDENCE_LINES = 5
STYLES: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

Segment = tuple[str, str]
"""A piece of text and its rich style ("" for none)."""
Line = list[Segment]


def render(report: Report, *, color: bool = False) -> str:
    """The summary as plain text, or with ANSI styles (rich) when `color` is True."""
    lines = _lines(report)
    if not color:
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.console import Console
    from rich.text import Text

    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=True,
        color_system="standard",
        width=10_000,
        soft_wrap=True,
        highlight=False,
        markup=False,
        emoji=False,
    )
    for line in lines:
        console.print(Text.assemble(*((text, style) if style else text for text, style in line)))
    return out.getvalue()


def _plain(text: str, style: str = "") -> Line:
    return [(text, style)]


def _lines(report: Report) -> list[Line]:
    lines = [[("triage: ", "bold"), (headline(report), "")]]
    if not report.findings:
        events = sum(i.events for i in report.inputs)
        lines[0].append(
            (
                f" ({_plural(len(report.sessions), 'session')}, {_plural(events, 'event')} "
                f"from {_plural(len(report.inputs), 'input')})",
                "",
            )
        )
    for block in blocks(report):
        lines += [_plain(""), *_block(block)]
    if report.near_misses:
        lines += [_plain(""), _plain("near misses:", "bold")]
        lines += [_near_miss(n) for n in report.near_misses]
    lines += [_plain(""), _plain("inputs:", "bold")]
    lines += [_input(i) for i in report.inputs] or [_plain("  (none)")]
    return lines


def _block(block: Block) -> list[Line]:
    lines = [_plain(one_line(block.session, 200), "bold underline")]
    for cause in block.causes:
        lines += _cause(cause)
    return lines


def _severity(severity: Severity) -> Line:
    name = str(severity).upper()
    return [(name, STYLES[severity]), (" " * (8 - len(name)), "")]


def _cause(cause: Cause) -> list[Line]:
    f = cause.finding
    lines = [
        [
            ("  ", ""),
            *_severity(f.severity),
            (" ", ""),
            (one_line(f.title), "bold"),
            (f"  [{f.rule}]", ""),
        ],
        _plain(f"  {_times(f)}"),
        _plain(f"  {one_line(f.summary, 400)}"),
    ]
    lines += [_plain(f"  {name}: {one_line(value)}") for name, value in f.details]
    lines += _evidence(f)
    if f.explain.workaround:
        workaround = one_line(f.explain.workaround, 400)
        lines.append([("  ", ""), ("workaround: ", "green"), (workaround, "")])
    if cause.symptoms:
        lines.append(_plain("  symptoms:"))
        lines += [_symptom(s) for s in cause.symptoms]
    return lines


def _times(f: Finding) -> str:
    return (
        f"first {iso(f.first) or '-'}  last {iso(f.last) or '-'}  "
        f"duration {duration(f.duration_seconds)}  count {f.count}"
    )


def _evidence(f: Finding) -> list[Line]:
    if not f.evidence:
        return []
    shown = key_evidence(f.evidence, EVIDENCE_LINES)
    locs = [f"{one_line(e.path)}:{e.line}" for e in shown]
    width = max(len(loc) for loc in locs)
    lines = [_plain("  evidence:")]
    lines += [
        [("    ", ""), (loc, "blue"), (" " * (width - len(loc) + 2), ""), (one_line(e.text), "")]
        for loc, e in zip(locs, shown, strict=True)
    ]
    if len(f.evidence) > len(shown):
        lines.append(_plain(f"    (+{len(f.evidence) - len(shown)} more)", "dim"))
    return lines


def _symptom(f: Finding) -> Line:
    text = f" {one_line(f.title)}  [{f.rule}]  count {f.count}: {one_line(f.summary, 300)}"
    return [("    ", ""), *_severity(f.severity), (text, "")]


def _near_miss(n: NearMiss) -> Line:
    steps = f"{n.matched_steps}/{n.total_steps} steps"
    return _plain(f"  {n.rule}  {one_line(n.session)}  {steps}: {one_line(n.reason)}")


def _input(i: InputSummary) -> Line:
    line = _plain(
        f"  {one_line(i.path)}  {i.format}  lines {i.lines}  events {i.events}  "
        f"continuations {i.continuations}  noise {i.noise}  unparsed {i.unparsed}"
    )
    line += [(f"\n    note: {one_line(note)}", "dim") for note in i.notes]
    return line


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
