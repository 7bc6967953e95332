"""Identity columns: who a line is about (session, run, lane, lock), which gateway process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from triage.events import EVENT_SCHEMA, PARSED_SCHEMA, conform
from triage.identity import PAIR_SCHEMA, identify
from triage.parsers import parse

KEY = "agent:main:discord:channel:1506258704541159484"
SID = "49e71c56-dcbc-40ab-be04-4a92fd2230be"
T0 = datetime(2026, 5, 19, 13, 45, 17, tzinfo=UTC)


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"file": "f", "ident": "node", "pid": 963591, "ts": T0}
    full = [{**base, "line": i + 1, **row} for i, row in enumerate(rows)]
    return conform(pl.DataFrame(full, schema_overrides=PARSED_SCHEMA), PARSED_SCHEMA)


def one(message: str, **extra: Any) -> dict[str, Any]:
    return identify(frame({"message": message, **extra})).to_dicts()[0]


def test_seed_excerpt_identity(data: Path) -> None:
    events = identify(parse(str(data / "seed-excerpt.log")).events)
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    rows = {r["line"]: r for r in events.to_dicts()}
    for line in (1, 17, 25, 33, 42, 43):
        assert rows[line]["session"] == KEY, line
    assert rows[10]["session"] is None
    assert rows[1]["session_id"] == SID
    assert rows[1]["run_id"] == "7d2170b5-3733-4439-8451-cad42efa577b"
    for line in (17, 25, 33):
        assert (rows[line]["lock_pid"], rows[line]["lock_alive"]) == (963591, True)
    assert (rows[17]["lane"], rows[25]["lane"]) == ("main", f"session:{KEY}")
    assert rows[25]["session_key"] == KEY
    assert [r["duplicate"] for r in events.to_dicts()] == [False] * 3 + [True] + [False] * 3
    assert set(events["epoch"].to_list()) == {0}


@pytest.mark.parametrize(
    ("message", "column", "value"),
    [
        (
            "lane wait exceeded: lane=session:agent:main:main waitedMs=5",
            "session_key",
            "agent:main:main",
        ),
        ("lane wait exceeded: lane=cron waitedMs=5", "lane", "cron"),
        (
            "stalled session: sessionId=s1 sessionKey=agent:x:telegram:direct:1 age=1s",
            "session_key",
            "agent:x:telegram:direct:1",
        ),
        ("stalled session: sessionId=s1 sessionKey=agent:x:main age=1s", "session_id", "s1"),
        (
            "queued key=agent:main:signal:direct:+1555 depth=2",
            "session_key",
            "agent:main:signal:direct:+1555",
        ),
        ("embedded run start: runId=r-1 sessionId=unknown", "session_id", None),
        ("embedded run start: runId=r-1 sessionId=unknown", "run_id", "r-1"),
        ("locked /.../sessions/xxx.jsonl.lock pid=<gateway-pid>", "lock_pid", None),
        ("locked /.../sessions/xxx.jsonl.lock pid=<gateway-pid>", "session_id", None),
        (
            "locked /.../sessions/xxx.jsonl.lock pid=<gateway-pid>",
            "lock_path",
            "/.../sessions/xxx.jsonl.lock",
        ),
        (f"transcript /data/.openclaw/agents/a/sessions/{SID}.jsonl written", "session_id", SID),
        (f"session file locked: pid=12 alive=false {SID}.jsonl.lock", "lock_alive", False),
        (f"session file locked: pid=12 {SID}.jsonl.lock", "lock_alive", False),
        (f"session file locked: pid=963591 {SID}.jsonl.lock", "lock_alive", True),
        ("http server listening (6 plugins)", "lock_pid", None),
        ("pid=77 is not about a lock", "lock_pid", None),
    ],
)
def test_fields_from_message(message: str, column: str, value: object) -> None:
    assert one(message)[column] == value


def test_session_falls_back_to_the_id_and_learns_keys_across_files() -> None:
    events = frame(
        {"message": "embedded run start: sessionId=s9", "file": "a"},
        {"message": "embedded run start: sessionId=s7", "file": "a"},
        {"message": "stalled session: sessionId=s9 sessionKey=agent:k:main", "file": "b"},
    )
    assert identify(events)["session"].to_list() == ["agent:k:main", "s7", "agent:k:main"]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # a pair from a tallied line teaches the key
        ([("a", 5, "s7", "agent:k:x")], ["agent:k:main", "agent:k:x", "agent:k:main"]),
        # the first pair in file order wins: a tallied line before the event's own pair
        ([("b", 1, "s9", "agent:k:early")], ["agent:k:early", "s7", "agent:k:main"]),
        # ... and after it loses
        ([("b", 9, "s9", "agent:k:late")], ["agent:k:main", "s7", "agent:k:main"]),
    ],
)
def test_tallied_pairs_take_their_place_in_file_order(
    pairs: list[tuple[str, int, str, str]], expected: list[str]
) -> None:
    events = frame(
        {"message": "embedded run start: sessionId=s9", "file": "a"},
        {"message": "embedded run start: sessionId=s7", "file": "a"},
        {"message": "stalled session: sessionId=s9 sessionKey=agent:k:main", "file": "b"},
    )
    table = pl.DataFrame(pairs, schema=PAIR_SCHEMA, orient="row")
    assert identify(events, table)["session"].to_list() == expected


def test_epoch_counts_restarts_per_file() -> None:
    rows = [
        {"message": "starting", "subsystem": "gateway", "pid": 10},
        {"message": "http server listening (1 plugins)", "subsystem": "gateway", "pid": 10},
        {"message": "Started Session 1", "ident": "systemd", "pid": 1},
        {"message": "received SIGUSR1; restarting", "subsystem": "gateway", "pid": 10},
        {"message": "http server listening (1 plugins)", "subsystem": "gateway", "pid": 10},
        {"message": "received SIGTERM; shutting down", "subsystem": "gateway", "pid": 10},
        {"message": "starting", "subsystem": "gateway", "pid": 20},
        {"message": "http server listening (1 plugins)", "subsystem": "gateway", "pid": 20},
        {"message": "starting", "subsystem": "gateway", "pid": 30, "file": "other"},
    ]
    assert identify(frame(*rows))["epoch"].to_list() == [0, 0, 0, 0, 1, 1, 2, 2, 0]


def lane_error(lane: str, text: str, seconds: float) -> dict[str, Any]:
    message = f'lane task error: lane={lane} durationMs=1 error="{text}"'
    return {"message": message, "ts": T0 + timedelta(seconds=seconds)}


@pytest.mark.parametrize(
    ("second", "duplicate"),
    [
        (lane_error(f"session:{KEY}", "E: x", 0.005), True),
        (lane_error(f"session:{KEY}", "E: other", 0.005), False),
        (lane_error(f"session:{KEY}", "E: x", 5.0), False),
        (lane_error("main", "E: x", 0.005), False),
    ],
)
def test_duplicate_lane_pairs(second: dict[str, Any], duplicate: bool) -> None:
    events = identify(frame(lane_error("main", "E: x", 0), second))
    assert events["duplicate"].to_list() == [False, duplicate]


def test_empty_frame() -> None:
    empty = pl.DataFrame(schema=PARSED_SCHEMA)
    assert identify(empty).schema == pl.Schema(EVENT_SCHEMA)
