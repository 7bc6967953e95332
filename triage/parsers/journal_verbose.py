"""journalctl `-o verbose` (LOG-FORMATS §1.5): a header line, then indented `NAME=value` lines.

Header: `<weekday> YYYY-MM-DD HH:MM:SS.ffffff <zone> [<cursor>]`, the weekday possibly localised
(`Do`, `So`). The cursor's `t=` (hex µs since the epoch) is the exact UTC receive time, so the
header's ambiguous zone abbreviation is only a fallback. A multi-line value continues on lines
indented to `4 + len(NAME) + 1`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from triage.parsers.base import Context, Format, Parsed
from triage.parsers.blockwise import BlockReading
from triage.parsers.classify import before_in_run
from triage.parsers.journal_json import finish, journal_events, may_matter, pivot_fields

HEADER = (
    r"^(?P<weekday>\S+) (?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) (?P<zone>\S+)"
    r" \[(?P<cursor>[^\]]*)\]\s*$"
)
_FIELD = r"^    (?P<name>[A-Za-z0-9_]+)=(?P<value>.*)$"
SEPARATOR = r"^(?:\x1b\[[0-9;]*m)?-- .* --(?:\x1b\[[0-9;]*m)?$"
"""`-- Boot <id> --`, `-- Reboot --`, `-- No entries --`, `-- Logs begin at … --` (§1.7)."""
_UTC_ZONES = ("UTC", "GMT", "Z", "+00", "+0000", "+00:00")


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Number entries (header lines) and fields; mark each line's kind."""
    # Captured TTY output may colour the fields (`\x1b[1m`); the SGR codes are not content.
    raw = pl.col("raw").fill_null("").str.replace_all(r"\x1b\[[0-9;]*m", "")
    marked = lines.with_columns(
        raw=raw,
        header=raw.str.contains(HEADER),
        start=raw.str.contains(_FIELD),
        indented=raw.str.starts_with("    "),
        noise=(raw.str.strip_chars() == "") | raw.str.contains(SEPARATOR),
    ).with_columns(
        entry=pl.col("header").cum_sum(),
        field=(pl.col("header") | pl.col("start")).cum_sum(),
    )
    # A noise line ends the entry: later indented lines belong to no entry.
    open_entry = before_in_run("noise", "entry") == 0 if marked["noise"].any() else pl.lit(True)
    in_entry = (pl.col("entry") > 0) & open_entry
    kind = (
        pl.when(pl.col("header"))
        .then(pl.lit("entry"))
        .when(pl.col("noise"))
        .then(pl.lit("noise"))
        .when(in_entry & pl.col("indented"))
        .then(pl.lit("continuation"))
        .otherwise(pl.lit("unparsed"))
    )
    return marked.with_columns(kind=kind)


def _fields(classified: pl.DataFrame) -> pl.DataFrame:
    """One row per field: entry, name and value, continuation lines de-indented and joined."""
    lines = classified.filter(pl.col("kind") == "continuation")
    if lines["start"].all():  # one line per field: `    NAME=value`, read without a capture
        pair = pl.col("raw").str.splitn("=", 2)
        name = pair.struct.field("field_0").str.slice(4)
        return lines.select("entry", name=name, value=pair.struct.field("field_1"))
    parts = pl.col("raw").str.extract_groups(_FIELD)
    name = parts.struct.field("name").first().over("field")
    # A continuation line is indented to `4 + len(NAME) + 1`; drop exactly that much.
    text = (
        pl.when(pl.col("start"))
        .then(parts.struct.field("value"))
        .otherwise(pl.col("raw").str.slice(name.str.len_chars() + 5))
    )
    return (
        classified.filter(pl.col("kind") == "continuation")
        .with_columns(name=name, text=text)
        .filter(pl.col("name").is_not_null())
        .group_by("field", maintain_order=True)
        .agg(pl.col("entry").first(), pl.col("name").first(), pl.col("text").str.join("\n"))
        .select("entry", "name", pl.col("text").alias("value"))
    )


def _headers(classified: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Per entry: line span and a `__REALTIME_TIMESTAMP` from the cursor (or the header)."""
    parts = pl.col("raw").str.extract_groups(HEADER)
    cursor_t = parts.struct.field("cursor").str.extract(r"(?:^|;)t=([0-9a-fA-F]+)", 1)
    micros = cursor_t.str.to_integer(base=16, strict=False)
    zone = parts.struct.field("zone")
    stamp = parts.struct.field("stamp").str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False
    )
    fallback_zone = ctx.options.tz or "UTC"
    header_micros = (
        pl.when(zone.is_in(_UTC_ZONES))
        .then(stamp.dt.replace_time_zone("UTC").dt.epoch("us"))
        .otherwise(stamp.dt.replace_time_zone(fallback_zone, ambiguous="earliest").dt.epoch("us"))
    )
    spans = classified.filter(pl.col("kind").is_in(["entry", "continuation"]))
    # Entries are runs of lines, each opened by its header: no grouping needed.
    last = spans.filter((pl.col("entry") != pl.col("entry").shift(-1)).fill_null(True))["line"]
    return (
        spans.filter(pl.col("kind") == "entry")
        .select("entry", "line", end_line=last, raw="raw")
        .with_columns(
            __REALTIME_TIMESTAMP=pl.coalesce(micros, header_micros).cast(pl.String),
            _guessed=micros.is_null() & ~zone.is_in(_UTC_ZONES),
        )
        .drop("raw")
    )


def parse_verbose(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o verbose`."""
    parsed, guessed = _parse(lines, ctx)
    return replace(parsed, notes=_guessed_note(guessed, ctx))


def _parse(lines: pl.DataFrame, ctx: Context) -> tuple[Parsed, pl.Series]:
    """The result without notes, and the lines of entries whose time was guessed."""
    classified = _classify(lines)
    headers = _headers(classified, ctx)
    wanted = _wanted(classified, headers, ctx.options.keep)
    headers = headers.filter(pl.col("entry").is_in(wanted.implode()))
    within = classified.filter(pl.col("entry").is_in(wanted.implode()))
    fields = pivot_fields(_fields(within)).drop("__REALTIME_TIMESTAMP")
    entries = headers.join(fields, on="entry", how="left").sort("line")
    events = journal_events(entries, ctx.path)
    # Guessed only where the header time survived (no source time, no gateway ISO stamp).
    header_ts = pl.from_epoch(entries["__REALTIME_TIMESTAMP"].cast(pl.Int64), time_unit="us")
    guessed = entries["_guessed"].fill_null(False) & (
        events["ts"] == header_ts.dt.replace_time_zone("UTC")
    ).fill_null(False)
    events = events.with_columns(ts_inferred=guessed)
    return finish(events, classified, ctx), entries["line"].filter(guessed).cast(pl.UInt32)


def _wanted(
    classified: pl.DataFrame, headers: pl.DataFrame, keep: tuple[str, ...] | None
) -> pl.Series:
    """The entries whose fields are decoded: with a prefilter, those `may_matter` or whose time
    may be a guess (the note counts them); all without one."""
    if keep is None:
        return headers["entry"]
    found = classified.filter(may_matter(pl.col("raw"), keep, "    MESSAGE="))["entry"]
    return pl.concat([found, headers.filter("_guessed")["entry"]]).unique()


def _guessed_note(lines: pl.Series, ctx: Context) -> tuple[str, ...]:
    if not lines.len():
        return ()
    zone = ctx.options.tz or "UTC"
    return (
        f"{lines.len()} verbose entries have no cursor time; their header times "
        f"were read in {zone} (the header zone is an abbreviation; use --tz)",
    )


def _cut_before_header(buf: bytearray, lo: int, end: int) -> int:
    """The newline before the last complete header line in `buf[lo:end]` (-1 if none): an entry
    starts there, so the lines before it parse on their own."""
    pos = end
    while (newline := buf.rfind(b"\n", lo, pos)) >= 0:
        line_end = buf.find(b"\n", newline + 1, end)
        if line_end >= 0 and _is_header(bytes(buf[newline + 1 : line_end])):
            return newline
        pos = newline
    return -1


_CONTROL = bytes(c for c in range(32) if c != 9)


def _is_header(line: bytes) -> bool:
    """A header line as the parser reads it, judged strictly: no control bytes (ANSI colour,
    the separators Python counts as spaces and polars does not), valid UTF-8, `HEADER`."""
    text = line.removesuffix(b"\r")
    if len(text.translate(None, _CONTROL)) != len(text):
        return False
    try:
        return _HEADER_RE.match(text.decode()) is not None
    except UnicodeDecodeError:
        return False


BLOCKS = BlockReading(_parse, _cut_before_header, _guessed_note)
"""Verbose read block by block: blocks end before a header line, where an entry starts."""


_HEADER_RE = re.compile(HEADER)


def sniff_verbose(head: list[str]) -> float:
    """A verbose header with a `[s=` cursor, followed by indented `NAME=` lines."""
    headers = [h for h in head if _HEADER_RE.match(h)]
    if not headers:
        return 0.0
    has_cursor = any("[s=" in h for h in headers)
    has_fields = any(re.match(_FIELD, h) for h in head)
    return 1.0 if has_cursor and has_fields else 0.6


FORMAT = Format(
    "journal-verbose",
    "journalctl -o verbose",
    "Tue 2026-05-19 13:43:45.077123 UTC [s=…;i=4ece7;b=…;m=4fc72436e;t=64c508a72423d;x=…]\n"
    "    _PID=963591\n    MESSAGE=…",
    parse_verbose,
    sniff_verbose,
)
