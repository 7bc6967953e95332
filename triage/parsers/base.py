"""The parser interface: a lines frame in, a parsed events frame plus line accounting out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """User choices that change how inputs are read."""

    year: int | None = None
    """Year for year-less stamps (`--year`); beats every inferred reference."""
    tz: str | None = None
    """IANA zone for zone-less stamps (`--tz`); UTC when unknown."""
    input_format: str | None = None
    """Force a format name from `FORMATS` instead of auto-detecting."""
    strict: bool = False
    """Fail with `ParseError` at the first unparsed line."""
    progress: Callable[[int], None] | None = field(default=None, compare=False)
    """Called with the bytes of each block read (a progress bar's advance); None for quiet."""
    keep: tuple[str, ...] | None = None
    """Literal prefilter: entries containing none of these need not be returned as events
    (they are still counted). None keeps every entry."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a format parser knows about the input besides its lines."""

    path: str
    """The input as the user named it (`-` for stdin); goes into the `file` column."""
    options: ParseOptions = field(default_factory=ParseOptions)
    mtime: datetime | None = None
    """The file's modification time (UTC), a fallback reference for year inference."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A format parser's result: events in file order and the classes of the other lines."""

    events: pl.DataFrame
    """Conformed to `events.PARSED_SCHEMA`."""
    entries: int
    """Entries parsed, including any the prefilter left out of `events`."""
    continuations: int
    noise: int
    unparsed: int
    first_unparsed: int | None = None
    """1-based line of the first unparsed line (for `--strict`)."""
    notes: tuple[str, ...] = ()
    pairs: pl.DataFrame | None = None
    """With a prefilter: key <-> id pairs of the session entries left out (PAIR_SCHEMA)."""
    tally: pl.DataFrame | None = None
    """With a prefilter: per (key, id) count, first and last time of those entries."""
    time_only: int = 0
    """Events whose stamp is a time of day only (their date is taken from the entries around)."""


FormatParser = Callable[[pl.DataFrame, Context], Parsed]
"""Takes the lines frame (`line`: UInt32 1-based, `raw`: String without the line ending)."""

Sniffer = Callable[[list[str]], float]
"""Scores the first lines of an input: 0 = not this format, 1 = certainly this format."""


@dataclass(frozen=True, slots=True)
class Format:
    """A registered input format: `triage formats` lists these."""

    name: str
    description: str
    example: str
    parse: FormatParser
    sniff: Sniffer
