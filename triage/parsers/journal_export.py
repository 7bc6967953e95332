"""journalctl `-o export` (LOG-FORMATS §1.5): `KEY=value` blocks separated by blank lines.

A value that is unprintable or holds a newline is written as `KEY\\n`, an 8-byte little-endian
length, the raw bytes and `\\n`. Only the bytes give exact entry boundaries, so the reader
should hand this format's bytes to `parse_export_bytes`. `parse` (the lines frame) is a
vectorised best effort: a binary value runs from the line after its bare `KEY` up to the next
blank, `KEY=` or bare `KEY` line, less its 8 length characters.
"""

from __future__ import annotations

import re

import polars as pl

from triage.parsers.base import Context, Format, Parsed, ParseOptions
from triage.parsers.blockwise import BlockReading
from triage.parsers.journal_json import JOURNAL_FIELDS, journal_parsed, may_matter, pivot_fields
from triage.parsers.reader import split_lines

_NAME = r"[A-Za-z0-9_]+"
_LENGTH_BYTES = 8


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Mark field starts, payload lines and separators; number entries and fields."""
    raw = pl.col("raw").fill_null("")
    is_text = raw.str.contains(f"^{_NAME}=")
    is_bare = raw.str.contains(f"^{_NAME}$")
    blank = raw == ""
    marked = lines.with_columns(raw=raw, blank=blank, start=is_text | is_bare, bare=is_bare)
    marked = marked.with_columns(
        entry=(~pl.col("blank") & pl.col("blank").shift(1, fill_value=True)).cum_sum(),
        field=pl.col("start").cum_sum(),
    )
    # A payload line follows a bare KEY (directly or through other payload lines).
    # A blank line ends the entry, so a payload never continues past one.
    payload: pl.Expr = pl.lit(False)  # no binary field, no payload: spares two window passes
    if marked["bare"].any():
        field_is_bare = pl.col("bare").first().over("field")
        same_entry = pl.col("entry") == pl.col("entry").first().over("field")
        payload = ~pl.col("start") & ~pl.col("blank") & (pl.col("field") > 0) & field_is_bare
        payload = payload & same_entry
    entry_start = ~pl.col("blank") & pl.col("blank").shift(1, fill_value=True)
    kind = (
        pl.when(pl.col("blank"))
        .then(pl.lit("noise"))
        .when(~pl.col("start") & ~payload)
        .then(pl.lit("unparsed"))
        .when(entry_start)
        .then(pl.lit("entry"))
        .otherwise(pl.lit("continuation"))
    )
    return marked.with_columns(payload=payload).with_columns(kind=kind)


def _fields(classified: pl.DataFrame) -> pl.DataFrame:
    """One row per field: entry, name and value (binary payload lines joined, prefix dropped)."""
    rows = classified.filter(pl.col("start") | pl.col("payload"))
    text = pl.col("raw").str.splitn("=", 2)
    if not rows["bare"].any():  # every field is its one `KEY=value` line
        return rows.select(
            "entry", name=text.struct.field("field_0"), value=text.struct.field("field_1")
        )
    per_field = rows.group_by("field", maintain_order=True).agg(
        pl.col("entry").first(),
        pl.col("line").first(),
        pl.col("bare").first(),
        text.first().struct.field("field_0").alias("name"),
        text.first().struct.field("field_1").alias("text_value"),
        pl.col("raw").slice(1).str.join("\n").alias("payload"),
    )
    value = pl.when(pl.col("bare")).then(pl.col("payload").str.slice(_LENGTH_BYTES))
    return per_field.with_columns(value=value.otherwise(pl.col("text_value")))


def _entries(fields: pl.DataFrame, classified: pl.DataFrame) -> pl.DataFrame:
    """One row per entry: its line span and the journal fields we use."""
    bounds = (
        classified.filter(pl.col("kind").is_in(["entry", "continuation"]))
        .group_by("entry")
        .agg(pl.col("line").min(), pl.col("line").max().alias("end_line"))
    )
    return bounds.join(pivot_fields(fields), on="entry", how="left").sort("line").drop("entry")


def parse_export(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o export` from the lines frame (best effort for binary fields)."""
    classified = _classify(lines)
    wanted = _wanted(classified, ctx.options.keep)
    return journal_parsed(_entries(_fields(wanted), wanted), classified, ctx)


def _wanted(classified: pl.DataFrame, keep: tuple[str, ...] | None) -> pl.DataFrame:
    """The lines of the entries worth decoding (`may_matter`); all without a prefilter."""
    if keep is None:
        return classified
    entries = classified.filter(may_matter(pl.col("raw"), keep, "MESSAGE="))["entry"].unique()
    return classified.filter(pl.col("entry").is_in(entries.implode()))


_NAME_BYTES = re.compile(rb"[A-Za-z0-9_]+")


def _read_field(data: bytes, pos: int) -> tuple[str | None, bytes, int]:
    """Read one field at `pos` -> (name, value, next position).

    The name is "" for a blank line and None for a line that is not a field.
    """
    end = data.find(b"\n", pos)
    end = len(data) if end < 0 else end
    head = data[pos:end]
    name, eq, value = head.partition(b"=")
    if not head or not _NAME_BYTES.fullmatch(name):
        return ("" if not head else None), b"", end + 1
    if eq:
        return name.decode(), value, end + 1
    start = end + 1 + _LENGTH_BYTES
    size = int.from_bytes(data[end + 1 : start], "little")
    return head.decode("utf-8", "replace"), data[start : start + size], start + size + 1


def _export_rows(data: bytes) -> tuple[list[dict[str, object]], list[tuple[int, str]]]:
    """Walk the bytes -> (one dict per entry, (line, kind) for every physical line).

    A Python loop over fields: the binary length prefixes force a sequential read.
    """
    rows: list[dict[str, object]] = []
    kinds: list[tuple[int, str]] = []
    current: dict[str, object] | None = None
    pos, line = 0, 1
    while pos < len(data):
        name, value, nxt = _read_field(data, pos)
        span = data.count(b"\n", pos, min(nxt, len(data))) or 1
        if not name:
            kinds.append((line, "noise" if name == "" else "unparsed"))
            current = None if name == "" else current
        else:
            if current is None:
                current = {"line": line, "MESSAGE": None}
                rows.append(current)
            first = "entry" if current["line"] == line else "continuation"
            kinds.extend((line + i, first if i == 0 else "continuation") for i in range(span))
            _store(current, name, value.decode("utf-8", "replace"), line + span - 1)
        pos, line = nxt, line + span
    return rows, kinds


def _store(entry: dict[str, object], name: str, value: str, end_line: int) -> None:
    """Keep a field we use; a repeated MESSAGE is joined with newlines, others keep the first."""
    entry["end_line"] = end_line
    if name == "MESSAGE" and entry["MESSAGE"] is not None:
        entry["MESSAGE"] = f"{entry['MESSAGE']}\n{value}"
    elif name in JOURNAL_FIELDS and entry.get(name) is None:
        entry[name] = value


def parse_export_bytes(data: bytes, path: str, options: ParseOptions | None = None) -> Parsed:
    """Parse `journalctl -o export` from its bytes: exact, including binary fields."""
    rows, kinds = _export_rows(data)
    schema = {"line": pl.UInt32, "end_line": pl.UInt32} | dict.fromkeys(JOURNAL_FIELDS, pl.String)
    fields = pl.DataFrame(rows, schema=schema)
    classified = pl.DataFrame(kinds, schema={"line": pl.UInt32, "kind": pl.String}, orient="row")
    ctx = Context(path, options or ParseOptions())
    return journal_parsed(fields, classified, ctx)


_KEY_LINE = re.compile(rb"[A-Za-z0-9_]+\n")
_BARE_AFTER_NEWLINE = re.compile(rb"\n[A-Za-z0-9_]+\n")


def _next_bare(buf: bytearray, pos: int, end: int) -> int:
    """Where the next bare `KEY` line (a binary field) at or after `pos` starts, or -1."""
    if _KEY_LINE.match(buf, pos, end):
        return pos
    found = _BARE_AFTER_NEWLINE.search(buf, pos, end)
    return found.start() + 1 if found else -1


def _cut_between_entries(buf: bytearray, lo: int, end: int) -> int:
    """The newline of the last blank line in `buf[:end]` outside binary payloads, or -1.

    Binary payloads may hold blank lines, so the fields are walked from the block's start
    (an entry start): from one bare `KEY` line to the next, skipping each payload by its
    length prefix; text fields hold no newline. Clean exports have no bare keys at all.
    """
    best, pos = -1, 0
    while pos < end:
        bare = _next_bare(buf, pos, end)
        blank = buf.rfind(b"\n\n", pos, end if bare < 0 else bare)
        best = blank + 1 if blank >= 0 else best
        length_at = buf.find(b"\n", bare) + 1 if bare >= 0 else end
        if length_at + _LENGTH_BYTES > end:
            break
        size = int.from_bytes(buf[length_at : length_at + _LENGTH_BYTES], "little")
        pos = length_at + _LENGTH_BYTES + size + 1
    return best


def _parse_block(piece: bytes, ctx: Context) -> tuple[Parsed, pl.Series]:
    """One block (whole entries): vectorised when it holds only `KEY=value` and blank lines in
    valid UTF-8 without CR (there both readings agree), else the exact walk of its bytes."""
    nothing = pl.Series(dtype=pl.UInt32)
    if b"\r" not in piece:
        lines = split_lines(piece, ctx.path)
        raw = pl.col("raw")
        clean = lines.select(
            fields=(raw.is_null() | raw.str.contains(f"^{_NAME}=")).all(),
            # The lossy split shows invalid UTF-8 as U+FFFD: more of them than the bytes hold.
            replaced=raw.str.count_matches("\ufffd", literal=True).sum(),
        )
        valid = clean["replaced"].item() == piece.count("\ufffd".encode())
        if clean["fields"].item() and valid:
            return parse_export(lines, ctx), nothing
    return parse_export_bytes(piece, ctx.path, ctx.options), nothing


BLOCKS = BlockReading(_parse_block, _cut_between_entries, raw=True)
"""Export read block by block, each block's bytes parsed on their own (blocks end at a blank
line outside binary payloads, where an entry starts)."""


def sniff_export(head: list[str]) -> float:
    """`__CURSOR=` on the first non-blank line, then `KEY=value` lines."""
    lines = [h for h in head if h]
    if not lines or not lines[0].startswith("__CURSOR="):
        return 0.0
    fields = sum(1 for h in lines if re.match(f"{_NAME}=", h))
    return max(0.8, fields / len(lines))


FORMAT = Format(
    "journal-export",
    "journalctl -o export (read as bytes: binary fields carry a length prefix)",
    "__CURSOR=s=739ad463…\n__REALTIME_TIMESTAMP=1779198225077123\nMESSAGE=…\n",
    parse_export,
    sniff_export,
)
