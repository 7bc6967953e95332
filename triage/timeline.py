"""State spans for the HTML swimlanes, computed with polars joins over the whole events frame."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from triage.events import UTC_US
from triage.findings import Finding, Span

STALL_MIN_MS = 1000.0
"""Liveness warnings below this event-loop delay are not drawn (the rule's default threshold)."""
MAX_SPANS = 2000

# Event classes, first match wins. Texts follow LOG-FORMATS.md §2.9 (templates, not one version).
CLASSES: tuple[tuple[str, str], ...] = (
    ("lock_fail", r"session file locked|SessionWriteLock(?:Timeout)?Error"),
    ("lock_release", r"releasing lock held for|removed stale session lock"),
    (
        "compaction_end",
        r"compaction complete|auto-compaction (?:incomplete|succeeded)|compaction wait aborted"
        r"|abort settle timed out|Compaction timed out|compaction failed|outcome=failed",
    ),
    (
        "compaction_start",
        r"compaction start|compaction retry|timeout reached during compaction"
        r"|attempting auto-compaction",
    ),
    ("gateway_stop", r"received SIGTERM|signal SIGTERM received|Stopping openclaw-gateway"),
    # The gateway serves again at its own readiness lines; systemd's `Started` only says the
    # process was spawned, so it ends a "down" span only when no readiness line follows.
    ("gateway_start", r"http server listening|^(?:\[gateway\] )?ready\b"),
    ("gateway_spawned", r"^Started openclaw-gateway"),
    ("liveness", r"liveness warning"),
)
_ANY = "|".join(f"(?:{pattern})" for _, pattern in CLASSES)


def spans(events: pl.DataFrame, findings: Sequence[Finding]) -> tuple[Span, ...]:
    """State spans: lock held, compaction running (session lanes with findings), gateway down
    and event-loop stalls (gateway lanes). Sorted by lane, start, kind."""
    classified = classify(events)
    if classified.is_empty():
        return ()
    loud = sorted({f.session for f in findings})
    last = events.select(pl.col("ts").max()).item()  # end of the log: open states run to it
    # One lazy plan for every lane, collected once (an eager call per step cost ~40 calls).
    marked = classified.lazy()
    restarts = _restarts(events.lazy(), marked)
    compaction = _compaction(marked, restarts, last)
    frames = [
        compaction.filter(pl.col("lane").is_in(loud)),
        _locks(marked, compaction, restarts).filter(pl.col("lane").is_in(loud)),
        _gateway_down(marked, last),
        _stalls(marked),
    ]
    plan = pl.concat(frames, how="vertical").sort("lane", "start", "kind").head(MAX_SPANS)
    table = plan.collect()
    return tuple(Span(**row) for row in table.iter_rows(named=True))


def classify(events: pl.DataFrame) -> pl.DataFrame:
    """The few events that start or end a state, with a `class` column and parsed numbers."""
    message = pl.col("message").fill_null("")
    klass = pl.lit(None, dtype=pl.String())
    for name, pattern in reversed(CLASSES):
        klass = pl.when(message.str.contains(pattern)).then(pl.lit(name)).otherwise(klass)
    return (
        events.filter(pl.col("ts").is_not_null() & message.str.contains(_ANY))
        .select(
            "ts",
            "file",
            "session",
            "pid",
            klass.alias("class"),
            message.str.extract(r"createdAt\W+(\d{4}-\d\d-\d\dT[\d:.]+Z?)", 1)
            .str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
            .alias("created_at"),
            message.str.extract(r"ageMs=(\d+)", 1).cast(pl.Int64, strict=False).alias("age_ms"),
            message.str.extract(r"eventLoopDelayMaxMs=([\d.]+)", 1)
            .cast(pl.Float64, strict=False)
            .alias("max_ms"),
        )
        .sort("ts", maintain_order=True)
    )


def _restarts(events: pl.LazyFrame, marked: pl.LazyFrame) -> pl.LazyFrame:
    """When each file's gateway process ended: stop and start lines, first event of each epoch."""
    # A stop ends the process that held the lock; a start or a new epoch shows one ended.
    starts = marked.filter(pl.col("class").is_in(["gateway_start", "gateway_stop"]))
    starts = starts.select("file", "ts")
    epochs = (
        events.filter(pl.col("epoch").is_not_null() & pl.col("ts").is_not_null())
        .group_by("file", "epoch")
        .agg(pl.col("ts").min())
        .filter(pl.col("epoch") > pl.col("epoch").min().over("file"))
        .select("file", "ts")
    )
    return pl.concat([starts, epochs]).unique().sort("ts").rename({"ts": "restart"})


def _next(left: pl.LazyFrame, on: str, right: pl.LazyFrame, by: str, name: str) -> pl.LazyFrame:
    """Add `name`: the first `right` time at or after `left[on]` with the same `by`."""
    right = right.select(by, pl.nth(-1).alias(name)).sort(name)
    return left.sort(on).join_asof(
        right, left_on=on, right_on=name, by=by, strategy="forward", check_sortedness=False
    )


def _compaction(marked: pl.LazyFrame, restarts: pl.LazyFrame, last: datetime) -> pl.LazyFrame:
    """Compaction start (or timeout) until its completion, abort, a restart or the log's end."""
    starts = marked.filter(
        (pl.col("class") == "compaction_start") & pl.col("session").is_not_null()
    )
    ends = marked.filter(pl.col("class") == "compaction_end").select("session", "ts")
    joined = _next(starts.select("session", "file", "ts"), "ts", ends, "session", "done")
    joined = _next(joined, "ts", restarts, "file", "restart")
    end = pl.min_horizontal("done", "restart")
    how = (
        pl.when(pl.col("done").is_not_null() & (pl.col("done") == pl.col("end")))
        .then(pl.lit(""))
        .when(pl.col("restart").is_not_null())
        .then(pl.lit(", until the gateway restart"))
        .otherwise(pl.lit(", no completion seen"))
    )
    return _spans(
        joined.with_columns(end.fill_null(pl.lit(last, dtype=UTC_US)).alias("end"))
        .with_columns(how.alias("how"))
        .group_by("session", "end", "how")
        .agg(pl.col("ts").min().alias("start")),
        lane="session",
        kind="compaction",
    )


def _locks(marked: pl.LazyFrame, compaction: pl.LazyFrame, restarts: pl.LazyFrame) -> pl.LazyFrame:
    """Lock held: createdAt (or the compaction start) until a release or restart after the last
    failure, else the last failure."""
    per_session = (
        marked.filter((pl.col("class") == "lock_fail") & pl.col("session").is_not_null())
        .group_by("session")
        .agg(
            pl.col("ts").min().alias("first_fail"),
            pl.col("ts").max().alias("last_fail"),
            pl.col("file").first(),
            pl.min_horizontal(
                pl.col("created_at").min(),
                (pl.col("ts") - pl.duration(milliseconds="age_ms")).min(),
            ).alias("created"),
        )
    )
    began = compaction.select(pl.col("lane").alias("session"), pl.col("start").alias("began"))
    per_session = per_session.sort("first_fail").join_asof(
        began.sort("began"),
        left_on="first_fail",
        right_on="began",
        by="session",
        strategy="backward",
        check_sortedness=False,
    )
    releases = marked.filter(pl.col("class") == "lock_release").select("session", "ts")
    per_session = _next(per_session, "last_fail", releases, "session", "released")
    per_session = _next(per_session, "last_fail", restarts, "file", "restart")
    end = pl.min_horizontal("released", "restart")
    how = (
        pl.when(end.is_null())
        .then(pl.lit(", to the last lock failure"))
        .when(pl.col("released") == end)
        .then(pl.lit(", until released"))
        .otherwise(pl.lit(", until the gateway restart"))
    )
    return _spans(
        per_session.select(
            "session",
            pl.coalesce("created", "began", "first_fail").alias("start"),
            end.fill_null(pl.col("last_fail")).alias("end"),
            how.alias("how"),
        ),
        lane="session",
        kind="lock",
    )


def _gateway_down(marked: pl.LazyFrame, last: datetime) -> pl.LazyFrame:
    """Gateway down: a stop signal until the next start line of the same file (or the log's end)."""
    stops = marked.filter(pl.col("class") == "gateway_stop").select("file", "ts")
    starts = marked.filter(pl.col("class") == "gateway_start").select("file", "ts")
    spawned = marked.filter(pl.col("class") == "gateway_spawned").select("file", "ts")
    joined = _next(_next(stops, "ts", starts, "file", "ready"), "ts", spawned, "file", "spawn")
    joined = joined.with_columns(pl.coalesce("ready", "spawn").alias("up"))
    how = pl.when(pl.col("up").is_null()).then(pl.lit(", no restart seen"))
    return _spans(
        joined.select(
            pl.lit("gateway").alias("lane"),
            pl.col("up").fill_null(pl.lit(last, dtype=UTC_US)).alias("end"),
            how.otherwise(pl.lit("")).alias("how"),
            "ts",
        )
        .group_by("lane", "end", "how")
        .agg(pl.col("ts").min().alias("start")),
        lane="lane",
        kind="down",
    )


def _stalls(marked: pl.LazyFrame) -> pl.LazyFrame:
    """Event-loop stalls: the liveness window ending at the warning, as wide as the max delay."""
    lane = pl.when(pl.col("pid").is_null()).then(pl.lit("gateway"))
    rows = marked.filter((pl.col("class") == "liveness") & (pl.col("max_ms") >= STALL_MIN_MS))
    return _spans(
        rows.select(
            lane.otherwise(pl.lit("gateway:") + pl.col("pid").cast(pl.String)).alias("lane"),
            (
                pl.col("ts") - pl.duration(microseconds=(pl.col("max_ms") * 1000).cast(pl.Int64))
            ).alias("start"),
            pl.col("ts").alias("end"),
            (
                pl.lit(" (max delay ")
                + pl.col("max_ms").round(0).cast(pl.Int64).cast(pl.String)
                + pl.lit(" ms)")
            ).alias("how"),
        ),
        lane="lane",
        kind="stall",
    )


LABELS = {
    "compaction": "compaction running",
    "lock": "lock held",
    "down": "gateway down",
    "stall": "event-loop stall",
}


def _spans(frame: pl.LazyFrame, *, lane: str, kind: str) -> pl.LazyFrame:
    """Normalise to the Span columns; label = what, how long, then the `how` suffix."""
    seconds = (pl.col("end") - pl.col("start")).dt.total_milliseconds() / 1000
    return frame.select(
        pl.col(lane).alias("lane"),
        pl.lit(kind).alias("kind"),
        pl.col("start").cast(UTC_US),
        pl.col("end").cast(UTC_US),
        (pl.lit(LABELS[kind] + " ") + _human(seconds) + pl.col("how")).alias("label"),
    )


def _human(seconds: pl.Expr) -> pl.Expr:
    """`59s`, `10m19s`, `2h03m` as a polars expression."""
    s = seconds.round(0).cast(pl.Int64)
    pad = lambda e: e.cast(pl.String).str.zfill(2)  # noqa: E731 - local one-liner
    return (
        pl.when(s < 60)
        .then(s.cast(pl.String) + pl.lit("s"))
        .when(s < 3600)
        .then((s // 60).cast(pl.String) + pl.lit("m") + pad(s % 60) + pl.lit("s"))
        .otherwise((s // 3600).cast(pl.String) + pl.lit("h") + pad(s % 3600 // 60) + pl.lit("m"))
    )
