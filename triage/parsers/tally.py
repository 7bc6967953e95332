"""The prefilter, block by block: keep the entries the rules need, tally the session lines.

With a `keep` prefilter the reader materialises only (a) lines holding a keep literal, (b) lines
that do not start an entry (continuations, noise: needed to classify), (c) session lines it
cannot tally exactly. The other entries are counted, and the ones that name a session (a key
or id, `identity.MARKERS`) are tallied instead of kept: the key <-> id pairs they teach and a
per-(key, id) count with first and last time. Only lines whose time is the gateway's ISO stamp
at the start of the message (no ANSI, no `openclaw logs` or `subsystem=` prefix) and that name
no `.jsonl` path (a few lock and error lines: kept) are tallied, so the tally reads key, id and
time as the parser and `identity` would (key and id with `identity`'s expressions, over the
message with that stamp and its `[tag]` still in front: neither can hold a `key=value`).

The cost is per line and expression (polars, about 0.1 us each), so the work is shaped to few
expressions: the all-line scans in one select (keep literals through `anchors` on big inputs),
each session line's name tokens found in one pass (`NAMES`), lines grouped by those tokens and
their stamp's length and offset, and key, id and time read once per group after all blocks
(stamps of one shape sort as text: only each group's first and last is parsed).

Each block also yields its last entry line (the sentinel giving the input's end time) and its
line-width statistics (for the pager-chop notes over every line, not only the kept ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from triage.events import UTC_US
from triage.identity import MARKERS, NAMES, PAIR_SCHEMA, session_fields
from triage.literals import alternation
from triage.parsers import classify as cl
from triage.parsers.reader import copied, numbered
from triage.timeinfer import day_runs, month_runs, parse_iso

TALLY_SCHEMA: dict[str, pl.DataType] = {
    "session_key": pl.String(),
    "session_id": pl.String(),
    "events": pl.UInt32(),
    "first": UTC_US,
    "last": UTC_US,
}
ENDINGS = 3
"""Distinct line endings at the top width worth remembering (the cut note needs three)."""
MARKED = alternation(MARKERS)
STRICT_ISO = (
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)"
)
"""`classify.ISO` with the fields in range: a stamp it accepts parses (bar a day past its
month's end, which is tallied by its text order)."""
STAMPED = rf"^{STRICT_ISO}(?: |$)"
LEVEL = r"(?:trace|debug|info|warn|error|fatal) |subsystem="
HEAD = rf"{STAMPED}(?:(?:{cl.TAG}(?: |$))?(?:{LEVEL}))?"
"""A message's stamp, with the `[tag]` and `openclaw logs` level or `subsystem=` prefix after it
when it has one (the parser reads such messages differently): leftmost-first, the optional
part matches whenever it can, so a plain message yields its stamp alone, and one regex pass
does the work of two."""
LEVELLED = r"[a-z] $|=$"
"""A `HEAD` match's last characters that tell a level or `subsystem=` after the stamp (a stamp
ends with `Z` or a digit, and the space after it)."""
UNTALLIED = rf"{cl.HAS_ANSI}|\.jsonl"
"""Lines kept rather than tallied: ANSI codes (the parser strips them) or a session path (its id
is read from the whole message, not from name tokens)."""


@dataclass(frozen=True, slots=True)
class Widths:
    """Line widths of some lines: enough to tell a pager chop or a hard width ceiling."""

    lines: int = 0
    """Non-empty lines."""
    top: int = 0
    at_top: int = 0
    chopped: int = 0
    """Lines at the top width ending with `>`."""
    endings: frozenset[str] = frozenset()
    """Up to `ENDINGS` distinct last-12-character endings of the lines at the top width."""

    def merge(self, other: Widths) -> Widths:
        """The statistics of both sets of lines."""
        if other.top != self.top:
            wide = self if self.top > other.top else other
            lines = self.lines + other.lines
            return Widths(lines, wide.top, wide.at_top, wide.chopped, wide.endings)
        endings = frozenset(sorted(self.endings | other.endings)[:ENDINGS])
        return Widths(
            self.lines + other.lines,
            self.top,
            self.at_top + other.at_top,
            self.chopped + other.chopped,
            endings,
        )


def widths(lines: pl.DataFrame) -> Widths:
    """The width statistics (in characters) of a lines frame (`raw`).

    A line's byte length is free and at least its character count, so a widest line is at least
    as long in bytes as the longest line (in bytes) is in characters: only lines that long are
    counted in characters (on ASCII text, the longest lines alone).
    """
    raw = pl.col("raw")
    size = lines["raw"].str.len_bytes()
    known = size.len() - size.null_count()
    if not known:
        return Widths()
    longest = int(size.max())  # type: ignore[arg-type]
    floor = lines.filter(size == longest)["raw"].str.len_chars().max()
    wide = lines.filter(size >= floor).with_columns(width=raw.str.len_chars())
    top = int(wide["width"].max())  # type: ignore[arg-type]
    at_top = wide.filter(pl.col("width") == top).select(
        chop=raw.str.ends_with(">").sum(),
        end=raw.str.slice(-12).unique(),
        count=pl.len(),
    )
    ends = sorted(at_top["end"].to_list())[:ENDINGS]
    count = int(at_top["count"][0])
    return Widths(known, top, count, int(at_top["chop"][0]), frozenset(ends))


@dataclass(frozen=True, slots=True)
class Block:
    """What one block yields: kept lines, its session lines' groups, last entry line, widths."""

    lines: pl.DataFrame
    groups: pl.DataFrame
    """The tallied lines grouped by names and stamp shape (`text_groups`)."""
    last: pl.DataFrame
    """The block's last entry line (`line`, `raw`, `kept`), or no row."""
    widths: Widths
    dated_dropped: bool = False
    """Whether a left-out line may have a date (that a time-only stamp would take)."""
    continues: bool = False
    """The block's first line may continue the entry the block before ends with."""
    runs: pl.DataFrame | None = None
    """Classic or time-only stamps: the months or times of day of the lines left out, per run
    (`timeinfer.RUN_SCHEMA`)."""

    def numbered(self, before: int) -> Block:
        """The block with its `line` columns counted from the input's start."""
        return Block(
            lines=numbered(self.lines, before),
            groups=numbered(self.groups, before),
            last=numbered(self.last, before),
            widths=self.widths,
            dated_dropped=self.dated_dropped,
            continues=self.continues,
            runs=None if self.runs is None else numbered(self.runs, before),
        )


@dataclass(frozen=True, slots=True)
class Prefilter:
    """The per-block work of a prefiltered read in one line format."""

    keep: tuple[str, ...]
    hard_start: str
    journal: bool
    """Entries start with a journald stamp (else the line is the gateway line itself)."""
    anchors: tuple[str, ...] = ()
    """Substrings every keep literal contains (`anchors.choose`): scanned first when given."""
    dated: str | None = None
    """A regex the entry lines with a date match (None: every entry line has one)."""
    months: bool = False
    """Entries have classic stamps (no year): hand over the months of the lines left out, for
    the parser to count new years over every entry."""
    days: bool = False
    """Entries may have time-only stamps (the bare console): hand over the times of day of
    the lines left out, for the parser to count midnights over every entry."""

    def block(self, frame: pl.DataFrame) -> Block:
        """Split a block (`line`, `raw`) into kept lines, tally, sentinel and widths."""
        raw = pl.col("raw")
        # The scans over every line, in one select so that polars runs them side by side.
        flags = frame.select(
            hard=raw.str.contains(self.hard_start).fill_null(False),
            literal=raw.str.contains(alternation(self.anchors or self.keep)).fill_null(False),
            marked=raw.str.contains(MARKED).fill_null(False),
        )
        if self.anchors:  # the few lines holding an anchor: do they hold a literal?
            near = frame.filter(flags["literal"])
            found = near.filter(raw.str.contains(alternation(self.keep)))["line"]
            flags = flags.with_columns(literal=frame["line"].is_in(found.implode()))
        hard = flags["hard"]
        parents, continues = _continued(frame, hard)
        skip = hard & ~flags["literal"] & ~parents
        marked = frame.filter(skip & flags["marked"])
        counted, groups = self.sessions(marked)
        tallied = frame["line"].is_in(counted.implode())
        kept = ~skip | (flags["marked"] & ~tallied)
        last = frame.filter(hard).tail(1).with_columns(kept=kept.filter(hard).tail(1))
        dated_dropped = self._dated_dropped(frame, ~kept, counted.len())
        runs = None
        if self.months:
            runs = month_runs(frame, ~kept)
        elif self.days and not dated_dropped:
            # With a dated line left out, time-only stamps make the parser read the input
            # again in full: the times of day are needed only when none was.
            runs = day_runs(frame, ~kept)
        return Block(
            lines=copied(frame.filter(kept)),
            groups=copied(groups),
            last=copied(last),
            widths=widths(frame),
            dated_dropped=dated_dropped,
            continues=continues,
            runs=runs,
        )

    def _dated_dropped(self, frame: pl.DataFrame, dropped: pl.Series, tallied: int) -> bool:
        """Whether a dropped line may date a time-only stamp (tallied lines have a full date)."""
        if self.dated is None or tallied:
            return bool(dropped.any())
        dated = frame.select(dropped & pl.col("raw").str.contains(self.dated).fill_null(False))
        return bool(dated.to_series().any())

    def sessions(self, lines: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
        """The tallyable lines among `lines` (`line`, `raw`): their numbers and `text_groups`.

        A line is tallied by its gateway ISO stamp as text, with the space after it if there
        is one (`text_groups` orders stamps as strings within groups of one length and offset,
        and only each group's first and last are parsed), and by its name tokens, which key and
        id are read from (`NAMES`).
        """
        raw = pl.col("raw")
        body = _body(raw) if self.journal else raw
        df = lines.select("line", message=body, odd=raw.str.contains(UNTALLIED))
        message = pl.col("message")
        df = df.with_columns(stamp=message.str.extract(HEAD, 0))
        tallyable = ~pl.col("odd") & pl.col("stamp").is_not_null()
        found = df.filter(tallyable).select("line", "stamp", names=message.str.extract_all(NAMES))
        groups = text_groups(found)
        levelled = groups["_offset"].str.contains(LEVELLED)
        if not levelled.any():
            return found["line"], groups
        # A `HEAD` with a level after the stamp (rare): its lines are kept, not tallied. Such a
        # match's offset (its last 7 characters: the level) is never a stamp's.
        heads = groups.filter(levelled)["_offset"].implode()
        plain = ~_offset(pl.col("stamp")).is_in(heads)
        return found.filter(plain)["line"], groups.filter(~levelled)


def _body(raw: pl.Expr) -> pl.Expr:
    """A journald line's message: after its first `: `, as the parser splits it (null if none).

    Sliced as bytes (`: ` is ASCII, so the cut is at a character): cheaper than `splitn`, which
    builds both halves.
    """
    start = raw.str.find(": ", literal=True) + 2
    return raw.cast(pl.Binary).bin.slice(start).cast(pl.String)


def _offset(stamp: pl.Expr) -> pl.Expr:
    """A tallied stamp's offset (`Z`, `+HHMM`, `+HH:MM`) and the space after it, if any.

    They are at most 7 characters, and in the last 7 only digits, `.` and `:` of the time
    precede them (cheaper than stripping from char 19).
    """
    return stamp.str.tail(7).str.strip_chars_start(".:0123456789")


def _continued(frame: pl.DataFrame, hard: pl.Series) -> tuple[pl.Series, bool]:
    """The entry lines right before a line that may continue them (no entry start, not blank
    or noise: the parser joins it to the entry), kept so that the parser sees the whole entry;
    and whether the block's first line may continue the block before's last entry."""
    soft = frame.filter(~hard)
    if not soft.height:
        return hard & False, False
    text = cl.clean_text(pl.col("raw"))
    lines = soft.filter(~text.str.contains(rf"^\s*$|{cl.NOISE}"))["line"]
    return hard & frame["line"].is_in((lines - 1).implode()), bool((lines == 1).any())


def _pairs(groups: pl.DataFrame) -> pl.DataFrame:
    """The first line of each key <-> id pair (`groups`: `line`, `session_key`, `session_id`)."""
    both = pl.col("session_key").is_not_null() & pl.col("session_id").is_not_null()
    return (
        groups.filter(both)
        .group_by("session_id", "session_key")
        .agg(pl.col("line").min())
        .sort("line")
        .select("line", "session_id", "session_key")
    )


def text_groups(sessions: pl.DataFrame) -> pl.DataFrame:
    """Session lines (`line`, `stamp`, `names`) grouped by names, stamp length and stamp
    offset: count, first line, first and last stamp as text.

    Stamps of one length and offset sort as text in time order, so only each group's first and
    last are parsed; key and id are read once per names (`named_groups`), not per line:
    reading them is the costliest step, and a session's lines repeat the same names.
    """
    stamp = pl.col("stamp")
    grouped = sessions.group_by(
        "names",
        stamp.str.len_bytes().alias("_length"),
        _offset(stamp).alias("_offset"),
    ).agg(events=pl.len(), line=pl.col("line").min(), first=stamp.min(), last=stamp.max())
    return grouped.with_columns(pl.col("names").list.join(" "))  # text copies out of the block


def named_groups(groups: pl.DataFrame) -> pl.DataFrame:
    """`text_groups` rows (of one block or many) merged, with `session_key` and `session_id`;
    rows that name neither are dropped."""
    merged = groups.group_by("names", "_length", "_offset").agg(
        pl.col("events").sum(),
        pl.col("line").min(),
        pl.col("first").min(),
        pl.col("last").max(),
    )
    named = pl.col("session_key").is_not_null() | pl.col("session_id").is_not_null()
    return session_fields(merged.rename({"names": "message"})).filter(named).drop("message")


def tally(groups: pl.DataFrame) -> pl.DataFrame:
    """Per (key, id) of `named_groups` rows: line count, first and last time (TALLY_SCHEMA)."""
    return (
        groups.with_columns(first=_time(pl.col("first")), last=_time(pl.col("last")))
        .group_by("session_key", "session_id")
        .agg(pl.col("events").sum().cast(pl.UInt32), pl.col("first").min(), pl.col("last").max())
        .select(list(TALLY_SCHEMA))
    )


def _time(stamp: pl.Expr) -> pl.Expr:
    """A tallied stamp (with the space after it, if any) as a time."""
    return parse_iso(stamp.str.strip_chars_end(" "))


def first_pairs(groups: pl.DataFrame, path: str) -> pl.DataFrame:
    """The first line of each key <-> id pair of `named_groups` rows, with `file` (PAIR_SCHEMA)."""
    return _pairs(groups).select(pl.lit(path).alias("file"), "line", "session_id", "session_key")


def tally_events(events: pl.DataFrame, path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs and tally of parsed events (`line`, `message`, `ts`) left out as events.

    For the structured formats, whose entries are parsed before the prefilter applies: their
    key, id and time are read exactly as `identity` and the parser read them. Key and id are
    read once per distinct set of name tokens (`names`), not once per event, as for the text
    formats' tally.
    """
    if not events.height:
        return pl.DataFrame(schema=PAIR_SCHEMA), pl.DataFrame(schema=TALLY_SCHEMA)
    grouped = events.group_by(names(pl.col("message")).list.join(" ").alias("message")).agg(
        events=pl.len(),
        line=pl.col("line").min(),
        first=pl.col("ts").min(),
        last=pl.col("ts").max(),
    )
    fields = session_fields(grouped)
    found = first_pairs(fields, path)
    named = pl.col("session_key").is_not_null() | pl.col("session_id").is_not_null()
    counted = (
        fields.filter(named)
        .group_by("session_key", "session_id")
        .agg(pl.col("events").sum().cast(pl.UInt32), pl.col("first").min(), pl.col("last").max())
        .select(list(TALLY_SCHEMA))
    )
    return found.cast(PAIR_SCHEMA), merge_tallies([counted.cast(TALLY_SCHEMA)])  # type: ignore[arg-type]


def names(message: pl.Expr) -> pl.Expr:
    """The texts key and id are read from (`identity.NAMES`): the name tokens, or the whole
    message when it names a `.jsonl` path. A list: joined only per group, not per line."""
    paths = message.str.contains(".jsonl", literal=True)
    return pl.when(paths).then(pl.concat_list(message)).otherwise(message.str.extract_all(NAMES))


def merged_widths(parts: Iterable[Widths]) -> Widths:
    """The width statistics of several sets of lines together."""
    merged = Widths()
    for part in parts:
        merged = merged.merge(part)
    return merged


def merge_tallies(tallies: list[pl.DataFrame]) -> pl.DataFrame:
    """Sum the counts, keep the earliest first and latest last of each (key, id)."""
    frames = [t for t in tallies if t.height]
    if not frames:
        return pl.DataFrame(schema=TALLY_SCHEMA)
    return (
        pl.concat(frames, how="vertical_relaxed")
        .group_by("session_key", "session_id")
        .agg(pl.col("events").cast(pl.Int64).sum(), pl.col("first").min(), pl.col("last").max())
        .filter(pl.col("events") > 0)
        .with_columns(pl.col("events").cast(pl.UInt32))
        .sort("session_key", "session_id", nulls_last=True)
        .select(list(TALLY_SCHEMA))
    )
