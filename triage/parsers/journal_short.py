"""journalctl's short family, bare OpenClaw console lines and pasted excerpts of both.

One parser serves every mode: the mode only decides which prefix starts an entry (the *hard
start*) and how its stamp is read. Inside each entry the journald prefix is split
(`<stamp>{ <host>} <ident>{[<pid>]}: <message>`; the ident runs to the first `[<digits>]: `,
else the first `: `), then the message is read as a gateway console line
(`{<time> }{[<subsystem>] }<message>`, or `openclaw logs`' `<level> <subsystem> {…} <message>`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from triage import timeinfer
from triage.events import LEVEL_DTYPE, PARSED_SCHEMA, SOURCE_DTYPE, Level, Source, conform
from triage.identity import MARKERS
from triage.literals import contains_any
from triage.parsers import classify as cl
from triage.parsers.base import Context, Format, Parsed
from triage.parsers.gateway_line import error_name
from triage.timeinfer import StampKind

CLASSIC = r"[^\W\d_][^\s\d]{1,7} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d{1,6})?"
ISO_JOURNAL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?[+-]\d\d:?\d\d"
FULL = r"[^\W\d_]{2,4}\.? \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})? \S+"
UNIX = r" ?\d{9,10}\.\d{6}"
MONO = r"\[ *\d+\.\d{6}(?: <[ \d.]+[ *]>| {16})?\]"
IDENT_AHEAD = r" (?:\S+ )?[^\s\[]\S*?(?:\[\d+\])?:(?: |$)"

LEVEL_TAGS = {
    "trace": "trace",
    "debug": "debug",
    "info": "info",
    "warn": "warn",
    "warning": "warn",
    "error": "error",
    "err": "error",
    "fatal": "fatal",
}


@dataclass(frozen=True, slots=True)
class Mode:
    """One journalctl output mode (or the bare gateway console): how its entries start."""

    name: str
    description: str
    example: str
    stamp: str | None
    """Regex of the stamp that opens an entry; None for bare gateway lines."""
    kind: StampKind
    hard_start: str


def _mode(name: str, description: str, example: str, stamp: str, kind: StampKind) -> Mode:
    return Mode(name, description, example, stamp, kind, rf"^{stamp}(?: |$)")


MODES = (
    _mode(
        "journal-short",
        "journalctl -o short / short-precise, classic syslog files",
        "May 19 13:43:45 casper node[963591]: 2026-05-19T13:43:45.077+00:00 [diagnostic] …",
        CLASSIC,
        StampKind.CLASSIC,
    ),
    Mode(
        "journal-short-iso",
        "journalctl -o short-iso / short-iso-precise",
        "2026-05-19T13:43:45+00:00 casper node[963591]: …",
        ISO_JOURNAL,
        StampKind.ISO,
        rf"^{ISO_JOURNAL}{IDENT_AHEAD}",
    ),
    _mode(
        "journal-short-full",
        "journalctl -o short-full",
        "Tue 2026-05-19 13:43:45 UTC casper node[963591]: …",
        FULL,
        StampKind.FULL,
    ),
    _mode(
        "journal-with-unit",
        "journalctl -o with-unit",
        "Tue 2026-05-19 13:43:45 UTC casper openclaw-gateway.service[963591]: …",
        FULL,
        StampKind.FULL,
    ),
    _mode(
        "journal-short-unix",
        "journalctl -o short-unix",
        "1779198225.077123 casper node[963591]: …",
        UNIX,
        StampKind.UNIX,
    ),
    _mode(
        "journal-short-monotonic",
        "journalctl -o short-monotonic / short-delta",
        "[ 5123.456789] casper node[963591]: …",
        MONO,
        StampKind.MONOTONIC,
    ),
    Mode(
        "gateway-console",
        "OpenClaw console lines, bare or via journalctl -o cat; `openclaw logs` output",
        "2026-05-19T13:45:17.707+00:00 [diagnostic] lane task error: lane=main …",
        None,
        StampKind.NONE,
        rf"^(?:{cl.ISO}|{cl.HMS})(?: |$)",
    ),
)
MODE_BY_NAME = {m.name: m for m in MODES}


def parse_lines(
    lines: pl.DataFrame,
    ctx: Context,
    mode: Mode,
    forced: Sequence[int] = (),
    runs: pl.DataFrame | None = None,
) -> Parsed:
    """Classify, group and read the lines of one input in `mode`.

    With a `keep` prefilter, only entries holding a keep literal or a session marker (the
    reader kept those because it could not tally them) and the entries starting at a `forced`
    line become events. `runs`: what the reader saw of the lines it left out, the months of
    classic stamps or the times of day of time-only ones (`timeinfer.RUN_SCHEMA`).
    """
    simple, rest = cl.split_simple(lines, mode.hard_start)
    classified = cl.classify(rest, mode.hard_start)
    counts = classified["cls"].value_counts()
    count = dict(zip(counts["cls"].to_list(), counts["count"].to_list(), strict=True))
    unparsed = classified.filter(pl.col("cls") == cl.LineClass.UNPARSED.value)["line"]
    grouped = cl.entries(simple, classified)
    del simple, rest, classified  # free the line copies before the fields are read
    n_entries = grouped.height
    if ctx.options.keep is not None:
        wanted = contains_any(pl.col("text"), [*ctx.options.keep, *MARKERS])
        grouped = grouped.with_columns(_wanted=wanted | pl.col("line").is_in(list(forced)))
        grouped = grouped.join(_segments(lines), on="line", how="left", maintain_order="left")
    frame = read_fields(grouped, mode).with_columns(
        header_end=pl.lit(timeinfer.header_end(lines), pl.Date)
    )
    # Times are resolved before the entries no rule needs are left out: a time-only stamp
    # takes its date from the entries around it, wanted or not (as in a full parse).
    frame, notes = timeinfer.resolve(frame, mode.kind, ctx, runs)
    if ctx.options.keep is not None:
        frame = frame.filter("_wanted")
    time_only = frame.select(timeinfer.TIME_ONLY.sum()).item() if frame.height else 0
    events = conform(frame.with_columns(file=pl.lit(ctx.path)), PARSED_SCHEMA)
    return Parsed(
        events=events,
        entries=n_entries,
        continuations=count.get(cl.LineClass.CONTINUATION.value, 0),
        noise=count.get(cl.LineClass.NOISE.value, 0),
        unparsed=len(unparsed),
        first_unparsed=int(unparsed[0]) if len(unparsed) else None,
        notes=notes,
        time_only=time_only,
    )


def _segments(lines: pl.DataFrame) -> pl.DataFrame:
    """`line`, `_segment`: runs of read lines with no line left out between them (a prefiltered
    read skips entry lines; `timeinfer.clock_jumps` compares neighbours only within a run)."""
    gap = (pl.col("line").diff().fill_null(1) > 1).cum_sum()
    return lines.select("line", _segment=gap)


def read_fields(entries: pl.DataFrame, mode: Mode) -> pl.DataFrame:
    """From `line`, `end_line`, `text` to the parsed columns plus the raw stamps for timeinfer.

    Works with offsets into `text`: the prefixes are read from short pieces and the message is
    the only long string copied (a regex with many capture groups, or a copy per step, costs
    several times more per line).
    """
    # The prefix steps are one lazy plan, collected once (an eager call per step made ~25).
    if mode.stamp is None:
        plan = entries.lazy().with_columns(stamp=pl.lit(None, pl.String))
    else:
        stamp = pl.col("text").str.extract(rf"^{mode.stamp}(?: |$)", 0)
        plan = entries.lazy().with_columns(stamp=stamp.str.strip_chars_end(" "))
    plan = _gateway_fields(_journal_prefix(plan))
    df = plan.drop("text", "head", "word", "ident_pid", "prefix", "at").collect()
    df = df.with_columns(
        source=_source(pl.col("stamp").is_not_null()).cast(SOURCE_DTYPE),
        unit=_unit(),
        error=_on_subset(
            df,
            contains_any(pl.col("message"), ["Error", "Exception"]),
            error_name(pl.col("message")),
        ),
    )
    return df.with_columns(level=_level())


def _journal_prefix(df: pl.LazyFrame) -> pl.LazyFrame:
    """Host, ident and pid from `<stamp> {<host> }<ident>{[<pid>]}: `; `at`: the body offset."""
    text = pl.col("text")
    journal = pl.col("stamp").is_not_null()
    skip = pl.col("stamp").str.len_chars().cast(pl.Int64) + 1
    first = text.str.split_exact(": ", 1).struct.field("field_0")
    has_sep = journal & text.str.contains(": ", literal=True)
    bare_colon = journal & ~has_sep & text.str.ends_with(":")
    head = pl.when(has_sep).then(first.str.slice(skip)).when(bare_colon)
    df = df.with_columns(head=head.then(text.str.slice(skip).str.head(-1)))
    elided = text.str.slice(skip, 4).str.contains(r"^\.\.\.(?: |$)")
    at = (
        pl.when(~journal)
        .then(0)
        .when(has_sep)
        .then(first.str.len_chars().cast(pl.Int64) + 2)
        .when(bare_colon)
        .then(text.str.len_chars().cast(pl.Int64))
        .when(elided)
        .then(skip + 4)
        .otherwise(skip)
    )
    df = df.with_columns(at=at, word=pl.col("head").str.split_exact(" ", 1))
    host = pl.col("word").struct.field("field_0")
    has_host = pl.col("word").struct.field("field_1").is_not_null()
    ident = pl.when(has_host).then(pl.col("head").str.slice(host.str.len_chars() + 1))
    df = df.with_columns(
        host=pl.when(has_host).then(host),
        ident_pid=ident.otherwise(pl.col("head")).str.strip_chars_start(),
    )
    pid = pl.col("ident_pid").str.extract(r"\[(\d+)\]$")
    return df.with_columns(
        pid=pid.cast(pl.Int64, strict=False),
        ident=pl.when(pid.is_not_null())
        .then(pl.col("ident_pid").str.head(-(pid.str.len_chars().cast(pl.Int64) + 2)))
        .otherwise(pl.col("ident_pid")),
    )


GATEWAY_PREFIX = (
    rf"^(?:(?:{cl.ISO}|{cl.HMS})(?: |$))?"
    r"(?:(?:trace|debug|info|warn|error|fatal) [\w./-]+ \{[^{}]*\}(?: |$))?"
    r"(?:subsystem=[\w./-]+:(?: |$))?"
    r"(?:\[[A-Za-z][\w./:@-]*\](?: |$))?"
)
PREFIX_WINDOW = 400


def _gateway_fields(df: pl.LazyFrame) -> pl.LazyFrame:
    """Read `{<time> }{<level> <subsystem> {…} }{subsystem=<s>: }{[<tag>] }` at the body start."""
    window = pl.col("text").str.slice(pl.col("at"), PREFIX_WINDOW)
    df = df.with_columns(prefix=window.str.extract(GATEWAY_PREFIX, 0).fill_null(""))
    df = df.with_columns(
        message=pl.col("text").str.slice(pl.col("at") + pl.col("prefix").str.len_chars())
    )
    df = df.with_columns(body=pl.col("prefix"))
    for name, pattern in (
        ("gw_iso", cl.ISO),
        ("gw_hms", cl.HMS),
        ("logs", r"(?:trace|debug|info|warn|error|fatal) [\w./-]+ \{[^{}]*\}"),
        ("sub_eq", r"subsystem=[\w./-]+:"),
        ("tag", r"\[[A-Za-z][\w./:@-]*\]"),
    ):
        df = _peel(df, name, pattern)
    df = df.with_columns(tag=pl.col("tag").str.slice(1).str.head(-1)).drop("body")
    tag_level = pl.col("tag").str.to_lowercase().replace_strict(LEVEL_TAGS, default=None)
    logs = pl.col("logs").str.split_exact(" ", 2)
    return df.with_columns(
        subsystem=pl.coalesce(
            logs.struct.field("field_1"),
            pl.col("sub_eq").str.slice(10).str.head(-1),
            pl.when(tag_level.is_null()).then(pl.col("tag")),
        ),
        tag_level=pl.coalesce(logs.struct.field("field_0"), tag_level),
        lvl=logs.struct.field("field_0"),
    )


def _peel(df: pl.LazyFrame, name: str, pattern: str) -> pl.LazyFrame:
    """Move a leading `pattern` (and the space after it) from the short `body` into `name`."""
    body = pl.col("body")
    df = df.with_columns(body.str.extract(rf"^(?:{pattern})(?: |$)", 0).alias(name))
    found = pl.col(name)
    return df.with_columns(
        body=pl.when(found.is_null()).then(body).otherwise(body.str.slice(found.str.len_chars())),
        **{name: found.str.strip_chars_end(" ")},
    )


def _on_subset(df: pl.DataFrame, mask: pl.Expr, expr: pl.Expr) -> pl.Series:
    """Evaluate `expr` only on the rows `mask` selects (null elsewhere): regexes cost per row."""
    picked = df.select(mask.fill_null(False)).to_series()
    values = df.filter(picked).select(expr).to_series()
    out = pl.Series(values.name, [None] * df.height, dtype=values.dtype)
    return out.scatter(picked.arg_true(), values) if values.len() else out


def _source(journal: pl.Expr) -> pl.Expr:
    return (
        pl.when(journal)
        .then(pl.lit(Source.JOURNAL.value))
        .when(pl.col("lvl").is_not_null())
        .then(pl.lit(Source.OPENCLAW_LOGS.value))
        .otherwise(pl.lit(Source.GATEWAY.value))
    )


def _unit() -> pl.Expr:
    ident_unit = pl.col("ident").str.split("/").list.last().str.extract(cl.UNIT)
    systemd_unit = pl.when(pl.col("ident") == "systemd").then(
        pl.col("message").str.slice(0, 120).str.extract(cl.UNIT)
    )
    return pl.coalesce(ident_unit, systemd_unit)


def _level() -> pl.Expr:
    failed = pl.col("error").is_not_null() | pl.col("message").str.starts_with(
        "Embedded agent failed"
    )
    error = pl.when(failed).then(pl.lit(Level.ERROR.value))
    return pl.coalesce("tag_level", error).cast(LEVEL_DTYPE)


def _fmt(mode: Mode) -> Format:
    return Format(
        name=mode.name,
        description=mode.description,
        example=mode.example,
        parse=lambda lines, ctx: parse_lines(lines, ctx, mode),
        sniff=lambda head: sniff(head, mode),
    )


def sniff(head: list[str], mode: Mode) -> float:
    """Share of the non-blank head lines that start an entry in `mode` (0..1)."""
    return _scores(tuple(head)).get(mode.name, 0.0)


@functools.lru_cache(maxsize=4)
def _scores(head: tuple[str, ...]) -> dict[str, float]:
    """Every mode's `sniff` score of one head, from one select (detection asks each mode in
    turn; a select per mode cost ~1 ms each)."""
    lines = [line for line in head if line.strip()]
    if not lines:
        return {}
    text = cl.clean_text(pl.col("raw"))
    hits = pl.DataFrame({"raw": lines}, schema={"raw": pl.String}).select(
        *(text.str.contains(m.hard_start).sum().alias(m.name) for m in MODES),
        _units=text.str.contains(rf"^{FULL} (?:\S+ )?\S+\.service").any(),
    )
    scores = {m.name: hits[m.name][0] / len(lines) for m in MODES}
    if scores.get("journal-with-unit"):
        scores["journal-with-unit"] += 0.01 if hits["_units"][0] else -0.01
    return scores


FORMATS = tuple(_fmt(m) for m in MODES)
