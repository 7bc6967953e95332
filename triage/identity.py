"""Fill the identity columns (session key and id, run, lane, lock, epoch, duplicate) from messages.

Everything is a vectorised regex over `message` (LOG-FORMATS §2.7-2.8):

- `lane` from `lane=`; `session_key` from `lane=session:<key>`, `sessionKey=`, or `key=agent:…`.
- `session_id` from `sessionId=`, else the file stem of a `…/sessions/<id>.jsonl(.lock)` path
  (or a bare `<uuid>.jsonl.lock`); placeholders (`xxx`, `unknown`, `<session>`) give null.
- `lock_path`, `lock_pid` (`pid=<n>` on lines naming a lock), `lock_alive` (`alive=` when
  present, else `lock_pid == pid` when both are known).
- `session`: the key when known, else the key learnt from any line carrying both the key and
  the id (across the whole file set), else the id.
- `epoch` (per file, from 0): +1 on the first line of the gateway ident with a new journald pid,
  and +1 on an `http server listening` / `[gateway] ready` line whose last preceding lifecycle
  line was a stop (`received SIG…`, `signal SIG… received`, `[shutdown] started`): an in-process
  restart. The restart line itself belongs to the new epoch. The gateway ident is the ident
  most often seen on lines that carry an OpenClaw subsystem.
- `duplicate`: true on the second of two `lane task error` lines for one failure (a `lane=main`
  and a `lane=session:` line with the same error text within 1 s), so the pair counts once.
"""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl

from triage.events import EVENT_SCHEMA, conform
from triage.literals import contains_any

MARKERS: tuple[str, ...] = ("sessionKey=", "lane=session:", "key=agent:", "sessionId=", ".jsonl")
"""Substrings of the lines that can name a session key or id. The reader tallies such lines
(key <-> id pairs, per-session counts and times) instead of keeping them as events."""

LITERALS: tuple[str, ...] = (
    "http server listening",
    "[gateway] ready",
    "SIGTERM",
    "SIGINT",
    "SIGUSR1",
    "[shutdown]",
)
"""Substrings of the lines that mark a restart (epochs): the reader's prefilter keeps them."""

PLACEHOLDERS = ["xxx", "XXXX", "unknown", "<session>", "<session-id>", "..."]
TOKEN = r"[^\s,;\"')\]]+"
TOKEN_END = r"[\s,;\"')\]]"
"""The characters a `TOKEN` ends at."""
VALUE = f"({TOKEN})"
DUPLICATE_WINDOW = timedelta(seconds=1)
STOP = (
    r"received SIG[A-Z0-9]+; (?:shutting down|restarting)|signal SIG[A-Z0-9]+ received"
    r"|^started: gateway stopping"
)
READY = r"http server listening|^ready$"


def identify(events: pl.DataFrame, pairs: pl.DataFrame | None = None) -> pl.DataFrame:
    """PARSED_SCHEMA rows (one or many files) -> EVENT_SCHEMA rows, same order.

    `pairs` (`file`, `line`, `session_id`, `session_key`) adds key <-> id pairs seen on lines
    that are not events (the reader's tally), in their place in file order.
    """
    df = _with_fields(events)
    df = df.with_columns(_lock_alive())
    df = with_session(df, learnt_keys(df, pairs))
    df = df.with_columns(epoch=_epoch(df))
    df = df.with_columns(duplicate=_duplicates(df))
    return conform(df, EVENT_SCHEMA)


def _with_fields(events: pl.DataFrame) -> pl.DataFrame:
    """Run the field regexes only on messages that can hold one (`=` or a `.jsonl` path)."""
    gate = contains_any(pl.col("message"), ["=", ".jsonl", "locked"]).fill_null(False)
    indexed = events.with_row_index("_row")
    found = indexed.filter(gate).select("_row", "message")
    found = (
        found.with_columns(_raw_fields())
        .with_columns(_derived())
        .select(
            "_row",
            "lane",
            _real("session_key"),
            _real("session_id"),
            _real("run_id"),
            "lock_path",
            "lock_pid",
            "alive_text",
        )
    )
    return indexed.join(found, on="_row", how="left", maintain_order="left").drop("_row")


def session_fields(df: pl.DataFrame, paths: bool = True) -> pl.DataFrame:
    """`df` (with `message`) plus `session_key` and `session_id` as `identify` reads them.

    `paths=False` skips the lock-path regexes, for messages known to hold no `.jsonl`.
    """
    fields = _key_id_fields(pl.col("message"))
    if not paths:
        fields = [f for f in fields if f.meta.output_name() not in ("id_path", "id_bare")]
    found = df.with_columns(fields)
    names = {f.meta.output_name() for f in fields}
    ids = [name for name in ("id_kv", "id_path", "id_bare") if name in names]
    found = found.with_columns(
        session_key=pl.coalesce(_lane_key(pl.col("lane")), "key_kv", "key_agent"),
        session_id=pl.coalesce(ids),
    )
    return found.with_columns(_real("session_key"), _real("session_id")).drop(*names)


def _key_id_fields(msg: pl.Expr) -> list[pl.Expr]:
    return [
        _first(msg, r"(?-u:\b)", "lane=").alias("lane"),
        _first(msg, r"(?-u:\b)", "sessionKey=").alias("key_kv"),
        _first(msg, r"(?-u:\b)", "key=", "agent:" + TOKEN).alias("key_agent"),
        _first(msg, r"(?-u:\b)", "sessionId=").alias("id_kv"),
        _first(msg, "", "/sessions/", r"[^/\s\"']+?\.jsonl(?-u:\b)")
        .str.strip_suffix(".jsonl")
        .alias("id_path"),
        msg.str.extract_all(r"(?-u:\b)[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\.jsonl(?-u:\b)")
        .list.first()
        .str.strip_suffix(".jsonl")
        .alias("id_bare"),
    ]


NAMES = rf"(?-u:\b)(?:lane=|sessionKey=|key=agent:|sessionId=){TOKEN}(?:{TOKEN_END}|$)"
"""Every `<name><value>` token a key or id is read from outside a session path, with the
character that ends it.

A message's tokens joined by spaces give the same key and id as the message (the reader's
tally relies on it; keep this in step with `_key_id_fields`): each non-path match of
`_key_id_fields` lies inside one of these (an alternation of its patterns, found leftmost
first), ends where that token ends (at the same terminator), and sees the same character
before it (a terminator or space is not a word character). Spelling out the end halves the
regex engine's work per token (2 700 -> 1 400 instructions). Messages naming a `.jsonl` path
keep their whole text instead.
"""


def _first(msg: pl.Expr, guard: str, name: str, value: str = TOKEN) -> pl.Expr:
    """The first `<name><value>` token's value: what `extract(guard + name + (value))` gives.

    Written capture-free (find-all, then strip the name): a capture group costs a second
    regex pass per matching row, which made these extractions the reader's hottest spot.
    """
    return msg.str.extract_all(guard + re.escape(name) + value).list.first().str.strip_prefix(name)


def _lane_key(lane: pl.Expr) -> pl.Expr:
    from_lane = lane.str.strip_prefix("session:")
    return pl.when(from_lane.str.starts_with("agent:")).then(from_lane)


def _raw_fields() -> list[pl.Expr]:
    """One regex pass per field, each evaluated once."""
    msg = pl.col("message")
    return [
        *_key_id_fields(msg),
        msg.str.extract(r"(?-u:\b)runId=" + VALUE).alias("run_id"),
        msg.str.extract(r"([^\s\"'=]*\.jsonl\.lock)(?-u:\b)").alias("lock_path"),
        msg.str.contains("locked", literal=True).alias("locked"),
        msg.str.extract(r"(?-u:\b)pid=(\d+)").cast(pl.Int64, strict=False).alias("pid_kv"),
        msg.str.extract(r"(?-u:\b)alive=(true|false)(?-u:\b)").alias("alive_text"),
    ]


def _derived() -> list[pl.Expr]:
    return [
        pl.coalesce(_lane_key(pl.col("lane")), "key_kv", "key_agent").alias("session_key"),
        pl.coalesce("id_kv", "id_path", "id_bare").alias("session_id"),
        pl.when(pl.col("lock_path").is_not_null() | pl.col("locked"))
        .then(pl.col("pid_kv"))
        .alias("lock_pid"),
    ]


def _real(name: str) -> pl.Expr:
    """The column, with redaction placeholders turned into null."""
    return _real_value(pl.col(name)).alias(name)


def _real_value(value: pl.Expr) -> pl.Expr:
    fake = value.is_in(PLACEHOLDERS) | value.str.starts_with("<")
    return pl.when(fake).then(None).otherwise(value)


def _lock_alive() -> pl.Expr:
    by_pid = pl.when(pl.col("lock_pid").is_not_null() & pl.col("pid").is_not_null()).then(
        pl.col("lock_pid") == pl.col("pid")
    )
    return pl.coalesce(pl.col("alive_text") == "true", by_pid).alias("lock_alive")


PAIR_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "line": pl.UInt32(),
    "session_id": pl.String(),
    "session_key": pl.String(),
}


def learnt_keys(df: pl.DataFrame, pairs: pl.DataFrame | None = None) -> pl.DataFrame:
    """`session_id` -> `session_key`: the first pair in file order (files in `df` order).

    `df` has `file`, `line`, `session_id`, `session_key` (identified events or their fields).
    """
    both = pl.col("session_key").is_not_null() & pl.col("session_id").is_not_null()
    own = df.lazy().filter(both).select(list(PAIR_SCHEMA))
    frames = [own.cast(PAIR_SCHEMA)]  # type: ignore[arg-type]
    if pairs is not None and pairs.height:
        frames.append(pairs.lazy().select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA))  # type: ignore[arg-type]
    found = pl.concat(frames)
    if len(frames) > 1:
        files = pl.concat([df["file"], pairs["file"]]).unique(maintain_order=True)  # type: ignore[index]
        rank = pl.col("file").replace_strict(files, range(files.len()), return_dtype=pl.UInt32)
        found = found.sort(rank, "line", maintain_order=True)
    first = found.unique("session_id", keep="first", maintain_order=True)
    return first.select("session_id", "session_key").collect()  # one plan, one call


def with_session(df: pl.DataFrame, learnt: pl.DataFrame) -> pl.DataFrame:
    """Add `session`: the key, else the key learnt for the id, else the id."""
    key = pl.col("session_id").replace_strict(
        learnt["session_id"], learnt["session_key"], default=None, return_dtype=pl.String
    )
    return df.with_columns(session=pl.coalesce("session_key", key, "session_id"))


def _epoch(df: pl.DataFrame) -> pl.Expr:
    gateway = (
        df.filter(pl.col("subsystem").is_not_null() & pl.col("ident").is_not_null())
        .group_by("ident")
        .len()
        .sort(["len", "ident"], descending=[True, False])
    )
    ident = gateway["ident"][0] if gateway.height else None
    msg = pl.col("message").fill_null("")
    own = (pl.col("ident") == ident) & pl.col("pid").is_not_null() if ident else pl.lit(False)
    gw_pid = pl.when(own).then(pl.col("pid"))
    prev_pid = gw_pid.forward_fill().shift(1).over("file")
    pid_change = own & prev_pid.is_not_null() & (pl.col("pid") != prev_pid)
    kind = (
        pl.when(pid_change)
        .then(pl.lit("pid"))
        .when(msg.str.contains(STOP))
        .then(pl.lit("stop"))
        .when(msg.str.contains(READY))
        .then(pl.lit("ready"))
    )
    prev_kind = kind.forward_fill().shift(1).over("file")
    bump = pid_change.fill_null(False) | ((kind == "ready") & (prev_kind == "stop")).fill_null(
        False
    )
    return bump.cast(pl.Int32).cum_sum().over("file").cast(pl.Int32)


def _duplicates(df: pl.DataFrame) -> pl.Series:
    is_lte = pl.col("message").fill_null("").str.starts_with("lane task error")
    errors = df.with_row_index("_row").filter(is_lte & pl.col("lane").is_not_null())
    errors = errors.with_columns(
        text=pl.col("message").str.extract(r'error="(.*)"'),
        p_text=pl.col("message").str.extract(r'error="(.*)"').shift(1).over("file"),
        p_lane=pl.col("lane").shift(1).over("file"),
        p_ts=pl.col("ts").shift(1).over("file"),
    )
    pair = (pl.col("lane") == "main") & pl.col("p_lane").str.starts_with("session:") | (
        pl.col("p_lane") == "main"
    ) & pl.col("lane").str.starts_with("session:")
    close = (pl.col("ts") - pl.col("p_ts")).abs() <= DUPLICATE_WINDOW
    dup = errors.filter(pair & (pl.col("text") == pl.col("p_text")) & close.fill_null(False))
    flags = pl.Series("duplicate", [False] * df.height, pl.Boolean)
    return flags.scatter(dup["_row"], True) if dup.height else flags
