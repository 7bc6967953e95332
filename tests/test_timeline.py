"""Timeline spans: lock held, compaction running, gateway down and stalls from an events frame."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from report_factory import LOCK, SEED_KEY, at, lock_leak

from triage.events import EVENT_SCHEMA, UTC_US, conform
from triage.findings import Span
from triage.timeline import spans

Row = tuple[str, str | None, str]  # (HH:MM:SS, session, message)


def events(rows: list[Row], epochs: list[int] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "file": ["j.txt"] * len(rows),
            "line": list(range(1, len(rows) + 1)),
            "ts": [at(hms) for hms, _, _ in rows],
            "session": [session for _, session, _ in rows],
            "message": [message for _, _, message in rows],
            "pid": [963591] * len(rows),
            "epoch": epochs or [0] * len(rows),
        },
        schema_overrides={"line": pl.UInt32, "ts": UTC_US, "epoch": pl.Int32},
    )
    return conform(frame, EVENT_SCHEMA)


TIMEOUT = "embedded run timeout reached during compaction; extending deadline: runId=r sessionId=s"
LOCKED = (
    f"lane task error: error=SessionWriteLockTimeoutError: session file locked pid=963591 {LOCK}"
)
FINDINGS = [lock_leak()]


def test_seed_lock_and_compaction_until_the_restart() -> None:
    rows: list[Row] = [
        ("13:43:45.077", SEED_KEY, TIMEOUT),
        ("13:45:17.707", SEED_KEY, LOCKED),
        ("13:54:04", SEED_KEY, LOCKED),
        ("13:58:00", None, "received SIGTERM; shutting down"),
        ("13:58:12", None, "http server listening (6 plugins; 4.4s)"),
    ]
    assert spans(events(rows), FINDINGS) == (
        Span(
            SEED_KEY,
            "compaction",
            at("13:43:45.077"),
            at("13:58:00"),
            "compaction running 14m15s, until the gateway restart",
        ),
        Span(
            SEED_KEY,
            "lock",
            at("13:43:45.077"),
            at("13:58:00"),
            "lock held 14m15s, until the gateway restart",
        ),
        Span("gateway", "down", at("13:58:00"), at("13:58:12"), "gateway down 12s"),
    )


def test_lock_starts_at_created_at_and_ends_at_the_last_failure_without_restart() -> None:
    rows: list[Row] = [
        ("10:00:00", SEED_KEY, f"{LOCKED} ageMs=120000"),
        ("10:05:00", SEED_KEY, LOCKED),
    ]
    assert spans(events(rows), FINDINGS) == (
        Span(
            SEED_KEY,
            "lock",
            at("09:58:00"),
            at("10:05:00"),
            "lock held 7m00s, to the last lock failure",
        ),
    )


def test_release_line_ends_the_lock() -> None:
    rows: list[Row] = [
        ("10:00:00", SEED_KEY, LOCKED),
        ("10:01:00", SEED_KEY, f"[session-write-lock] releasing lock held for 1020000ms: {LOCK}"),
    ]
    (span,) = spans(events(rows), FINDINGS)
    assert (span.end, span.label) == (at("10:01:00"), "lock held 1m00s, until released")


def test_compaction_pairs_with_its_completion_and_open_ones_run_to_the_end() -> None:
    rows: list[Row] = [
        ("10:00:00", SEED_KEY, "embedded run auto-compaction start"),
        ("10:00:30", SEED_KEY, "embedded run auto-compaction complete"),
        ("10:10:00", SEED_KEY, "embedded run compaction start: runId=r2"),
        ("10:12:00", SEED_KEY, "embedded run compaction retry: runId=r2"),
        ("10:20:00", None, "last line of the log"),
    ]
    assert [(s.start, s.end, s.label) for s in spans(events(rows), FINDINGS)] == [
        (at("10:00:00"), at("10:00:30"), "compaction running 30s"),
        (at("10:10:00"), at("10:20:00"), "compaction running 10m00s, no completion seen"),
    ]


def test_sessions_without_findings_get_no_session_spans() -> None:
    rows: list[Row] = [("10:00:00", "other", "embedded run auto-compaction start")]
    assert spans(events(rows), FINDINGS) == ()
    other = [replace(lock_leak(), session="other")]
    assert [s.lane for s in spans(events(rows), other)] == ["other"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "liveness warning: reasons=event_loop_delay eventLoopDelayMaxMs=3068.1",
            [("gateway:963591", "stall", "event-loop stall 3s (max delay 3068 ms)")],
        ),
        ("liveness warning: reasons=event_loop_delay eventLoopDelayMaxMs=999.9", []),
    ],
)
def test_stalls_are_as_wide_as_the_max_delay(message: str, expected: list[tuple[str, ...]]) -> None:
    result = spans(events([("10:00:10", None, message)]), [])
    assert [(s.lane, s.kind, s.label) for s in result] == expected
    for s in result:
        assert (s.end - s.start).total_seconds() == pytest.approx(3.0681)


def test_a_new_epoch_counts_as_a_restart() -> None:
    rows: list[Row] = [
        ("10:00:00", SEED_KEY, TIMEOUT),
        ("10:01:00", SEED_KEY, LOCKED),
        ("10:09:00", None, "some first line of the new process"),
    ]
    result = spans(events(rows, epochs=[0, 0, 1]), FINDINGS)
    assert {(s.kind, s.end) for s in result} == {
        ("compaction", at("10:09:00")),
        ("lock", at("10:09:00")),
    }


def test_stop_without_start_runs_to_the_end_of_the_log() -> None:
    rows: list[Row] = [
        ("10:00:00", None, "signal SIGTERM received"),
        ("10:00:01", None, "received SIGTERM; shutting down"),
        ("10:00:05", None, "closing"),
    ]
    assert spans(events(rows), []) == (
        Span("gateway", "down", at("10:00:00"), at("10:00:05"), "gateway down 5s, no restart seen"),
    )


def test_empty_events() -> None:
    assert spans(events([]), FINDINGS) == ()
