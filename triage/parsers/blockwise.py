"""Structured formats parsed block by block on the reader's worker threads, then joined.

A format that can parse any run of whole entries on its own says how (`BlockReading`): its
per-block parser, where a block may end (after a newline; before a line starting `{`; before
a verbose header), and how the lines it notes per block become the input's notes. Memory then
follows the block size, not the input (the prefiltered events of a block are few).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from triage.events import PARSED_SCHEMA, conform
from triage.parsers.base import Context, Parsed
from triage.parsers.reader import Cutter, Source, copied, map_blocks
from triage.parsers.tally import Widths, merge_tallies, merged_widths, widths

BlockParser = Callable[[Any, Context], tuple[Parsed, pl.Series]]
"""Parse one block (its lines frame, or its bytes with `raw`): the result (without notes) and
the lines it notes."""
Notes = Callable[[pl.Series, Context], tuple[str, ...]]
"""The input's notes from every line the blocks noted (line numbers from the input's start)."""


def _no_notes(lines: pl.Series, ctx: Context) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class BlockReading:
    """How one format is read block by block."""

    parse: BlockParser
    cut: bytes | Cutter = b"\n"
    """Where a block may end: after the newline of this byte string, or as the cutter says."""
    notes: Notes = _no_notes
    raw: bool = False
    """Parse each block's bytes rather than its lines frame."""


def parse_blocks(
    reading: BlockReading,
    source: Source,
    ctx: Context,
    progress: Callable[[int], None] | None = None,
) -> tuple[Parsed, int, Widths]:
    """Parse an input block by block: the joined result, the number of lines, and their width
    statistics."""

    def work(block: pl.DataFrame | bytes) -> tuple[Parsed, pl.Series, Widths]:
        parsed, noted = reading.parse(block, ctx)
        # Width notes tell a pager's chop; bytes-read formats (export) have none, as when whole.
        width = Widths() if isinstance(block, bytes) else widths(block)
        return _copied_out(parsed), noted, width

    blocks, total = map_blocks(source, work, progress, reading.cut, reading.raw)
    width = merged_widths(w for _, (_, _, w) in blocks)
    joined = _joined([(before, parsed, noted) for before, (parsed, noted, _) in blocks])
    noted = [n + before for before, (_, n, _) in blocks]
    lines = pl.concat(noted) if noted else pl.Series(dtype=pl.UInt32)
    return replace(joined, notes=reading.notes(lines, ctx)), total, width


def _copied_out(parsed: Parsed) -> Parsed:
    """`parsed` with its frames' strings copied out of the block's buffers: a filtered frame
    is a view that would keep every block's decoded columns alive until the join."""
    return replace(
        parsed,
        events=copied(parsed.events),
        pairs=None if parsed.pairs is None else copied(parsed.pairs),
        tally=None if parsed.tally is None else copied(parsed.tally),
    )


def _joined(blocks: list[tuple[int, Parsed, pl.Series]]) -> Parsed:
    """One `Parsed` (without notes) from per-block results (`before`: lines before each)."""

    def shifted(frame: pl.DataFrame, before: int, *columns: str) -> pl.DataFrame:
        return copied(frame.with_columns((pl.col(c) + before).cast(pl.UInt32) for c in columns))

    events = [shifted(p.events, before, "line", "end_line") for before, p, _ in blocks]
    pairs = [shifted(p.pairs, before, "line") for before, p, _ in blocks if p.pairs is not None]
    firsts = [p.first_unparsed + before for before, p, _ in blocks if p.first_unparsed]
    return Parsed(
        events=pl.concat(events) if events else conform(pl.DataFrame(), PARSED_SCHEMA),
        entries=sum(p.entries for _, p, _ in blocks),
        continuations=sum(p.continuations for _, p, _ in blocks),
        noise=sum(p.noise for _, p, _ in blocks),
        unparsed=sum(p.unparsed for _, p, _ in blocks),
        first_unparsed=min(firsts, default=None),
        pairs=pl.concat(pairs) if pairs else None,
        tally=merge_tallies([p.tally for _, p, _ in blocks if p.tally is not None]),
    )
