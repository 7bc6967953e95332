"""journalctl `-o json`, `json-pretty`, `json-seq` and `json-sse` (LOG-FORMATS §1.6).

Fields are pulled out of each object with anchored regexes (`,"KEY":value`), not a full JSON
decode: values may be a string, `null` (over 4096 bytes), an array of byte numbers (unprintable,
e.g. ANSI) or an array of strings (a repeated field), and polars' typed decoder rejects such
mixed rows. A key can only match at object level, because quotes inside JSON strings are escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import polars as pl

from triage.events import LEVEL_DTYPE, PARSED_SCHEMA, SOURCE_DTYPE, Source, conform
from triage.identity import MARKERS
from triage.literals import contains_any
from triage.parsers import classify as cl
from triage.parsers.base import Context, Format, Parsed
from triage.parsers.blockwise import BlockReading
from triage.parsers.gateway_line import error_name, split_gateway_message
from triage.parsers.tally import tally_events

_STRING = r'"(?:[^"\\]|\\.)*"'
_OBJECT_1 = rf"\{{(?:[^{{}}\"]|{_STRING})*\}}"
_OBJECT_2 = rf"\{{(?:[^{{}}\"]|{_STRING}|{_OBJECT_1})*\}}"
JSON_VALUE = (
    rf"{_STRING}"
    rf'|\[(?:[^\]"{{}}]|{_STRING}|{_OBJECT_1})*\]'  # array of numbers, strings or flat objects
    rf"|{_OBJECT_2}"  # object nested at most two deep (tslog `_meta.path`)
    r"|null|true|false|-?\d[\d.eE+-]*"
)
_JOURNAL_VALUE = rf'{_STRING}|\[(?:[^\]"]|{_STRING})*\]|null|-?\d[\d.eE+-]*'
"""Journal values are strings, arrays of strings or byte numbers, or null: never objects."""
JOURNAL_FIELDS = (
    "__REALTIME_TIMESTAMP",
    "_SOURCE_REALTIME_TIMESTAMP",
    "_HOSTNAME",
    "SYSLOG_IDENTIFIER",
    "_COMM",
    "_PID",
    "SYSLOG_PID",
    "_SYSTEMD_UNIT",
    "_SYSTEMD_USER_UNIT",
    "UNIT",
    "USER_UNIT",
    "PRIORITY",
    "MESSAGE",
)
"""The journal fields that feed the events frame (LOG-FORMATS §1.6 field reference)."""
BRIEF_FIELDS = ("MESSAGE", "_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP")
"""The fields an event's `message` and `ts` come from (`journal_events`): all that the literal
prefilter and the session tally read."""

_PRIORITY_LEVEL = {
    "0": "fatal",
    "1": "fatal",
    "2": "error",
    "3": "error",
    "4": "warn",
    "5": "info",
    "6": "info",
    "7": "debug",
}
_JOURNAL_KEY = r'[{,]\s*"(?:__CURSOR|__REALTIME_TIMESTAMP|MESSAGE)"\s*:'
_HEX = {str(i): f"{i:02x}" for i in range(256)}
_C = "[89ab][0-9a-f]"
_UTF8_UNIT = (
    f"[0-7][0-9a-f]|(?:c[2-9a-f]|d[0-9a-f]){_C}|e0[ab][0-9a-f]{_C}|e[1-9a-cef]{_C}{_C}"
    f"|ed[89][0-9a-f]{_C}|f0[9ab][0-9a-f]{_C}{_C}|f[1-3]{_C}{_C}{_C}|f48[0-9a-f]{_C}{_C}"
)
"""One well-formed UTF-8 sequence, as lowercase hex pairs."""
_UTF8_TRUNCATED = (
    f"e0[ab][0-9a-f]|ed[89][0-9a-f]|e[1-9a-cef]{_C}|f0[9ab][0-9a-f](?:{_C})?"
    f"|f[1-3]{_C}(?:{_C})?|f48[0-9a-f](?:{_C})?"
)
"""A cut-off sequence: one replacement character for all of it (Unicode's maximal subpart,
as Python's and Rust's lossy decoders do)."""


def json_value(text: pl.Expr, key: str, value: str = JSON_VALUE) -> pl.Expr:
    """The raw JSON text of `key`'s value in each object (null when absent).

    Capture-free: the whole `"key": value` match, then its anchored `"key":` cut off. A capture
    group costs a second regex pass per row: it made field extraction 3-4x slower.
    """
    name = rf'[{{,]\s*"{re.escape(key)}"\s*:\s*'
    return text.str.extract(rf"{name}(?:{value})", 0).str.replace(f"^{name}", "")


def decode_bytes(numbers: pl.Expr) -> pl.Expr:
    """A JSON array of byte numbers -> text, decoded as UTF-8 lossily (like `errors="replace"`).

    Vectorised: bytes become hex pairs, each well-formed UTF-8 sequence is kept and each cut-off
    sequence or stray byte is replaced by `efbfbd` before the hex is turned back into text.
    """
    hexed = (
        numbers.str.json_decode(pl.List(pl.String))
        .list.eval(pl.element().replace_strict(_HEX, default="3f"))
        .list.join("")
    )
    units = (
        hexed.str.replace_all(f"({_UTF8_UNIT})|{_UTF8_TRUNCATED}|[0-9a-f]{{2}}", "${1}g")
        .str.strip_suffix("g")
        .str.split("g")
        .list.eval(pl.when(pl.element() == "").then(pl.lit("efbfbd")).otherwise(pl.element()))
        .list.join("")
    )
    valid = pl.when(hexed == "").then(pl.lit("")).otherwise(units)
    return valid.str.decode("hex").cast(pl.String)


def decode_value(raw: pl.Expr, *, join: bool, arrays: bool = True) -> pl.Expr:
    """Raw JSON value text -> String: strings unescaped, byte arrays decoded, string arrays
    joined with newlines (`join`) or reduced to their first item, `null` -> null.

    `arrays=False` when no value of the column is an array: the same result without the array
    branches, which polars would evaluate over every row anyway (a dozen list operations).
    """
    is_string = raw.str.starts_with('"')
    # Only strings with escapes need the JSON decoder; the others just lose their quotes.
    escaped = pl.when(is_string & raw.str.contains("\\", literal=True)).then(raw)
    plain = raw.str.slice(1, raw.str.len_bytes() - 2)
    string = pl.when(is_string).then(pl.coalesce(escaped.str.json_decode(pl.String), plain))
    if not arrays:
        return string.when(raw == "null").then(pl.lit(None, dtype=pl.String)).otherwise(raw)
    is_strings = raw.str.contains(r'^\[\s*"')
    is_bytes = raw.str.contains(r"^\[\s*\d")
    strings = pl.when(is_strings).then(raw).str.json_decode(pl.List(pl.String))
    return (
        string.when(is_strings)
        .then(strings.list.join("\n") if join else strings.list.first())
        .when(is_bytes)
        .then(decode_bytes(pl.when(is_bytes).then(raw)))
        .when(raw.is_in(["null", "[]"]))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(raw)
    )


def decode_objects(objects: pl.DataFrame, keys: tuple[str, ...] = JOURNAL_FIELDS) -> pl.DataFrame:
    """Objects frame (`line`, `end_line`, `text`) -> journal fields frame for `journal_events`
    (`keys`, MESSAGE among them: the fields to decode)."""
    # Extract once, then decode from columns: eager selects do not share sub-expressions.
    raw = objects.select(
        "line",
        "end_line",
        *(json_value(pl.col("text"), key, _JOURNAL_VALUE).alias(key) for key in keys),
    )
    return raw.select(
        "line",
        "end_line",
        *decoded(raw, {k: k for k in keys}, joined="MESSAGE"),
        message_null=pl.col("MESSAGE") == "null",
    )


def decoded(raw: pl.DataFrame, columns: dict[str, str], joined: str | None = None) -> list[pl.Expr]:
    """`decode_value` of each raw JSON column of `raw` (`columns`: raw name -> decoded name;
    string arrays joined for `joined`), without the array branches where a column holds none."""
    arrays = raw.select(pl.col(c).str.starts_with("[").any() for c in columns).row(0)
    return [
        decode_value(pl.col(c), join=c == joined, arrays=bool(a)).alias(out)
        for (c, out), a in zip(columns.items(), arrays, strict=True)
    ]


def journal_events(fields: pl.DataFrame, path: str) -> pl.DataFrame:
    """Journal fields frame (`line`, `end_line`, one String column per `JOURNAL_FIELDS` name,
    missing ones allowed) -> events conformed to `PARSED_SCHEMA`, gateway lines split."""
    missing = [k for k in JOURNAL_FIELDS if k not in fields.columns]
    fields = fields.with_columns(pl.lit(None, dtype=pl.String).alias(k) for k in missing)
    events = fields.select(
        pl.lit(path, dtype=pl.String).alias("file"),
        pl.col("line").cast(pl.UInt32),
        pl.col("end_line").cast(pl.UInt32),
        ts=_entry_time(),
        ts_inferred=pl.lit(False),
        source=pl.lit(Source.JOURNAL.value, dtype=SOURCE_DTYPE),
        host=pl.col("_HOSTNAME"),
        ident=pl.coalesce("SYSLOG_IDENTIFIER", "_COMM"),
        pid=pl.coalesce("_PID", "SYSLOG_PID").str.strip_chars().cast(pl.Int64, strict=False),
        unit=_unit(),
        level=pl.col("PRIORITY")
        .str.strip_chars()
        .replace_strict(_PRIORITY_LEVEL, default=None, return_dtype=pl.String)
        .cast(LEVEL_DTYPE),
        message=_MESSAGE,
    )
    events = _console_json(split_gateway_message(events))
    events = events.with_columns(error=error_name(pl.col("message")))
    # Node apps log errors to stdout at PRIORITY 6: an error name outranks info (§1.8).
    raise_to_error = pl.col("error").is_not_null() & pl.col("level").fill_null("info").eq("info")
    events = events.with_columns(
        level=pl.when(raise_to_error).then(pl.lit("error", dtype=LEVEL_DTYPE)).otherwise("level")
    )
    return conform(events, PARSED_SCHEMA)


def brief_events(fields: pl.DataFrame) -> pl.DataFrame:
    """`line`, `end_line`, `ts` and `message` of `journal_events`, from `BRIEF_FIELDS` only
    (the same steps: what follows them changes neither column)."""
    events = fields.select(
        pl.col("line").cast(pl.UInt32),
        pl.col("end_line").cast(pl.UInt32),
        ts=_entry_time(),
        level=pl.lit(None, dtype=LEVEL_DTYPE),
        message=_MESSAGE,
    )
    return _console_json(split_gateway_message(events)).select("line", "end_line", "ts", "message")


_MESSAGE = pl.col("MESSAGE").fill_null("")


def _entry_time() -> pl.Expr:
    """When the entry was logged: the sender's own stamp, else journald's, in UTC µs."""
    micros = pl.coalesce("_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP").str.strip_chars()
    cast = micros.cast(pl.Int64, strict=False)
    return pl.from_epoch(cast, time_unit="us").dt.replace_time_zone("UTC")


def _unit() -> pl.Expr:
    """The unit an entry is about: systemd's own entries name it in `UNIT=` / `USER_UNIT=` (their
    `_SYSTEMD_UNIT` is `init.scope` or the user manager) or, failing that, at the start of the
    message as the text formats read it; other entries come from their `_SYSTEMD_*UNIT`."""
    ident = pl.coalesce("SYSLOG_IDENTIFIER", "_COMM")
    named = pl.when(ident == "systemd").then(
        pl.col("MESSAGE").str.slice(0, 120).str.extract(cl.UNIT)
    )
    return pl.coalesce("USER_UNIT", "UNIT", named, "_SYSTEMD_USER_UNIT", "_SYSTEMD_UNIT")


_CONSOLE_JSON = r'^\{.*"message"\s*:.*\}$'


def _console_json(events: pl.DataFrame) -> pl.DataFrame:
    """MESSAGEs written in the gateway's `json` console style become gateway records."""
    is_record = pl.col("message").str.contains(_CONSOLE_JSON) & pl.col("message").str.contains(
        r'"(?:severity|subsystem|level)"\s*:'
    )
    events = events.with_row_index("_row")
    subset = events.filter(is_record)
    if subset.height == 0:
        return events.drop("_row")
    from triage.parsers.gateway_file import records  # here: gateway_file imports this module

    decoded = records(subset.select("line", "end_line", text=pl.col("message")))
    update = decoded.select("ts", "subsystem", "level", "message").with_columns(
        subset["_row"], ts=pl.coalesce(decoded["ts"], subset["ts"])
    )
    return events.update(update, on="_row").drop("_row")


def pivot_fields(fields: pl.DataFrame) -> pl.DataFrame:
    """Fields frame (`entry`, `name`, `value`) -> one row per entry with a column per
    `JOURNAL_FIELDS` name: a repeated MESSAGE is joined by newlines, other fields keep the first."""
    picked = pl.col("value").filter(pl.col("name") == "MESSAGE")
    picks = [
        pl.col("value").filter(pl.col("name") == key).first().alias(key)
        for key in JOURNAL_FIELDS
        if key != "MESSAGE"
    ]
    return (
        fields.group_by("entry")
        .agg(
            *picks,
            picked.str.join("\n").alias("MESSAGE"),
            (pl.col("name") == "MESSAGE").any().alias("_has_message"),
        )
        .with_columns(MESSAGE=pl.when("_has_message").then(pl.col("MESSAGE")))
        .drop("_has_message")
    )


def line_counts(classified: pl.DataFrame) -> dict[str, int]:
    """Count the `kind` column (entry, continuation, noise, unparsed) of a classified frame."""
    counts = dict(classified.group_by("kind").len().iter_rows())
    return {k: int(counts.get(k, 0)) for k in ("entry", "continuation", "noise", "unparsed")}


def finish(
    events: pl.DataFrame,
    classified: pl.DataFrame,
    ctx: Context,
    notes: tuple[str, ...] = (),
    tallied: pl.DataFrame | None = None,
) -> Parsed:
    """Accounting and the literal prefilter shared by the structured parsers.

    `tallied`: the entries to tally (`line`, `message`, `ts`: a session marker and no keep
    literal), when the parser read them apart from `events`; else they are taken from `events`.
    `--strict` is enforced once for every format by the registry, from `first_unparsed`.
    """
    counts = line_counts(classified)
    unparsed = classified.filter(pl.col("kind") == "unparsed")["line"]
    first = int(unparsed.min()) if counts["unparsed"] else None  # type: ignore[arg-type]
    pairs = tally = None
    if ctx.options.keep is not None:
        message = pl.col("message")
        keep = contains_any(message, ctx.options.keep).fill_null(False)
        if tallied is None:
            tallied = events.filter(~keep & contains_any(message, MARKERS).fill_null(False))
        pairs, tally = tally_events(tallied, ctx.path)
        events = events.filter(keep)
    return Parsed(
        events=events,
        entries=counts["entry"],
        continuations=counts["continuation"],
        noise=counts["noise"],
        unparsed=counts["unparsed"],
        first_unparsed=first,
        notes=notes,
        pairs=pairs,
        tally=tally,
    )


def journal_parsed(fields: pl.DataFrame, classified: pl.DataFrame, ctx: Context) -> Parsed:
    """Journal fields + classified lines -> `Parsed`, with a note on null (too long) MESSAGEs.

    With a keep prefilter, only the entries whose message holds a keep literal become events;
    the others are read no further than message and time (`brief_events`) for the tally.
    """
    nulls = fields.filter("message_null") if "message_null" in fields.columns else fields.clear()
    notes = _null_note(nulls["line"])
    if ctx.options.keep is None:
        return finish(journal_events(fields, ctx.path), classified, ctx, notes)
    wanted, tallied = _split_brief(brief_events(fields), ctx.options.keep)
    events = journal_events(fields.filter(pl.col("line").is_in(wanted.implode())), ctx.path)
    return finish(events, classified, ctx, notes, tallied=tallied)


def _split_brief(brief: pl.DataFrame, keep: tuple[str, ...]) -> tuple[pl.Series, pl.DataFrame]:
    """`brief_events` rows -> the lines of those holding a keep literal (to read in full), and
    those to tally (a session marker, no keep literal)."""
    message = pl.col("message")
    flags = brief.select(
        keep=contains_any(message, keep).fill_null(False),
        named=contains_any(message, MARKERS).fill_null(False),
    )
    return brief["line"].filter(flags["keep"]), brief.filter(~flags["keep"] & flags["named"])


def _null_note(lines: pl.Series) -> tuple[str, ...]:
    """The note for entries whose MESSAGE journalctl printed as null."""
    if lines.len() == 0:
        return ()
    return (
        f"{lines.len()} entries have MESSAGE null (4096 bytes or more; journalctl omits "
        f"them without --all), first at line {lines[0]}; kept with an empty message",
    )


def _prefilter(objects: pl.DataFrame, keep: tuple[str, ...] | None) -> pl.DataFrame:
    """Skip decoding objects that cannot contain a keep literal or a session marker (`finish`
    filters exactly and tallies the session entries).

    Literals are matched on the raw JSON in their plain and JSON-escaped spellings; byte-array
    MESSAGEs and console-json MESSAGEs (meta keys become `key=value`) are always decoded.
    """
    if keep is None:
        return objects
    text = pl.col("text")
    always = text.str.contains(r'"MESSAGE"\s*:\s*(?:\[|"\{)')
    return objects.filter(contains_any(text, spellings(keep)) | always)


def may_matter(field_line: pl.Expr, keep: tuple[str, ...], message: str) -> pl.Expr:
    """Lines of a `NAME=value` export (export, verbose) that make their entry worth decoding:
    a keep literal or session marker (`finish` filters exactly and tallies the session entries),
    or a console-json MESSAGE (`message` is how its line starts), whose meta keys become text."""
    return contains_any(field_line, [*keep, *MARKERS]) | field_line.str.starts_with(f"{message}{{")


def spellings(keep: tuple[str, ...]) -> list[str]:
    """The keep literals and session markers, plain and JSON-escaped: how they show in raw JSON
    (session entries are tallied, so they are decoded too)."""
    wanted = (*keep, *MARKERS)
    return sorted({*wanted, *(json.dumps(k, ensure_ascii=False)[1:-1] for k in wanted)})


def _one_per_line(lines: pl.DataFrame, prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Classify each line of a one-object-per-line mode -> (objects, lines with a `kind`)."""
    text = pl.col("raw").str.replace(prefix, "").str.strip_chars()
    classified = lines.with_columns(text=text).with_columns(
        kind=pl.when(pl.col("text").fill_null("") == "")
        .then(pl.lit("noise"))
        .when(
            pl.col("text").str.starts_with("{")
            & pl.col("text").str.ends_with("}")
            & pl.col("text").str.contains(_JOURNAL_KEY)
        )
        .then(pl.lit("entry"))
        .otherwise(pl.lit("unparsed"))
    )
    objects = classified.filter(pl.col("kind") == "entry").select(
        "line", pl.col("line").alias("end_line"), "text"
    )
    return objects, classified


def _pretty(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Group json-pretty lines into objects: from a `{` line to the first `}` line after it."""
    text = pl.col("raw").fill_null("").str.strip_chars()
    marked = lines.with_columns(text=text).with_columns(
        group=pl.col("text").str.starts_with("{").cum_sum(),
        blank=pl.col("text") == "",
        close=pl.col("text").str.ends_with("}"),
    )
    closed_before = cl.before_in_run("close", "group")  # `}` lines before this one in its group
    marked = marked.with_columns(member=(pl.col("group") > 0) & (closed_before == 0))
    objects = (
        marked.filter(pl.col("member") & ~pl.col("blank"))
        .group_by("group", maintain_order=True)
        .agg(
            pl.col("line").first(),
            pl.col("line").last().alias("end_line"),
            pl.col("text").str.join("\n"),
            pl.len().alias("n"),
        )
        .with_columns(
            ok=pl.col("text").str.ends_with("}") & pl.col("text").str.contains(_JOURNAL_KEY)
        )
    )
    good = objects.filter("ok")
    kind = (
        pl.when(pl.col("blank"))
        .then(pl.lit("noise"))
        .when(pl.col("group").is_in(good["group"].implode()) & pl.col("member"))
        .then(pl.when(pl.col("line").is_in(good["line"].implode())).then(pl.lit("entry")))
        .otherwise(pl.lit("unparsed"))
    )
    classified = marked.with_columns(kind=kind.fill_null("continuation"))
    return good.select("line", "end_line", "text"), classified


def _parse_with(framer: str, lines: pl.DataFrame, ctx: Context) -> Parsed:
    objects, classified = _pretty(lines) if framer == "pretty" else _one_per_line(lines, framer)
    parsed, nulls = _decoded(objects, classified, ctx)
    return replace(parsed, notes=_null_note(nulls))


def _decoded(
    objects: pl.DataFrame, classified: pl.DataFrame, ctx: Context
) -> tuple[Parsed, pl.Series]:
    """Framed objects -> `Parsed` (without notes) and the lines whose MESSAGE is null."""
    nulls = objects.filter(pl.col("text").str.contains(r'"MESSAGE"\s*:\s*null'))["line"]
    candidates = _prefilter(objects, ctx.options.keep)
    if ctx.options.keep is None:
        fields = decode_objects(candidates).drop("message_null")
        return finish(journal_events(fields, ctx.path), classified, ctx), nulls
    return _kept(candidates, classified, ctx, ctx.options.keep), nulls


def _kept(
    candidates: pl.DataFrame, classified: pl.DataFrame, ctx: Context, keep: tuple[str, ...]
) -> Parsed:
    """With a keep prefilter: every candidate's message and time first (`BRIEF_FIELDS`, all the
    tally reads), then every field of only those whose message holds a keep literal (about 1 %
    of entries, against the ~40 % that name a session). Halves a block's decoding."""
    wanted, tallied = _split_brief(brief_events(decode_objects(candidates, BRIEF_FIELDS)), keep)
    full = candidates.filter(pl.col("line").is_in(wanted.implode()))
    events = journal_events(decode_objects(full).drop("message_null"), ctx.path)
    return finish(events, classified, ctx, tallied=tallied)


LINE_FRAMERS = {"journal-json": "^$", "journal-json-seq": "^\x1e", "journal-json-sse": "^data: ?"}
"""The modes with one object per line: a block of whole lines parses on its own."""


def block_reading(name: str) -> BlockReading | None:
    """How a mode of this module is read block by block; None for one read whole."""
    if name in LINE_FRAMERS:
        framer = LINE_FRAMERS[name]
        return BlockReading(lambda frame, ctx: _decoded(*_one_per_line(frame, framer), ctx),
                            notes=lambda nulls, ctx: _null_note(nulls))  # fmt: skip
    if name == "journal-json-pretty":  # an object starts at a `{` line: blocks cut before one
        return BlockReading(lambda frame, ctx: _decoded(*_pretty(frame), ctx), b"\n{",
                            lambda nulls, ctx: _null_note(nulls))  # fmt: skip
    return None


def parse_json(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o json`: one compact object per line."""
    return _parse_with("^$", lines, ctx)


def parse_json_seq(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o json-seq`: `\\x1e{…}` per line (RFC 7464)."""
    return _parse_with("^\x1e", lines, ctx)


def parse_json_sse(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o json-sse`: `data: {…}` lines separated by blank lines."""
    return _parse_with("^data: ?", lines, ctx)


def parse_json_pretty(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse `journalctl -o json-pretty`: one indented multi-line object per entry."""
    return _parse_with("pretty", lines, ctx)


_KEY_IN_LINE = re.compile(r'"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:')


def _share(head: list[str], is_entry: re.Pattern[str]) -> float:
    """Share of the non-blank head lines that look like one entry of the mode."""
    lines = [h for h in head if h.strip()]
    if not lines:
        return 0.0
    return sum(1 for h in lines if is_entry.search(h)) / len(lines)


_COMPACT = re.compile(r'^\{.*"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:.*\}\s*$')
_SEQ = re.compile(r'^\x1e\{.*"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:')
_SSE = re.compile(r'^data: ?\{.*"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:')


def sniff_json(head: list[str]) -> float:
    """Compact objects with journal keys, one per line."""
    return _share(head, _COMPACT)


def sniff_json_seq(head: list[str]) -> float:
    """Lines starting with the RS byte and a journal object."""
    return _share(head, _SEQ)


def sniff_json_sse(head: list[str]) -> float:
    """`data: {` lines with journal keys (blank separators are ignored)."""
    return _share(head, _SSE)


def sniff_json_pretty(head: list[str]) -> float:
    """A lone `{` line first, then indented `"__CURSOR" : …` style key lines."""
    lines = [h.strip() for h in head if h.strip()]
    if not lines or lines[0] != "{":
        return 0.0
    return 1.0 if any(_KEY_IN_LINE.match(h) for h in lines[1:]) else 0.2


_EXAMPLE = '{"__REALTIME_TIMESTAMP":"1779198225077123","_PID":"963591","MESSAGE":"…"}'

FORMATS: tuple[Format, ...] = (
    Format("journal-json", "journalctl -o json", _EXAMPLE, parse_json, sniff_json),
    Format(
        "journal-json-pretty",
        "journalctl -o json-pretty",
        '{\n\t"__REALTIME_TIMESTAMP" : "1779198225077123",\n\t"MESSAGE" : "…"\n}',
        parse_json_pretty,
        sniff_json_pretty,
    ),
    Format(
        "journal-json-seq",
        "journalctl -o json-seq",
        "\x1e" + _EXAMPLE,
        parse_json_seq,
        sniff_json_seq,
    ),
    Format(
        "journal-json-sse",
        "journalctl -o json-sse",
        "data: " + _EXAMPLE,
        parse_json_sse,
        sniff_json_sse,
    ),
)
