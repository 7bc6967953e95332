"""The OpenClaw gateway's JSON file log (LOG-FORMATS §2.4), one record per line, in three shapes.

- tslog: `{"time":…,"0":"{\\"subsystem\\":\\"gateway\\"}","1":"<message>","_meta":{…}}`; a
  meta object passed first lands in `"1"` and pushes the message to `"2"`.
- flat: `{"time":…,"level":"warn","subsystem":"logging","message":"…",<meta keys>}`.
- the console `json` style: `{"severity":"INFO","time":…,"level":…,"subsystem":…,"message":…}`.

The subsystem is kept in full (`channels/discord`). Meta keys (`timeoutMs`, `elapsedMs`, …) are
appended to the message as ` key=value` pairs so that rules, which regex the message, see them.
"""

from __future__ import annotations

import re

import polars as pl

from triage.events import PARSED_SCHEMA, SOURCE_DTYPE, Source, conform
from triage.literals import contains_any
from triage.parsers.base import Context, Format, Parsed
from triage.parsers.blockwise import BlockReading
from triage.parsers.gateway_line import error_name, level_word, parse_iso
from triage.parsers.journal_json import (
    JSON_VALUE,
    decode_value,
    decoded,
    finish,
    json_value,
    spellings,
)

_ARGS = tuple(str(i) for i in range(6))
"""tslog's positional arguments, `"0"` to `"5"`."""
_KNOWN = {"time", "level", "severity", "subsystem", "message", "msg", "_meta", "hostname", *_ARGS}
_PAIR = rf'[{{,]\s*"((?:[^"\\]|\\.)*)"\s*:\s*({JSON_VALUE})'
_SUBSYSTEM_NAME = r'^\{\s*"subsystem"\s*:\s*"((?:[^"\\]|\\.)*)"\s*\}$'
_PLAIN_VALUE = r'^[^\s"]+$'


def _meta_pairs(pairs: pl.Expr) -> pl.Expr:
    """List of raw `"key":value` pairs -> ` key=value …` text (known keys and nulls left out)."""
    key = pl.element().str.extract(_PAIR, 1)
    raw = pl.element().str.extract(_PAIR, 2)
    text = decode_value(raw, join=False)
    shown = pl.when(text.str.contains(_PLAIN_VALUE)).then(text).otherwise('"' + text + '"')
    pair = (
        pl.when(key.is_in(list(_KNOWN)) | text.is_null())
        .then(None)
        .otherwise(" " + key + "=" + shown)
    )
    return pairs.list.eval(pair.drop_nulls()).list.join("")


_KEYS = ("time", "date", "hostname", "subsystem", "name", "message", "logLevelName", "level",
         "severity", *_ARGS)  # fmt: skip
"""Keys read from each record (`date`, `name`, `hostname` and `logLevelName` live in `_meta`)."""


def _values(objects: pl.DataFrame) -> pl.DataFrame:
    """Extract each key's raw JSON once (`raw_<key>`), then decode it (`<key>`).

    Two stages because an eager select does not share the repeated regex sub-expressions.
    """
    text = pl.col("text")
    raw = objects.with_columns(json_value(text, key).alias(f"raw_{key}") for key in _KEYS)
    return raw.with_columns(decoded(raw, {f"raw_{key}": key for key in _KEYS}))


def _args(present: dict[str, bool]) -> tuple[pl.Expr, pl.Expr]:
    """tslog positional arguments -> (subsystem from a `{"subsystem":…}` name, message text).

    String arguments are joined with spaces; object arguments follow as ` key=value` pairs.
    `present` says which arguments (`"2"`) and object arguments (`"{2"`) occur at all: the
    others add nothing, and leaving them out spares a dozen list operations per argument.
    """
    strings: list[pl.Expr] = []
    pairs: list[pl.Expr] = []
    subsystem = pl.col(_ARGS[0]).str.extract(_SUBSYSTEM_NAME, 1)
    for key in (k for k in _ARGS if present[k]):
        raw, value = pl.col(f"raw_{key}"), pl.col(key)
        if key == _ARGS[0]:
            value = pl.when(subsystem.is_null()).then(value)
        is_object = raw.str.starts_with("{")
        strings.append(pl.when(~is_object).then(value))
        if present["{" + key]:
            pairs.append(_meta_pairs(pl.when(is_object).then(raw).str.extract_all(_PAIR)))
    message = pl.concat_str(strings or [pl.lit(None, pl.String)], separator=" ", ignore_nulls=True)
    message = pl.concat_str([message, *pairs], ignore_nulls=True).str.strip_chars_start(" ")
    return subsystem, pl.when(message != "").then(message)


def _present(values: pl.DataFrame) -> dict[str, bool]:
    """Which positional arguments occur in `values` (`"2"`), as objects (`"{2"`), and whether
    any record is flat (`"flat"`: a `message` key)."""
    found = values.select(
        *(pl.col(f"raw_{k}").is_not_null().any().alias(k) for k in _ARGS),
        *(pl.col(f"raw_{k}").str.starts_with("{").any().alias("{" + k) for k in _ARGS),
        flat=pl.col("message").is_not_null().any(),
    )
    return {name: bool(value) for name, value in found.row(0, named=True).items()}


def records(objects: pl.DataFrame) -> pl.DataFrame:
    """Objects frame (`line`, `end_line`, `text`) -> events conformed to `PARSED_SCHEMA`."""
    values = _values(objects)
    present = _present(values)
    subsystem_arg, message_args = _args(present)
    is_flat = pl.col("message").is_not_null()
    flat_pairs = (
        _meta_pairs(pl.when(is_flat).then(pl.col("text")).str.extract_all(_PAIR))
        if present["flat"]
        else pl.lit(None, pl.String)
    )
    events = values.select(
        pl.col("line").cast(pl.UInt32),
        pl.col("end_line").cast(pl.UInt32),
        ts=pl.coalesce(parse_iso(pl.col("time")), parse_iso(pl.col("date"))),
        ts_inferred=pl.lit(False),
        source=pl.lit(Source.GATEWAY_FILE.value, dtype=SOURCE_DTYPE),
        host=pl.col("hostname"),
        subsystem=pl.coalesce(
            "subsystem", subsystem_arg, pl.col("name").str.extract(_SUBSYSTEM_NAME, 1)
        ),
        level=pl.coalesce(*(level_word(pl.col(k)) for k in ("logLevelName", "level", "severity"))),
        message=pl.when(is_flat)
        .then(pl.col("message") + flat_pairs.fill_null(""))
        .otherwise(message_args)
        .fill_null(""),
    )
    return conform(events.with_columns(error=error_name(pl.col("message"))), PARSED_SCHEMA)


_RECORD = r'^\{.*"(?:time|_meta|message|severity)"\s*:.*\}$'
_PLAIN_TSLOG = (
    r'^\{"time":"[^"\\]*","0":"\{\\"subsystem\\":\\"[^"\\]*\\"\}",'
    r'"1":"(?:[^"\\]|\\.)*"(?:,"_meta":\{|\}$)'
)
"""A tslog record whose message is its `"1"` string alone (the subsystem object first, no
further arguments), keys in the order tslog writes them."""


def _prefilter(objects: pl.DataFrame, keep: tuple[str, ...] | None) -> pl.DataFrame:
    """Skip decoding plain tslog records that hold no keep literal or session marker (`finish`
    filters exactly and tallies the session entries).

    A plain record's message is its `"1"` string, so a literal in the message shows in the raw
    line (plain or JSON-escaped). Any other record is decoded: its message joins several
    arguments or renders `key=value` pairs that the raw line does not spell out.
    """
    if keep is None:
        return objects
    text = pl.col("text")
    plain = text.str.contains(_PLAIN_TSLOG)
    return objects.filter(~plain | contains_any(text, spellings(keep)))


def parse_gateway_file(lines: pl.DataFrame, ctx: Context) -> Parsed:
    """Parse the gateway's JSON file log (tslog or flat records, one per line)."""
    text = pl.col("raw").fill_null("").str.strip_chars()
    classified = lines.with_columns(text=text).with_columns(
        kind=pl.when(pl.col("text") == "")
        .then(pl.lit("noise"))
        .when(pl.col("text").str.contains(_RECORD))
        .then(pl.lit("entry"))
        .otherwise(pl.lit("unparsed"))
    )
    objects = classified.filter(pl.col("kind") == "entry").select(
        "line", pl.col("line").alias("end_line"), "text"
    )
    events = records(_prefilter(objects, ctx.options.keep))
    events = events.with_columns(file=pl.lit(ctx.path, dtype=pl.String))
    return finish(conform(events, PARSED_SCHEMA), classified, ctx)


BLOCKS = BlockReading(
    lambda lines, ctx: (parse_gateway_file(lines, ctx), pl.Series(dtype=pl.UInt32))
)
"""Records are one per line: any block of whole lines parses on its own, noting nothing."""


_TSLOG = re.compile(r'^\{.*"time"\s*:.*"0"\s*:.*\}\s*$|^\{.*"0"\s*:.*"_meta"\s*:.*\}\s*$')
_FLAT = re.compile(r'^\{(?=.*"message"\s*:)(?=.*"(?:level|severity|subsystem)"\s*:).*\}\s*$')
_JOURNAL = re.compile(r'"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:')


def sniff_gateway_file(head: list[str]) -> float:
    """Share of non-blank head lines that are tslog (`"0"` + `_meta`) or flat gateway records."""
    lines = [h.strip() for h in head if h.strip()]
    if not lines:
        return 0.0
    hits = sum(1 for h in lines if (_TSLOG.match(h) or _FLAT.match(h)) and not _JOURNAL.search(h))
    return hits / len(lines)


FORMAT = Format(
    "gateway-file",
    "OpenClaw gateway JSON file log (/tmp/openclaw/openclaw-YYYY-MM-DD.log)",
    '{"time":"2026-02-26T02:23:37.000Z","0":"{\\"subsystem\\":\\"gateway\\"}",'
    '"1":"received SIGINT; shutting down","_meta":{"logLevelName":"INFO"}}',
    parse_gateway_file,
    sniff_gateway_file,
)
