"""Vectorised helpers for OpenClaw console text: ANSI stripping, ISO stamps, `[subsystem]` split.

Shared by every parser whose message may hold a gateway console line (`<ISO time> [<subsystem>]
<message>`, LOG-FORMATS §2.2): the journal JSON, export and verbose parsers, and the text parsers.
"""

from __future__ import annotations

import polars as pl

from triage.events import LEVEL_DTYPE
from triage.parsers.classify import ANSI, ERROR_NAME, TAG
from triage.parsers.classify import ISO as ISO_STAMP

_CLOCK_STAMP = r"\d\d:\d\d:\d\d(?:\.\d{3})?"
GATEWAY_HEAD = rf"^(?:{ISO_STAMP}\s+|{_CLOCK_STAMP}\s+)?(?:{TAG}(?: +|$))?"
"""What comes before a console line's message: an ISO or time-only stamp, then a `[tag]`
(each optional; it always matches, maybe empty). The message is the rest of the text."""

_LEVEL_WORDS: dict[str, str] = {
    "trace": "trace",
    "debug": "debug",
    "info": "info",
    "notice": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "critical": "fatal",
    "crit": "fatal",
    "alert": "fatal",
    "emergency": "fatal",
    "emerg": "fatal",
    "fatal": "fatal",
}


def strip_ansi(expr: pl.Expr) -> pl.Expr:
    """Remove colour codes; where any were removed, collapse the doubled spaces they leave."""
    stripped = expr.str.replace_all(ANSI, "")
    collapsed = stripped.str.replace_all(r" {2,}", " ").str.strip_chars(" ")
    return pl.when(expr.str.contains(ANSI)).then(collapsed).otherwise(expr)


def parse_iso(expr: pl.Expr) -> pl.Expr:
    """ISO 8601 text with an offset or `Z` -> UTC microseconds (null when it does not parse)."""
    return expr.str.replace(r"Z$", "+00:00").str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", time_unit="us", strict=False
    )


def level_word(expr: pl.Expr) -> pl.Expr:
    """A level name in any common spelling (`WARNING`, `Err`, `critical`) -> `Level` or null."""
    return (
        expr.str.to_lowercase()
        .str.strip_chars()
        .replace_strict(_LEVEL_WORDS, default=None, return_dtype=pl.String)
        .cast(LEVEL_DTYPE)
    )


def error_name(message: pl.Expr) -> pl.Expr:
    """`error="<Name>: …"`, else a message starting `<Name>`, else a `<Name>Error: ` inside."""
    return pl.coalesce(
        message.str.extract(r'error="([A-Za-z_$][\w$]*)(?::|")'),
        message.str.extract(rf"^({ERROR_NAME})(?-u:\b)"),
        message.str.extract(rf"(?-u:\b)({ERROR_NAME}): "),
    )


def split_gateway_message(df: pl.DataFrame) -> pl.DataFrame:
    """Split OpenClaw console lines held in `message` into `ts`, `subsystem` and `message`.

    `df` needs `message` (String), `ts` (UTC µs) and `level`; `subsystem` is added when missing.
    ANSI is stripped first. A leading ISO stamp replaces `ts`; a time-only stamp is dropped
    (the outer time is exact); a `[tag]` becomes the subsystem, or the level when it is a level
    word (`[warn]`). Messages without a stamp or tag are left as they are.
    """
    if "subsystem" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("subsystem"))
    # Capture-free, on columns computed once (an eager select shares no sub-expression): the
    # head is found by one anchored match, and stamp and tag are read from that short text; a
    # capture group over the whole message cost a second regex pass per row.
    text = strip_ansi(pl.col("message"))
    df = df.with_columns(_text=text).with_columns(
        _head=pl.col("_text").str.extract(GATEWAY_HEAD, 0)
    )
    head = pl.col("_head")
    tag = head.str.extract(TAG, 0).str.strip_prefix("[").str.strip_suffix("]")
    df = df.with_columns(_tag=tag).with_columns(_tag_level=level_word(pl.col("_tag")))
    iso = head.str.extract(rf"^{ISO_STAMP}\s", 0).str.strip_chars_end()
    return df.with_columns(
        ts=pl.coalesce(parse_iso(iso), pl.col("ts")),
        subsystem=pl.when(pl.col("_tag_level").is_null())
        .then(pl.coalesce(pl.col("_tag"), pl.col("subsystem")))
        .otherwise(pl.col("subsystem")),
        level=pl.coalesce(pl.col("_tag_level"), pl.col("level")),
        message=pl.coalesce(pl.col("_text").str.slice(head.str.len_chars()), pl.col("message")),
    ).drop("_text", "_head", "_tag", "_tag_level")
