"""GitHub-flavoured Markdown for an issue comment: always under GitHub's 65,536-character cap."""

from __future__ import annotations

import re

from triage.findings import Evidence, Finding, Report
from triage.reports.common import Block, Cause, blocks, duration, headline, one_line
from triage.reports.json_report import iso

LIMIT = 60_000
LINE_CHARS = 400
NEAR_MISSES = 50
# Tried in order until the text fits: all evidence, then fewer lines per finding, then none.
EVIDENCE_CAPS: tuple[int | None, ...] = (None, 20, 5, 2, 0)

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(?=[#>+=-]|\d+[.)])")
_BACKTICKS = re.compile(r"`+")


def render(report: Report) -> str:
    """The report as Markdown; evidence, then whole sessions, are cut to stay under `LIMIT`."""
    all_blocks = blocks(report)
    for cap in EVIDENCE_CAPS:
        rendered = _rendered(all_blocks, cap)
        if len(rendered) == len(all_blocks):
            text = _document(report, all_blocks, rendered, cap)
            if len(text) < LIMIT:
                return text
    rendered = _rendered(all_blocks, 0)
    low, high = 0, len(rendered)  # keep the most sessions that fit (binary search)
    while low < high:
        mid = (low + high + 1) // 2
        if len(_document(report, all_blocks, rendered[:mid], 0)) < LIMIT:
            low = mid
        else:
            high = mid - 1
    return _document(report, all_blocks, rendered[:low], 0)


def _rendered(all_blocks: list[Block], cap: int | None) -> list[str]:
    """The blocks' texts in order, up to the first that takes their total past `LIMIT` (a
    document holding more blocks cannot fit, so a long report is not rendered whole)."""
    texts: list[str] = []
    total = 0
    for block in all_blocks:
        texts.append("\n\n".join(_block(block, cap)))
        total += len(texts[-1])
        if total >= LIMIT:
            break
    return texts


def escape(text: str) -> str:
    """Inline text that cannot open a tag, a link, emphasis or a table cell."""
    return _inline(one_line(text, LINE_CHARS))


def _inline(flat: str) -> str:
    flat = _SPECIAL.sub(r"\\\1", flat)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space after `@` keeps log text from mentioning (notifying) GitHub users.
    return _LINE_START.sub("\\\\", flat).replace("@", "@\u200b")


def prose(text: str) -> str:
    """Rule-authored text: its `code spans` are kept, everything else is escaped."""
    pieces = re.split(r"(`[^`\n]+`)", one_line(text, 2 * LINE_CHARS))
    return "".join(
        code(p[1:-1]) if p.startswith("`") and p.endswith("`") and len(p) > 1 else _inline(p)
        for p in pieces
    )


def code(text: str) -> str:
    """An inline code span whose delimiter is longer than any backtick run inside."""
    flat = one_line(text, LINE_CHARS)
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(lines: list[str]) -> str:
    """A fenced code block that no backtick run inside can close."""
    body = "\n".join(lines)
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def _document(report: Report, all_blocks: list[Block], rendered: list[str], cap: int | None) -> str:
    """The document with the first `len(rendered)` blocks (their texts) of `all_blocks`."""
    parts = [f"## triage: {headline(report)}", *rendered]
    notes = _cut_notes(all_blocks, cap, len(rendered))
    if notes:
        parts.append("> **Shortened to fit a GitHub comment:** " + "; ".join(notes) + ".")
    if report.near_misses:
        parts.append("### Near misses\n\n" + "\n".join(_near_misses(report)))
    parts.append(_inputs(report))
    return "\n\n".join(parts) + "\n"


def _cut_notes(all_blocks: list[Block], cap: int | None, kept: int) -> list[str]:
    notes = []
    if cap is not None:
        findings = [
            f for b in all_blocks[:kept] for c in b.causes for f in (c.finding, *c.symptoms)
        ]
        cut = sum(max(0, len(f.evidence) - cap) for f in findings)
        if cut:
            notes.append(f"{cut} evidence lines omitted (at most {cap} per finding)")
    if kept < len(all_blocks):
        notes.append(f"{len(all_blocks) - kept} of {len(all_blocks)} sessions omitted")
    if notes:
        notes.append("run `triage analyze` locally for the full report")
    return notes


def _block(block: Block, cap: int | None) -> list[str]:
    parts = [f"### {code(block.session)}"]
    for cause in block.causes:
        parts += _cause(cause, cap)
    return parts


def _cause(cause: Cause, cap: int | None) -> list[str]:
    f = cause.finding
    parts = [
        f"**{escape(f.title)}** ({code(f.rule)})\n\n" + _facts(f),
        escape(f.summary),
    ]
    if f.details:
        parts.append("\n".join(f"- {escape(name)}: {code(value)}" for name, value in f.details))
    if f.explain.workaround:
        parts.append(f"**Workaround:** {prose(f.explain.workaround)}")
    if f.explain.references:
        refs = ", ".join(f"<{ref}>" for ref in f.explain.references if _is_url(ref))
        if refs:
            parts.append(f"**References:** {refs}")
    if cause.symptoms:
        parts.append(
            "**Symptoms caused by this:**\n\n" + "\n".join(_symptom(s) for s in cause.symptoms)
        )
    for finding in (f, *cause.symptoms):
        if finding.evidence and cap != 0:
            parts.append(_evidence(finding, cap))
    return parts


def _facts(f: Finding) -> str:
    return (
        f"**Severity:** {f.severity} · **First:** {iso(f.first) or '-'} · "
        f"**Last:** {iso(f.last) or '-'} · **Duration:** {duration(f.duration_seconds)} · "
        f"**Count:** {f.count}"
    )


def _symptom(f: Finding) -> str:
    return f"- {code(f.rule)} ({f.severity}, count {f.count}): {escape(f.summary)}"


def _evidence(f: Finding, cap: int | None) -> str:
    shown: tuple[Evidence, ...] = f.evidence if cap is None else f.evidence[:cap]
    width = max(len(f"{e.path}:{e.line}") for e in shown)
    lines = [f"{f'{e.path}:{e.line}':<{width}}  {one_line(e.text, LINE_CHARS)}" for e in shown]
    if len(shown) < len(f.evidence):
        lines.append(f"… {len(f.evidence) - len(shown)} more lines omitted")
    n = len(f.evidence)
    summary = f"Evidence for {escape(f.rule)}: {n} line{'' if n == 1 else 's'}"
    return f"<details><summary>{summary}</summary>\n\n{fenced(lines)}\n\n</details>"


def _near_misses(report: Report) -> list[str]:
    lines = [
        f"- {code(n.rule)} on {code(n.session)}: {n.matched_steps} of {n.total_steps} steps; "
        f"{escape(n.reason)}"
        for n in report.near_misses[:NEAR_MISSES]
    ]
    if len(report.near_misses) > NEAR_MISSES:
        lines.append(f"- … {len(report.near_misses) - NEAR_MISSES} more near misses omitted")
    return lines


def _inputs(report: Report) -> str:
    rows = [
        "| input | format | lines | events | continuations | noise | unparsed |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {_cell_code(i.path)} | {escape(i.format)} | {i.lines} | {i.events} | {i.continuations} "
        f"| {i.noise} | {i.unparsed} |"
        for i in report.inputs
    ]
    return "### Inputs\n\n" + "\n".join(rows)


def _is_url(text: str) -> bool:
    return re.fullmatch(r"https?://[^\s<>]+", text) is not None


def _cell_code(text: str) -> str:
    # GFM splits table cells on `|` even inside code spans, unless it is escaped.
    return code(text).replace("|", "\\|")
