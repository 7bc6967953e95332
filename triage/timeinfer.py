"""Turn the stamps a parser read into one UTC `ts` per entry, saying what was guessed.

`ts` is the gateway's own ISO stamp when present (it carries its zone), else the journald
stamp. Year-less journald stamps take their year from `--year`, else from the gateway ISO
stamps in the same capture, else the file's mtime, else now (the reference is the year of the
last entry); a month falling by 6 or more from one entry to the next is a new year, a rise by 6
or more a step back (out-of-order lines around New Year). Zone-less stamps take the offset
learnt from entries carrying both clocks, else `--tz`, else UTC. Time-only gateway stamps
(`13:43:45`, UTC) count midnights the same way: a fall of over 12 h from one entry's time of day
to the next is a new day, dated from the nearest dated entry (else the file's mtime, the day of
the last entry). File order is never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import polars as pl

from triage.events import UTC_US

if TYPE_CHECKING:  # the parsers package imports this module
    from triage.parsers.base import Context

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan janv january janvier jänner januar enero gennaio janeiro januari ene gen",
        "feb févr fevr february février februar febrero febbraio fevereiro februari fév fev",
        "mar mär mars march märz marzo março maart mrz",
        "apr avr april avril abril aprile",
        "may mai mayo maggio maio mei mag",
        "jun juin june juni junio giugno junho giu",
        "jul juil july juillet juli julio luglio julho lug",
        "aug août aout august agosto augustus ago",
        "sep sept september septembre septiembre settembre setembro set",
        "oct okt october octobre oktober octubre ottobre outubro out ott",
        "nov november novembre noviembre novembro",
        "dec déc dez dic december décembre dezember diciembre dicembre dezembro",
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names.split(), _number))

ROLLOVER_MONTHS = 6
BACKWARD_TOLERANCE = timedelta(minutes=5)
FORWARD_JUMP = timedelta(hours=1)
MAX_JUMP_NOTES = 5
UTC_ZONES = {"UTC", "GMT", "UT", "Z"}


class StampKind(StrEnum):
    """How a format's entry stamp is written."""

    CLASSIC = "classic"  # `May 19 13:43:45(.ffffff)`: no year, no zone
    ISO = "iso"  # `2026-05-19T13:43:45(.ffffff)+00:00`
    FULL = "full"  # `Tue 2026-05-19 13:43:45 UTC`: zone as an abbreviation
    UNIX = "unix"  # `1779198225.077123`
    MONOTONIC = "monotonic"  # `[ 5123.456789]`: no wall clock
    NONE = "none"  # bare gateway lines: only the gateway's own stamp


def parse_iso(col: pl.Expr) -> pl.Expr:
    """ISO 8601 with `Z`, `+HH:MM` or `+HHMM` -> UTC datetime (null when invalid)."""
    normal = col.str.replace("Z", "+0000", literal=True)
    return normal.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False
    )


def resolve(
    df: pl.DataFrame, kind: StampKind, ctx: Context, runs: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Add `ts` and `ts_inferred` from `stamp`, `gw_iso`, `gw_hms`; return notes too.

    `runs` (RUN_SCHEMA): from a prefiltered read, the months (classic stamps) or times of day
    (the bare console) of the entry lines it left out, for new years and midnights to be
    counted over every entry, as a full parse counts them over `df`."""
    notes: list[str] = []
    df = df.with_columns(gw_ts=parse_iso(pl.col("gw_iso")))
    if not df.height:
        return df.with_columns(ts=pl.col("gw_ts"), ts_inferred=pl.lit(None, pl.Boolean)), ()
    journal, inferred, note = _journal_ts(df, kind, ctx, runs)
    notes.extend(note)
    df = df.with_columns(j_ts=journal, j_inferred=inferred)
    df = df.with_columns(
        ts=pl.coalesce("gw_ts", "j_ts"),
        ts_inferred=pl.when(pl.col("gw_ts").is_not_null())
        .then(False)
        .otherwise(pl.col("j_inferred")),
    )
    df = _time_only(df, ctx, runs if kind is StampKind.NONE else None)
    notes.extend(clock_jumps(df, ctx.path))
    return df, tuple(notes)


def _journal_ts(
    df: pl.DataFrame, kind: StampKind, ctx: Context, runs: pl.DataFrame | None
) -> tuple[pl.Series, pl.Series, list[str]]:
    stamp = df["stamp"]
    none = pl.Series("j", [None] * df.height, UTC_US)
    if kind is StampKind.ISO:
        ts = df.select(parse_iso(pl.col("stamp"))).to_series()
        return ts, _flags(False, df.height), []
    if kind is StampKind.UNIX:
        micros = (
            stamp.str.strip_chars().str.replace(".", "", literal=True).cast(pl.Int64, strict=False)
        )
        ts = micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        return ts, _flags(False, df.height), []
    if kind is StampKind.CLASSIC:
        return _classic(df, ctx, runs)
    if kind is StampKind.FULL:
        return _full(df, ctx)
    return none, _flags(True, df.height), []


def _flags(value: bool, height: int) -> pl.Series:
    return pl.repeat(value, height, dtype=pl.Boolean, eager=True)


def _classic(
    df: pl.DataFrame, ctx: Context, runs: pl.DataFrame | None = None
) -> tuple[pl.Series, pl.Series, list[str]]:
    groups = r"^(?P<mon>\S+) +(?P<day>\d+) (?P<hms>\S+)$"
    parts = df.select(pl.col("stamp").str.extract_groups(groups)).unnest("stamp")
    parts = parts.with_columns(
        mon=month_number(pl.col("mon")), day=pl.col("day").cast(pl.Int32, strict=False)
    )
    month, day = parts["mon"], parts["day"]
    step = counted_steps(df.select("line", value=month), runs, _step).steps
    year, note = _anchor_years(df, month, day, step, ctx)
    naive = pl.DataFrame({"y": year, "m": month, "d": day, "hms": parts["hms"]}).select(
        _local_datetime(pl.col("y"), pl.col("m"), pl.col("d"), pl.col("hms"))
    )["local"]
    ts, zone_note = _zone(df, naive, ctx)
    inferred = _flags(ctx.options.year is None or ctx.options.tz is None, df.height)
    return ts, inferred, [n for n in (note, zone_note) if n]


def _local_datetime(year: pl.Expr, month: pl.Expr, day: pl.Expr, hms: pl.Expr) -> pl.Expr:
    """Naive local datetime; Feb 29 in a common year moves to the nearest leap year."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    shift = (year % 4).replace_strict({0: 0, 1: -1, 2: 2, 3: 1}, default=0)
    year = pl.when((month == 2) & (day == 29) & ~leap).then(year + shift).otherwise(year)
    valid = month.is_between(1, 12) & day.is_between(1, 31)
    first = pl.date(year, pl.when(valid).then(month).otherwise(1), 1)
    frac = hms.str.slice(9).str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    clock = pl.duration(
        days=day - 1,
        hours=hms.str.slice(0, 2).cast(pl.Int64, strict=False),
        minutes=hms.str.slice(3, 2).cast(pl.Int64, strict=False),
        seconds=hms.str.slice(6, 2).cast(pl.Int64, strict=False),
        microseconds=frac.fill_null(0),
    )
    local = first.cast(pl.Datetime("us")) + clock
    return pl.when(valid).then(local).alias("local")


def month_number(token: pl.Expr) -> pl.Expr:
    """A classic stamp's month token (`May`, `Sept.`, `déc`) as 1..12, else null."""
    name = token.str.to_lowercase().str.strip_chars(".")
    return name.replace_strict(MONTHS, default=None, return_dtype=pl.Int32)


def _step(prev: pl.Expr, month: pl.Expr) -> pl.Expr:
    """+1 for a month fall of half a year or more (a new year), -1 for such a rise, else 0."""
    drop = (prev - month).fill_null(0)
    new_year = pl.when(drop >= ROLLOVER_MONTHS).then(1)
    return new_year.when(drop <= -ROLLOVER_MONTHS).then(-1).otherwise(0)


Stepper = Callable[[pl.Expr, pl.Expr], pl.Expr]
"""`step(before, now)`: the steps (new years, midnights) between two entries' values."""
RUN_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.UInt32(),
    "first": pl.Int32(),
    "last": pl.Int32(),
    "inner": pl.Int32(),
}
"""A run of consecutive entry lines a prefiltered read left out: its first line, the first
and last value (a month, a time of day in seconds) and the steps within it."""


@dataclass(frozen=True, slots=True)
class Counted:
    """Steps counted over a sequence of entries and left-out runs (`counted_steps`)."""

    steps: pl.Series
    """Cumulative steps at each entry."""
    total: int
    """Cumulative steps at the end of the sequence."""
    last: int | None
    """The sequence's last value."""


def counted_steps(values: pl.DataFrame, runs: pl.DataFrame | None, step: Stepper) -> Counted:
    """Steps since the first value, over entries (`line`, `value`; in file order) and the
    `runs` of left-out entries between them (RUN_SCHEMA): null values are skipped.

    A left-out line that the reader reads back as an entry (the entry before a continuation,
    the input's last entry) ends its run, as a kept line or the input's end follows it: its
    value then comes twice in a row, which is no step.
    """
    entries = values.select(
        "line",
        _row=pl.int_range(pl.len(), dtype=pl.UInt32),
        first=pl.col("value").cast(pl.Int32),
        last=pl.col("value").cast(pl.Int32),
        inner=pl.lit(0, pl.Int32),
    )
    sequence = entries if runs is None else pl.concat([entries, runs], how="diagonal_relaxed")
    before = pl.col("last").shift(1).forward_fill()
    counted = sequence.sort("line", maintain_order=True).with_columns(
        step=(step(before, pl.col("first")) + pl.col("inner")).cum_sum()
    )
    ends = counted["last"].drop_nulls()
    return Counted(
        steps=counted.filter(pl.col("_row").is_not_null()).sort("_row")["step"],
        total=int(counted["step"][-1]) if counted.height else 0,
        last=int(ends[-1]) if ends.len() else None,
    )


def dropped_runs(
    lines: pl.DataFrame, dropped: pl.Series, value: pl.Expr, step: Stepper
) -> pl.DataFrame:
    """The `value`s of a block's left-out lines (`line`, `raw`: entry lines), per run of
    consecutive left-out lines (RUN_SCHEMA), for `counted_steps`."""
    starts = dropped & ~dropped.shift(1, fill_value=False)
    valued = lines.select("line", value=value, run=starts.cum_sum(), dropped=dropped).filter(
        pl.col("dropped") & pl.col("value").is_not_null()
    )
    if not valued.height:
        return pl.DataFrame(schema=RUN_SCHEMA)
    runs = valued.group_by("run", maintain_order=True).agg(
        pl.col("line").first(),
        first=pl.col("value").first(),
        last=pl.col("value").last(),
        inner=step(pl.col("value").shift(1), pl.col("value")).sum(),
    )
    return runs.select(list(RUN_SCHEMA)).cast(RUN_SCHEMA)  # type: ignore[arg-type]


def month_runs(lines: pl.DataFrame, dropped: pl.Series) -> pl.DataFrame:
    """`dropped_runs` of classic stamps' months. A block whose left-out lines start with one
    month token (the usual case) costs one literal test per line."""
    out = lines.filter(dropped)
    if not out.height:
        return pl.DataFrame(schema=RUN_SCHEMA)
    token = str(out["raw"][0]).split(" ", 1)[0]
    if out.select(pl.col("raw").str.starts_with(token + " ").all()).item():
        month = pl.lit(pl.select(month_number(pl.lit(token))).item(), pl.Int32)
    else:
        month = month_number(pl.col("raw").str.extract(r"^\S+", 0))
    return dropped_runs(lines, dropped, month, _step)


def day_runs(lines: pl.DataFrame, dropped: pl.Series) -> pl.DataFrame:
    """`dropped_runs` of time-only stamps' times of day (seconds)."""
    return dropped_runs(lines, dropped, seconds_of_day(pl.col("raw")), day_step)


def _anchor_years(
    df: pl.DataFrame, month: pl.Series, day: pl.Series, step: pl.Series, ctx: Context
) -> tuple[pl.Series, str | None]:
    """Absolute years: `--year`, else gateway ISO years, else a journal header's end date, else
    mtime, else now (each taken as the year of the last entry)."""
    last_step = int(step[-1]) if len(step) else 0
    if ctx.options.year is not None:
        return step - last_step + ctx.options.year, None
    known = (df["gw_ts"].dt.year() - step).drop_nulls()
    if known.len():
        return step + int(known.mode().sort()[0]), None
    header = df["header_end"][0] if "header_end" in df.columns and df.height else None
    if header is not None:
        reference, source = header, "journal header"
    elif ctx.mtime is not None:
        reference, source = ctx.mtime, "file mtime"
    else:
        reference, source = datetime.now(UTC), "current date"
    last_year = reference.year
    last = (month.drop_nulls().tail(1).to_list() or [None])[0]
    last_day = (day.drop_nulls().tail(1).to_list() or [None])[0]
    future = (last or 0, last_day or 0) > (reference.month, reference.day + 1)
    if last is not None and last_day is not None and future:
        last_year -= 1
    note = f"year inferred from the {source} ({last_year} for the last entry); use --year to set it"
    return step - last_step + last_year, note


HEADER = (
    r"^-- (?:Logs begin at|Journal begins at) .*?(\d{4}-\d\d-\d\d)"
    r"(?:.*?, ends? at .*?(\d{4}-\d\d-\d\d))?"
)


def header_end(lines: pl.DataFrame) -> date | None:
    """The end (else begin) date of a `-- Logs begin at … --` header in the first lines."""
    head = (
        lines.head(5).select(pl.col("raw").fill_null("").str.extract_groups(HEADER)).unnest("raw")
    )
    for begin, end in head.rows():
        if begin or end:
            return date.fromisoformat(end or begin)
    return None


def _zone(df: pl.DataFrame, naive: pl.Series, ctx: Context) -> tuple[pl.Series, str | None]:
    """Local naive datetimes to UTC: learnt offset, else `--tz`, else UTC."""
    gw = df["gw_ts"].dt.replace_time_zone(None)
    diff = (naive - gw).dt.total_minutes().drop_nulls()
    if diff.len():
        minutes = int(round(float(diff.median() or 0) / 15) * 15)  # type: ignore[arg-type]
        return (naive - timedelta(minutes=minutes)).dt.replace_time_zone("UTC"), None
    if ctx.options.tz:
        local = naive.dt.replace_time_zone(
            ctx.options.tz, ambiguous="earliest", non_existent="null"
        )
        return local.dt.convert_time_zone("UTC"), None
    return naive.dt.replace_time_zone("UTC"), None


def _full(df: pl.DataFrame, ctx: Context) -> tuple[pl.Series, pl.Series, list[str]]:
    parts = df.select(
        pl.col("stamp").str.extract_groups(r"^\S+ (?P<dt>\S+ \S+) (?P<zone>\S+)$")
    ).unnest("stamp")
    naive = parts["dt"].str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    zone = parts["zone"]
    hours = zone.str.extract(r"^([+-]\d\d)(?:\d\d)?$").cast(pl.Int64, strict=False)
    minutes = zone.str.extract(r"^[+-]\d\d(\d\d)$").cast(pl.Int64, strict=False).fill_null(0)
    offset_min = hours.fill_null(0) * 60 + minutes * hours.fill_null(1).sign().replace(0, 1)
    known = zone.is_in(list(UTC_ZONES)) | hours.is_not_null()
    shift = (offset_min * 60_000_000).cast(pl.Duration("us"))
    utc_known = (naive - shift).dt.replace_time_zone("UTC")
    guessed, _ = _zone(df, naive, ctx)
    ts = pl.select(pl.when(known).then(utc_known).otherwise(guessed)).to_series()
    inferred = ~known & _flags(ctx.options.tz is None, df.height)
    return ts, inferred, []


TIME_ONLY = pl.col("gw_ts").is_null() & pl.col("j_ts").is_null() & pl.col("gw_hms").is_not_null()
"""After `resolve`: the entries whose only stamp is a time of day (`_time_only` dates them)."""


HALF_DAY_SECONDS = 12 * 3600
MTIME_SLACK_SECONDS = 300
"""How far past the file's mtime (in its day) a last time-only entry may be and still be of
that day (clocks of writer and file system differ a little)."""


def seconds_of_day(text: pl.Expr) -> pl.Expr:
    """`HH:MM:SS` at the start of `text` as seconds since midnight (fraction dropped), or null.
    The prefilter and the parser read times of day with this one expression."""
    return _seconds(text.str.slice(0, 8).str.to_time("%H:%M:%S", strict=False))


def _seconds(time: pl.Expr) -> pl.Expr:
    """A time's (or datetime's) hour, minute and second as seconds since midnight. The parts
    are 8-bit: widened first, or 59 minutes would overflow."""
    part = [time.dt.hour(), time.dt.minute(), time.dt.second()]
    hour, minute, second = (p.cast(pl.Int32) for p in part)
    return hour * 3600 + minute * 60 + second


def day_step(before: pl.Expr, now: pl.Expr) -> pl.Expr:
    """1 where the time of day falls by over 12 h from `before` to `now` (midnight passed)."""
    return ((before - now) > HALF_DAY_SECONDS).fill_null(False).cast(pl.Int32)


def _time_only(df: pl.DataFrame, ctx: Context, runs: pl.DataFrame | None) -> pl.DataFrame:
    """Date the `HH:MM:SS` gateway stamps without a date of their own.

    Midnights are counted over every entry's time of day (UTC; `runs` adds those a prefiltered
    read left out): a fall of over 12 h is a new day. A time-only entry takes the date of the
    nearest dated entry before it plus the midnights since, else of the one after it less the
    midnights until it, else the day of the file's modification time (or today) for the last
    entry less the midnights until that one.
    """
    need = pl.col("ts").is_null() & pl.col("gw_hms").is_not_null()
    if not df.select(need.any()).item():
        return df
    ts = pl.col("ts")
    values = df.select(
        "line", value=pl.when(need).then(seconds_of_day(pl.col("gw_hms"))).otherwise(_seconds(ts))
    )
    counted = counted_steps(values, runs, day_step)
    total, days = counted.total, counted.steps
    end = _last_day(ctx, counted.last)
    # Dates as day numbers (days since 1970) so that midnights add as integers.
    dated = ts.is_not_null()
    day, date_number = pl.col("_day"), pl.when(dated).then(ts.dt.date().cast(pl.Int32))
    anchor_day = pl.when(dated).then(day)
    stamped = pl.coalesce(
        _on_day(date_number.forward_fill() + day - anchor_day.forward_fill()),
        _on_day(date_number.backward_fill() - (anchor_day.backward_fill() - day)),
        _on_day(pl.lit(end).cast(pl.Int32) - (total - day)),
    )
    return (
        df.with_columns(_day=days)
        .with_columns(
            ts=pl.when(need).then(stamped).otherwise(ts),
            ts_inferred=pl.when(need).then(True).otherwise(pl.col("ts_inferred")),
        )
        .drop("_day")
    )


def _last_day(ctx: Context, last_tod: int | None) -> date:
    """The day of the last entry when no entry has a date: the file's mtime (else now), or the
    day before when the last time of day lies past the mtime's in its day."""
    reference = ctx.mtime or datetime.now(UTC)
    reference = reference.astimezone(UTC) if reference.tzinfo else reference.replace(tzinfo=UTC)
    now = reference.hour * 3600 + reference.minute * 60 + reference.second
    if last_tod is not None and last_tod > now + MTIME_SLACK_SECONDS:
        return reference.date() - timedelta(days=1)
    return reference.date()


def _on_day(day: pl.Expr) -> pl.Expr:
    """The entry's `gw_hms` on `day` (a day number, days since 1970; UTC), or null."""
    text = pl.concat_str(day.cast(pl.Date).cast(pl.String), pl.lit(" "), pl.col("gw_hms"))
    return text.str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC", strict=False
    )


def clock_jumps(df: pl.DataFrame, path: str) -> list[str]:
    """Notes for backward steps beyond tolerance and forward jumps over an hour, in file order.

    With a `_segment` column (a prefiltered read: runs of entries with no line left out between
    them), only entries of one run are compared: across a left-out stretch the step between
    two kept entries is not one between neighbours (an hour without a kept line is no jump).
    """
    stamped = df.filter(pl.col("ts").is_not_null())
    step = pl.col("ts").diff()
    if "_segment" in df.columns:
        step = pl.when(pl.col("_segment") == pl.col("_segment").shift(1)).then(step)
    delta = stamped.select("line", d=step)
    back = delta.filter(pl.col("d") < -BACKWARD_TOLERANCE)["line"].to_list()
    fwd = delta.filter(pl.col("d") > FORWARD_JUMP)["line"].to_list()
    notes = [f"clock jump backwards at {path}:{n}" for n in back[:MAX_JUMP_NOTES]]
    notes += [f"clock jump forwards (over 1 h) at {path}:{n}" for n in fwd[:MAX_JUMP_NOTES]]
    extra = max(len(back) - MAX_JUMP_NOTES, 0) + max(len(fwd) - MAX_JUMP_NOTES, 0)
    if extra:
        notes.append(f"{extra} more clock jumps in {path}")
    return notes
