"""Classify physical lines (entry, continuation, noise, unparsed) and group them into entries.

The rule, vectorised over the whole lines frame:

- A *hard start* (the format's own prefix, e.g. a journald stamp) always begins an entry.
- Blank lines and recognised non-entries (`-- Boot … --`, catalog text, `systemctl status`
  blocks, shell prompts, journal tails) are `noise` and end the entry before them.
- A *soft start* (a bare gateway line: ISO or `HH:MM:SS` stamp, `[subsystem]`, `<Name>Error: `)
  begins an entry unless it sits in a reflowed entry, i.e. the segment's first entry is *open*:
  its message is empty, ends with `:`, or has an unclosed `"` (pasted excerpts reflow one
  journald line over several physical lines).
- Other lines directly after an entry are continuations when the entry is open (joined with a
  space) or when they are indented (joined with a newline); otherwise they are `unparsed`.
- Lines after a blank or noise line that start no entry are prose: `noise` when they read as
  text, `unparsed` when they do not.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\[[0-9;]+m"
HAS_ANSI = r"\x1b|\[[0-9;]+m"

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"
HMS = r"\d\d:\d\d:\d\d(?:\.\d{1,3})?"
TAG = r"\[[A-Za-z][\w./:@-]*\]"
UNIT = r"^(\S+\.(?:service|scope|socket|timer|mount|slice|target|path|device|swap))(?:\[|:|$)"
"""A systemd unit name at the start of a text (an ident, or systemd's message about a unit)."""
ERROR_NAME = r"[A-Z][A-Za-z0-9_$]*(?:Error|Exception)"

SOFT_START = (
    rf"^(?:{ISO}(?: |$)|{HMS} |{TAG}(?: |$)|{ERROR_NAME}(?::|\s)|Embedded agent failed"
    r"|subsystem=\S+: )"
)
NOISE = "|".join(
    (
        r"^--(?: |$)",  # boot separators, headers, cursor, catalog text
        r"^░░",
        r"^\s*●",  # systemctl status block
        r"^\s*(?:Loaded|Active|Main PID|Tasks|Memory|CPU|CGroup|Docs|Process|Status|TriggeredBy"
        r"|Triggers|Drop-In|IP|IO|Mem peak|Invocation): ",
        r"^\s*[└├│]",
        r"^\S+@\S+:\S*\s?[$#](?: |$)",  # user@host:~ $ …
        r"^[$#] ",
        r"^\[sudo\] ",
        r"^(?:Notice|Warning|Hint): ",
        r"^```",
    )
)
PROSE = r"^[^\x00-\x08\x0e-\x1f\x7f\x{FFFD}]*\p{L}{2}"
OPEN = rf"(?s)(?::\s*$|(?:^|: ){ISO}\s*(?:{TAG})?\s*$|(?:^|: ){TAG}\s*$)"


class LineClass(StrEnum):
    """What one physical line is."""

    ENTRY = "entry"
    CONTINUATION = "continuation"
    NOISE = "noise"
    UNPARSED = "unparsed"


def before_in_run(flag: str, run: str) -> pl.Expr:
    """How many rows with `flag` set come before each row in its run (the rows of one `run`
    value are contiguous): a cumulative sum less its value at the run's first row. Scans and a
    forward fill, where `.over(run)` would hash every row into its group (4x slower)."""
    before = pl.col(flag).cum_sum() - pl.col(flag)
    starts = (pl.col(run) != pl.col(run).shift(1)).fill_null(True)
    return before - pl.when(starts).then(before).forward_fill()


def clean_text(raw: pl.Expr) -> pl.Expr:
    """Null -> "", ANSI colour and OSC-8 links (with or without ESC) stripped."""
    text = raw.fill_null("")
    stripped = text.str.replace_all(ANSI, "").str.replace_all(r"  +", " ")
    return pl.when(text.str.contains(HAS_ANSI)).then(stripped).otherwise(text)


def with_text(lines: pl.DataFrame) -> pl.DataFrame:
    """Add `text` (see `clean_text`), running the ANSI regexes only on lines that need them."""
    has = lines.select(pl.col("raw").str.contains(HAS_ANSI).fill_null(False)).to_series()
    text = lines["raw"].fill_null("").alias("text")
    if has.any():
        fixed = lines.filter(has).select(clean_text(pl.col("raw")).alias("text")).to_series()
        text = text.scatter(has.arg_true(), fixed)
    return lines.with_columns(text)


def is_open(text: pl.Expr) -> pl.Expr:
    """The entry's text is incomplete: empty message, trailing `:`, or an odd number of `"`."""
    odd_quotes = (text.str.count_matches('"', literal=True) % 2) == 1
    return text.str.contains(OPEN) | odd_quotes


def split_simple(lines: pl.DataFrame, hard_start: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add `text`; split off the single-line entries (a hard start followed by a hard start).

    Those need no context; the rest (every other line and the entry line before it) goes
    through `classify`. In a clean journal nearly every line is simple.
    """
    df = with_text(lines)
    hard = pl.col("text").str.contains(hard_start) & ~pl.col("text").str.contains(r"^\s*$")
    df = df.with_columns(hard=hard)
    next_line = pl.col("line").shift(-1)
    next_ends = next_line.is_null() | (next_line != pl.col("line") + 1) | pl.col("hard").shift(-1)
    df = df.with_columns(simple=pl.col("hard") & next_ends)
    if df["simple"].all():
        return df.select("line", "text"), df.clear().drop("simple")
    rest = df.filter(~pl.col("simple")).drop("simple")
    return df.filter("simple").select("line", "text"), rest


def classify(lines: pl.DataFrame, hard_start: str) -> pl.DataFrame:
    """Add `cls` (LineClass value), `grp` (entry group id) and `piece` columns.

    `lines` has `line` (ascending, gaps allowed where the reader skipped whole entries), `raw`,
    `text` and `hard`. A gap is treated as an entry boundary.
    """
    text = pl.col("text")
    df = lines.lazy().with_columns(  # one plan, collected once
        breaker=text.str.contains(r"^\s*$") | text.str.contains(NOISE),
        soft=text.str.contains(SOFT_START),
        indented=text.str.contains(r"^\s"),
        open=is_open(text),
        gap=pl.col("line").diff().fill_null(0) != 1,
    )
    df = df.with_columns(hard=pl.col("hard") & ~pl.col("breaker"))
    boundary = (
        pl.col("hard") | pl.col("breaker") | pl.col("breaker").shift(1, fill_value=True)
    ) | pl.col("gap")
    df = df.with_columns(seg=boundary.cum_sum())
    seg_first = pl.col("seg").is_first_distinct()
    head_is_entry = (pl.col("hard") | pl.col("soft")) & ~pl.col("breaker")
    seg_open = (seg_first & head_is_entry & pl.col("open")).any().over("seg")
    start = pl.col("hard") | (pl.col("soft") & ~pl.col("breaker") & (seg_first | ~seg_open))
    df = df.with_columns(start=start, seg_first=seg_first)
    df = df.with_columns(grp=(pl.col("start") | pl.col("seg_first")).cum_sum())
    df = df.with_columns(
        grp_entry=pl.col("start").first().over("grp"),
        grp_open=pl.col("open").first().over("grp"),
    )
    return (
        df.with_columns(cls=_line_class(), piece=_piece())
        .drop("breaker", "hard", "soft", "open", "gap", "seg", "seg_first", "grp_entry")
        .collect()
    )


def _line_class() -> pl.Expr:
    joins = pl.col("grp_entry") & (pl.col("indented") | pl.col("grp_open"))
    prose = pl.col("text").str.contains(PROSE) | pl.col("indented")
    return (
        pl.when(pl.col("breaker"))
        .then(pl.lit(LineClass.NOISE.value))
        .when(pl.col("start"))
        .then(pl.lit(LineClass.ENTRY.value))
        .when(joins)
        .then(pl.lit(LineClass.CONTINUATION.value))
        .when(~pl.col("grp_entry") & prose)
        .then(pl.lit(LineClass.NOISE.value))
        .otherwise(pl.lit(LineClass.UNPARSED.value))
    )


def _piece() -> pl.Expr:
    """The line's share of its entry's joined text: reflowed parts join with a space."""
    sep = pl.when(pl.col("grp_open")).then(pl.lit(" ")).otherwise(pl.lit("\n"))
    reflowed = pl.col("text").str.strip_chars()
    body = pl.when(pl.col("grp_open")).then(reflowed).otherwise(pl.col("text"))
    return pl.when(pl.col("start")).then(pl.col("text")).otherwise(pl.concat_str(sep, body))


def entries(simple: pl.DataFrame, classified: pl.DataFrame) -> pl.DataFrame:
    """One row per entry: `line`, `end_line`, `text` (continuations joined), in file order."""
    cls = pl.col("cls")
    rows = classified.filter((cls == LineClass.ENTRY.value) | (cls == LineClass.CONTINUATION.value))
    single = simple.select("line", pl.col("line").alias("end_line"), "text")
    if not (rows["cls"] == LineClass.CONTINUATION.value).any():
        joined = rows.select("line", pl.col("line").alias("end_line"), "text")
    else:
        joined = _join(rows)
    if not joined.height:
        return single
    return pl.concat([single, joined]).sort("line")


def _join(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by("grp", maintain_order=True)
        .agg(
            pl.col("line").first(),
            pl.col("line").last().alias("end_line"),
            pl.col("piece").str.join(""),
        )
        .select("line", "end_line", pl.col("piece").alias("text"))
    )
