"""The reading stage: detect an input's format, parse it into events, account for every line.

`parse(path, options)` is the one entry point. For the line-oriented formats (journalctl short
family, gateway console) a `keep` prefilter lets the reader materialise only the entries that
contain a keep literal, plus every line that is not an entry start (needed to classify and
join continuations), the entry line before any line that may continue it, and the input's last
entry (its end time; it holds no keep literal, so no rule fires on it). Skipped lines are whole
single-line entries, so they are still counted as events; the skipped lines that name a session
are tallied (`ParseResult.pairs`, `ParseResult.tally`; see `triage.parsers.tally`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import polars as pl

from triage.errors import Location, ParseError
from triage.events import PARSED_SCHEMA, conform
from triage.findings import InputSummary
from triage.identity import PAIR_SCHEMA
from triage.parsers import (
    anchors,
    gateway_file,
    journal_export,
    journal_json,
    journal_short,
    journal_verbose,
)
from triage.parsers import classify as cl
from triage.parsers.base import Context, Format, Parsed, ParseOptions
from triage.parsers.blockwise import BlockReading, parse_blocks
from triage.parsers.reader import (
    LINE_CHUNKS,
    LINE_WORKERS,
    Source,
    head_lines,
    map_blocks,
    open_source,
    read_lines,
)
from triage.parsers.tally import (
    MARKED,
    TALLY_SCHEMA,
    Block,
    Prefilter,
    Widths,
    first_pairs,
    merge_tallies,
    merged_widths,
    named_groups,
    tally,
    widths,
)
from triage.timeinfer import RUN_SCHEMA, StampKind

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
ANCHOR_BYTES = 32 * 1024 * 1024
"""Inputs larger than this are prefiltered with anchors (see `triage.parsers.anchors`)."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """One input's events (PARSED_SCHEMA, file order) and its line accounting."""

    events: pl.DataFrame
    summary: InputSummary
    pairs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAIR_SCHEMA))
    """Session key <-> id pairs taught by tallied lines (first line of each; PAIR_SCHEMA)."""
    tally: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TALLY_SCHEMA))
    """Tallied lines per (session key, session id): count, first and last time."""


@dataclass(frozen=True, slots=True)
class Reading:
    """The lines a line format parses, with what the prefilter learnt from the others."""

    lines: pl.DataFrame
    total: int
    widths: Widths
    forced: tuple[int, ...] = ()
    """Entry lines kept without a keep literal (the sentinel)."""
    dated_dropped: bool = False
    """The prefilter left out an entry line that may have a date."""
    runs: pl.DataFrame | None = None
    """Classic stamps or the bare console, prefiltered: the months or times of day of the
    lines left out (`timeinfer.RUN_SCHEMA`)."""
    pairs: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAIR_SCHEMA))
    tally: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=TALLY_SCHEMA))


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
    if (blocks := _block_reading(name)) and options.keep is not None:
        parsed, total, width = parse_blocks(blocks, source, ctx, options.progress)
        skipped, reading = 0, Reading(_no_lines(), total, width)
    elif name == journal_export.FORMAT.name:
        # Export fields can be binary with a length prefix (and newlines inside): read bytes.
        data = source.data if source.data is not None else _read_bytes(path)
        parsed, skipped = journal_export.parse_export_bytes(data, path, options), 0
        total = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        reading = Reading(_no_lines(), total, widths(_no_lines()))
    elif mode is None:
        lines, total = read_lines(source)
        parsed, skipped = FORMATS[name].parse(lines, ctx), 0
        reading = Reading(lines, total, widths(lines))
    else:
        parsed, reading = _parse_mode(source, mode, ctx)
        total, skipped = reading.total, reading.total - reading.lines.height
    if options.strict and parsed.unparsed:
        raise ParseError(
            "line not understood (--strict); fix it, pass --input-format, or drop --strict",
            Location(path, parsed.first_unparsed),
        )
    summary = InputSummary(
        path=path,
        format=name,
        lines=total,
        events=parsed.entries + skipped,
        continuations=parsed.continuations,
        noise=parsed.noise,
        unparsed=parsed.unparsed,
        notes=(*parsed.notes, *_width_notes(reading.widths, path)),
    )
    events = conform(parsed.events, PARSED_SCHEMA)
    pairs = parsed.pairs if parsed.pairs is not None else reading.pairs
    tally = parsed.tally if parsed.tally is not None else reading.tally
    return ParseResult(events, summary, pairs, tally)


def _parse_mode(source: Source, mode: journal_short.Mode, ctx: Context) -> tuple[Parsed, Reading]:
    """Parse a line format, prefiltered when `ctx.options.keep` says so.

    A time-only stamp takes its date from the entries around it: when the prefilter left out
    an entry line that may have a date and such a stamp is among the events, the input is
    read again in full (exact, at the full parse's cost; mixed stamps are rare).
    """
    options = ctx.options
    reading = _read_for_mode(source, mode, options.keep, options.progress)
    parsed = journal_short.parse_lines(reading.lines, ctx, mode, reading.forced, reading.runs)
    if parsed.time_only and reading.dated_dropped:
        ctx = replace(ctx, options=replace(options, keep=None))
        reading = _read_for_mode(source, mode, None)
        parsed = journal_short.parse_lines(reading.lines, ctx, mode, reading.forced)
    return _forgive_truncated_tail(parsed, source, reading.total, source.path), reading


def _block_reading(name: str) -> BlockReading | None:
    """The structured formats parsed block by block (the prefiltered events of a block are few,
    so memory follows the block)."""
    if name == gateway_file.FORMAT.name:
        return gateway_file.BLOCKS
    if name == journal_verbose.FORMAT.name:
        return journal_verbose.BLOCKS
    if name == journal_export.FORMAT.name:
        return journal_export.BLOCKS
    return journal_json.block_reading(name)


def _read_for_mode(
    source: Source,
    mode: journal_short.Mode,
    keep: tuple[str, ...] | None,
    progress: Callable[[int], None] | None = None,
) -> Reading:
    """All lines, or with `keep`: kept entries, non-entry lines, the parents they need, the
    last entry; the skipped session lines tallied."""
    if keep is None:
        lines, total = read_lines(source)
        return Reading(lines, total, widths(lines))
    many = source.size > ANCHOR_BYTES  # choosing costs ~20 ms; each 8 MB block saves ~5 ms
    found = anchors.choose(keep, source.head.decode("utf-8", "replace")) if many else ()
    # A gateway line has a date with an ISO stamp; every journald entry counts as dated (a
    # monotonic stamp has none, but counting it only makes a re-read more likely).
    dated = None if mode.stamp is not None else rf"^{cl.ISO}(?: |$)"
    classic, console = mode.kind is StampKind.CLASSIC, mode.kind is StampKind.NONE
    prefilter = Prefilter(
        keep, mode.hard_start, mode.stamp is not None, found, dated, classic, console
    )
    numbered, total = map_blocks(
        source, prefilter.block, progress, chunks=LINE_CHUNKS, workers=LINE_WORKERS
    )
    blocks = [block.numbered(before) for before, block in numbered]
    frames = [b.lines for b in blocks if b.lines.height]
    lines = pl.concat(frames) if frames else _no_lines()
    named = named_groups(pl.concat([b.groups for b in blocks]))
    tallies = [tally(named)]
    extra = _boundary_parents(numbered, blocks)
    last = next((b.last for b in reversed(blocks) if b.last.height), None)
    forced: tuple[int, ...] = ()
    if last is not None and not last["kept"][0]:
        forced = (int(last["line"][0]),)
        extra = pl.concat([extra, last.select("line", "raw")]).unique("line")
    if extra.height:
        # Re-read lines become events: take them out of the tally.
        marked = extra.filter(pl.col("raw").str.contains(MARKED))
        again = named_groups(prefilter.sessions(marked)[1])
        untally = tally(again).with_columns(-pl.col("events").cast(pl.Int64))
        tallies.append(untally)
        lines = pl.concat([lines, extra]).unique("line").sort("line")
    return Reading(
        lines=lines,
        total=total,
        widths=merged_widths([b.widths for b in blocks]),
        forced=forced,
        dated_dropped=any(b.dated_dropped for b in blocks),
        runs=pl.concat([b.runs for b in blocks if b.runs is not None] or [_no_runs()])
        if classic or console
        else None,
        pairs=first_pairs(named, source.path).cast(PAIR_SCHEMA),  # type: ignore[arg-type]
        tally=merge_tallies(tallies),
    )


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise ParseError(f"cannot read: {error.strerror}", Location(path)) from None


def _no_runs() -> pl.DataFrame:
    return pl.DataFrame(schema=RUN_SCHEMA)


def _no_lines() -> pl.DataFrame:
    return pl.DataFrame(schema={"line": pl.UInt32, "raw": pl.String})


def _boundary_parents(numbered: list[tuple[int, Block]], blocks: list[Block]) -> pl.DataFrame:
    """The left-out last entry line of each block whose next block starts with a line that may
    continue it (a block keeps such parents of its own lines; `Block.continues`)."""
    parents = [
        block.last.select("line", "raw")
        for block, (before, after) in zip(blocks, numbered[1:], strict=False)
        if after.continues
        and block.last.height
        and not block.last["kept"][0]
        and block.last["line"][0] == before
    ]
    return pl.concat(parents) if parents else _no_lines()


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


def _width_notes(width: Widths, path: str) -> list[str]:
    """Pager chop (`>` at the capture's maximum width) and hard width ceilings."""
    if width.lines < 2 * CHOP_MIN_LINES:
        return []
    if width.chopped >= CHOP_MIN_LINES:
        return [f"{path}: lines chopped by a pager at {width.top} characters (`>` marker)"]
    wide = width.at_top >= max(CHOP_MIN_LINES, width.lines // 20)
    if wide and len(width.endings) >= CHOP_MIN_LINES:
        cut = f"{width.at_top} lines stop at exactly {width.top} characters; possibly cut"
        return [f"{path}: {cut}"]
    return []
