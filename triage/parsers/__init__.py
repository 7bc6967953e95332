"""The reading stage: detect an input's format, parse it into events, account for every line.

`parse(path, options)` is the one entry point. For the line-oriented formats (journalctl short
family, gateway console) a `keep` prefilter lets the reader materialise only the entries that
contain a keep literal, plus every line that is not an entry start (needed to classify and
join continuations) and the entry line before any line that may continue it; skipped lines are
whole single-line entries, so they are still counted as events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from triage.errors import Location, ParseError
from triage.events import PARSED_SCHEMA, conform
from triage.findings import InputSummary
from triage.parsers import classify as cl
from triage.parsers import (
    gateway_file,
    journal_export,
    journal_json,
    journal_short,
    journal_verbose,
)
from triage.parsers.base import Context, Format, Parsed, ParseOptions
from triage.parsers.reader import Source, head_lines, open_source, read_lines

# Structured formats written in their own modules: extend this tuple as they land.
STRUCTURED: tuple[Format, ...] = (
    *journal_json.FORMATS,
    journal_export.FORMAT,
    journal_verbose.FORMAT,
    gateway_file.FORMAT,
)

FORMATS: dict[str, Format] = {f.name: f for f in (*STRUCTURED, *journal_short.FORMATS)}
DEFAULT_FORMAT = "journal-short"
CHOP_MIN_LINES = 3


@dataclass(frozen=True, slots=True)
class ParseResult:
    """One input's events (PARSED_SCHEMA, file order) and its line accounting."""

    events: pl.DataFrame
    summary: InputSummary


def detect(head: list[str]) -> str:
    """The format whose sniffer scores the first lines highest (first registered wins ties)."""
    best, best_score = DEFAULT_FORMAT, 0.0
    for fmt in FORMATS.values():
        score = fmt.sniff(head)
        if score > best_score:
            best, best_score = fmt.name, score
    return best


def parse(path: str, options: ParseOptions = ParseOptions()) -> ParseResult:  # noqa: B008
    """Read, detect (or take `options.input_format`), parse and account for one input."""
    source = open_source(path)
    name = options.input_format or detect(head_lines(source))
    if name not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise ParseError(f"unknown input format {name!r}; choose one of {known}", Location(path))
    ctx = Context(path=path, options=options, mtime=source.mtime)
    mode = journal_short.MODE_BY_NAME.get(name)
    if mode is None:
        lines, total = read_lines(source)
        parsed, skipped = FORMATS[name].parse(lines, ctx), 0
    else:
        lines, total = _read_for_mode(source, mode, options.keep)
        skipped = total - lines.height
        parsed = journal_short.parse_lines(lines, ctx, mode)
        parsed = _forgive_truncated_tail(parsed, source, total, path)
    if options.strict and parsed.unparsed:
        raise ParseError(
            "line not understood (--strict); fix it, pass --input-format, or drop --strict",
            Location(path, parsed.first_unparsed),
        )
    notes = (*parsed.notes, *_width_notes(lines, path))
    summary = InputSummary(
        path=path,
        format=name,
        lines=total,
        events=parsed.entries + skipped,
        continuations=parsed.continuations,
        noise=parsed.noise,
        unparsed=parsed.unparsed,
        notes=notes,
    )
    return ParseResult(events=conform(parsed.events, PARSED_SCHEMA), summary=summary)


def _read_for_mode(
    source: Source, mode: journal_short.Mode, keep: tuple[str, ...] | None
) -> tuple[pl.DataFrame, int]:
    """All lines, or with `keep`: kept entries, non-entry lines and the parents they need."""
    if keep is None:
        return read_lines(source)
    raw = pl.col("raw")
    # One regex alternation of the literals: faster here than `contains_any` (Teddy/SIMD).
    literals = "|".join(re.escape(k) for k in keep) if keep else "$^"
    wanted = raw.str.contains(literals).fill_null(False) | ~raw.str.contains(
        mode.hard_start
    ).fill_null(False)
    lines, total = read_lines(source, wanted)
    orphans = lines.filter(
        (pl.col("line").shift(1).fill_null(0) != pl.col("line") - 1)
        & (pl.col("line") > 1)
        & ~cl.clean_text(raw).str.contains(rf"^\s*$|{cl.NOISE}")
        & ~raw.str.contains(mode.hard_start).fill_null(False)
    )
    if orphans.height:
        parents = (orphans["line"] - 1).to_list()
        extra, _ = read_lines(source, pl.col("line").is_in(parents))
        lines = pl.concat([lines, extra]).unique("line").sort("line")
    return lines, total


def _forgive_truncated_tail(parsed: Parsed, source: Source, total: int, path: str) -> Parsed:
    """A last line cut short (no final newline) that does not parse is noted, not unparsed."""
    if source.ends_with_newline or parsed.first_unparsed != total or parsed.unparsed != 1:
        return parsed
    note = f"last line truncated at {path}:{total}"
    return Parsed(
        events=parsed.events,
        entries=parsed.entries,
        continuations=parsed.continuations,
        noise=parsed.noise + 1,
        unparsed=0,
        first_unparsed=None,
        notes=(*parsed.notes, note),
    )


def _width_notes(lines: pl.DataFrame, path: str) -> list[str]:
    """Pager chop (`>` at the capture's maximum width) and hard width ceilings."""
    width = lines.select(
        n=pl.col("raw").str.len_chars(), chop=pl.col("raw").str.ends_with(">")
    ).drop_nulls()
    if width.height < 2 * CHOP_MIN_LINES:
        return []
    top = int(width["n"].max())  # type: ignore[arg-type]
    at_top = width.filter(pl.col("n") == top)
    if at_top.filter("chop").height >= CHOP_MIN_LINES:
        return [f"{path}: lines chopped by a pager at {top} characters (`>` marker)"]
    endings = lines.filter(pl.col("raw").str.len_chars() == top)["raw"].str.slice(-12).n_unique()
    if at_top.height >= max(CHOP_MIN_LINES, width.height // 20) and endings >= CHOP_MIN_LINES:
        return [f"{path}: {at_top.height} lines stop at exactly {top} characters; possibly cut"]
    return []
