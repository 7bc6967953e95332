"""The events frame: one declared polars schema that every parser output must conform to."""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from triage.errors import Location, ParseError


class Source(StrEnum):
    """Which surface an event came from; the value is the `source` column's category."""

    JOURNAL = "journal"  # a journalctl entry (any -o mode); the message may hold a gateway line
    GATEWAY = "gateway"  # a bare OpenClaw console line (no journald prefix)
    GATEWAY_FILE = "gateway-file"  # the gateway's JSON file log (tslog or flat records)
    OPENCLAW_LOGS = "openclaw-logs"  # `openclaw logs` rendering
    SYSLOG = "syslog"  # classic syslog files (loghub samples)
    OTHER = "other"  # anything else that still parsed as an entry


class Level(StrEnum):
    """Normalised log level, lowest first."""

    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"
    FATAL = "fatal"


SOURCE_DTYPE = pl.Enum([s.value for s in Source])
LEVEL_DTYPE = pl.Enum([lv.value for lv in Level])
UTC_US = pl.Datetime("us", "UTC")

# Columns a parser fills. Identity columns below are filled by `triage.identity.identify`.
PARSED_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),  # input path as the user gave it ("-" for stdin)
    "line": pl.UInt32(),  # 1-based physical line of the entry's first line
    "end_line": pl.UInt32(),  # last physical line (reflowed / continued entries span several)
    "ts": UTC_US,  # best time of the entry (gateway ISO stamp, else journald stamp), UTC
    "ts_inferred": pl.Boolean(),  # year, zone or whole time guessed rather than read
    "source": SOURCE_DTYPE,
    "host": pl.String(),
    "ident": pl.String(),  # journald SYSLOG_IDENTIFIER (`node`, `systemd`, `kernel`)
    "pid": pl.Int64(),  # journald pid (`node[963591]`)
    "unit": pl.String(),  # systemd unit (`openclaw-gateway.service`) when known
    "subsystem": pl.String(),  # OpenClaw subsystem tag (`agent/embedded`, `diagnostic`)
    "level": LEVEL_DTYPE,
    "message": pl.String(),  # the text after every prefix (journald, ISO stamp, [subsystem])
    "error": pl.String(),  # error class name in the message (`SessionWriteLockTimeoutError`)
}

IDENTITY_SCHEMA: dict[str, pl.DataType] = {
    "session_key": pl.String(),  # chat session key `agent:main:discord:channel:…`
    "session_id": pl.String(),  # session UUID (`sessionId=`, the lock/transcript file name)
    "run_id": pl.String(),
    "lane": pl.String(),  # command lane (`main`, `session:agent:…`, `cron`)
    "lock_path": pl.String(),  # `…/sessions/<id>.jsonl.lock`
    "lock_pid": pl.Int64(),  # owner pid named in a lock error
    "lock_alive": pl.Boolean(),  # owner is the live gateway (`alive=true` or pid == journald pid)
    "epoch": pl.Int32(),  # gateway process epoch: +1 at every restart, per file
    "session": pl.String(),  # correlation key: session key when known, else session id
    "duplicate": pl.Boolean(),  # second line of a `lane=main` / `lane=session:` pair
}

EVENT_SCHEMA: dict[str, pl.DataType] = {**PARSED_SCHEMA, **IDENTITY_SCHEMA}


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """Return `df` with exactly `schema`'s columns in order; missing ones are added as nulls.

    A column present with the wrong dtype is a bug in a parser, so it raises `ParseError`
    rather than being cast silently.
    """
    columns = []
    for name, dtype in schema.items():
        if name not in df.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        actual = df.schema[name]
        if actual != dtype and actual != pl.Null():
            raise ParseError(
                f"column {name!r} has dtype {actual}, expected {dtype}",
                Location("<events>", key=name),
            )
        columns.append(pl.col(name).cast(dtype))
    return df.select(columns)


def empty_events(schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """An events frame with no rows and the declared schema."""
    return pl.DataFrame(schema=schema)
