"""The terminal summary: one block per session with findings, then near misses and counts."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

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


def render(report: Report, *, color: bool = False) -> str:
    """The summary as plain text, or with ANSI styles (rich) when `color` is True."""
    lines = _lines(report)
    if not color:
        return "".join(line.plain + "\n" for line in lines)
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
        console.print(line)
    return out.getvalue()


def _lines(report: Report) -> list[Text]:
    lines = [Text.assemble(("triage: ", "bold"), headline(report))]
    if not report.findings:
        events = sum(i.events for i in report.inputs)
        lines[0].append(
            f" ({_plural(len(report.sessions), 'session')}, {_plural(events, 'event')} "
            f"from {_plural(len(report.inputs), 'input')})"
        )
    for block in blocks(report):
        lines += [Text(""), *_block(block)]
    if report.near_misses:
        lines += [Text(""), Text("near misses:", "bold")]
        lines += [_near_miss(n) for n in report.near_misses]
    lines += [Text(""), Text("inputs:", "bold")]
    lines += [_input(i) for i in report.inputs] or [Text("  (none)")]
    return lines


def _block(block: Block) -> list[Text]:
    lines = [Text(one_line(block.session, 200), "bold underline")]
    for cause in block.causes:
        lines += _cause(cause)
    return lines


def _severity(severity: Severity) -> Text:
    name = str(severity).upper()
    return Text.assemble((name, STYLES[severity]), " " * (8 - len(name)))


def _cause(cause: Cause) -> list[Text]:
    f = cause.finding
    lines = [
        Text.assemble(
            "  ", _severity(f.severity), " ", (one_line(f.title), "bold"), f"  [{f.rule}]"
        ),
        Text(f"  {_times(f)}"),
        Text(f"  {one_line(f.summary, 400)}"),
    ]
    lines += [Text(f"  {name}: {one_line(value)}") for name, value in f.details]
    lines += _evidence(f)
    if f.explain.workaround:
        workaround = one_line(f.explain.workaround, 400)
        lines.append(Text.assemble("  ", ("workaround: ", "green"), workaround))
    if cause.symptoms:
        lines.append(Text("  symptoms:"))
        lines += [_symptom(s) for s in cause.symptoms]
    return lines


def _times(f: Finding) -> str:
    return (
        f"first {iso(f.first) or '-'}  last {iso(f.last) or '-'}  "
        f"duration {duration(f.duration_seconds)}  count {f.count}"
    )


def _evidence(f: Finding) -> list[Text]:
    if not f.evidence:
        return []
    shown = key_evidence(f.evidence, EVIDENCE_LINES)
    locs = [f"{one_line(e.path)}:{e.line}" for e in shown]
    width = max(len(loc) for loc in locs)
    lines = [Text("  evidence:")]
    lines += [
        Text.assemble("    ", (loc, "blue"), " " * (width - len(loc) + 2), one_line(e.text))
        for loc, e in zip(locs, shown, strict=True)
    ]
    if len(f.evidence) > len(shown):
        lines.append(Text(f"    (+{len(f.evidence) - len(shown)} more)", "dim"))
    return lines


def _symptom(f: Finding) -> Text:
    return Text.assemble(
        "    ",
        _severity(f.severity),
        f" {one_line(f.title)}  [{f.rule}]  count {f.count}: {one_line(f.summary, 300)}",
    )


def _near_miss(n: NearMiss) -> Text:
    steps = f"{n.matched_steps}/{n.total_steps} steps"
    return Text(f"  {n.rule}  {one_line(n.session)}  {steps}: {one_line(n.reason)}")


def _input(i: InputSummary) -> Text:
    text = Text(
        f"  {one_line(i.path)}  {i.format}  lines {i.lines}  events {i.events}  "
        f"continuations {i.continuations}  noise {i.noise}  unparsed {i.unparsed}"
    )
    for note in i.notes:
        text.append(f"\n    note: {one_line(note)}", "dim")
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
