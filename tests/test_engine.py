"""The engine as a spec: an inline rule, a tiny events frame, the exact findings."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from triage.engine import match
from triage.events import EVENT_SCHEMA, conform
from triage.rules import RuleSet, load_rule_text, load_rules

PAIR = """
id = "pair"
title = "A then B"
severity = "high"
summary = "{count} B after A, {first} to {last}; {cleared}."
details = ["cleared_by"]

[[steps]]
name = "a"
message = { prefix = "A" }

[[steps]]
name = "b"
message = { prefix = "B" }
within = "10m"

[[without]]
name = "gateway restart"
between = ["a", "b"]
scope = "global"
message = "ready"

[explain]
cause = "c"
impact = "i"
workaround = "w"
"""


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-05-19T{clock}+00:00")


def events(rows: list[tuple[str, str | None, str]], **columns: list[object]) -> pl.DataFrame:
    """Rows of (HH:MM:SS, session, message), lines numbered from 1, in one file `j.log`."""
    frame = pl.DataFrame(
        {
            "file": ["j.log"] * len(rows),
            "line": list(range(1, len(rows) + 1)),
            "ts": [at(clock) if clock else None for clock, _, _ in rows],
            "session": [session for _, session, _ in rows],
            "message": [message for _, _, message in rows],
            **columns,
        },
        schema_overrides={"line": pl.UInt32, "ts": pl.Datetime("us", "UTC")},
    )
    return conform(frame, EVENT_SCHEMA)


def rule_set(text: str = PAIR, name: str = "pair") -> RuleSet:
    return RuleSet((load_rule_text(text, f"{name}.toml"),))


def summary(
    rows: list[tuple[str, str | None, str]], text: str = PAIR, name: str = "pair"
) -> list[tuple[str, str]]:
    return [(f.session, f.summary) for f in match(events(rows), rule_set(text, name)).findings]


def test_a_then_b_fires_once_per_key_with_the_evidence() -> None:
    result = match(events([("10:00:00", "s1", "A go"), ("10:01:00", "s1", "B done")]), rule_set())
    (finding,) = result.findings
    assert (finding.rule, finding.session, finding.count) == ("pair", "s1", 1)
    assert (finding.first, finding.last) == (at("10:00:00"), at("10:01:00"))
    assert [(e.line, e.step) for e in finding.evidence] == [(1, "a"), (2, "b")]
    assert finding.summary == "1 B after A, 10:00:00 to 10:01:00; not cleared within the log."
    assert result.near_misses == ()


@pytest.mark.parametrize(
    ("b_time", "fires"),
    [("10:10:00", True), ("10:10:00.000001", False)],
    ids=["exactly-at-the-edge-is-inside", "one-microsecond-late"],
)
def test_window_edge_is_inclusive(b_time: str, fires: bool) -> None:
    rows = [("10:00:00", "s1", "A"), (b_time, "s1", "B")]
    assert bool(summary(rows)) is fires


def test_late_step_is_a_near_miss_with_the_reason() -> None:
    result = match(events([("10:00:00", "s1", "A"), ("11:00:00", "s1", "B")]), rule_set())
    assert result.findings == ()
    (miss,) = result.near_misses
    assert (miss.matched_steps, miss.total_steps) == (1, 2)
    assert miss.reason == "'b' came 1h00m after 'a' at 11:00:00 (j.log:2), beyond 10m00s"


def test_reversed_order_does_not_match() -> None:
    assert summary([("10:00:00", "s1", "B"), ("10:01:00", "s1", "A")]) == []


def test_interleaved_sessions_do_not_mix() -> None:
    rows = [
        ("10:00:00", "s1", "A"),
        ("10:00:30", "s2", "B"),
        ("10:01:00", "s2", "A"),
        ("10:01:30", "s1", "C"),
    ]
    assert summary(rows) == []
    rows.append(("10:02:00", "s2", "B"))
    assert summary(rows) == [
        ("s2", "1 B after A, 10:01:00 to 10:02:00; not cleared within the log.")
    ]


def test_restart_between_steps_breaks_the_sequence_into_a_near_miss() -> None:
    rows = [("10:00:00", "s1", "A"), ("10:00:30", None, "ready"), ("10:01:00", "s1", "B")]
    result = match(events(rows), rule_set())
    assert result.findings == ()
    (miss,) = result.near_misses
    assert (miss.rule, miss.session, miss.matched_steps, miss.total_steps) == ("pair", "s1", 1, 2)
    assert miss.reason == "broken by gateway restart at 10:00:30 (j.log:2)"
    assert [e.line for e in miss.evidence] == [1]


def test_restart_after_completion_clears_the_finding() -> None:
    rows = [
        ("10:00:00", "s1", "A"),
        ("10:01:00", "s1", "B"),
        ("10:02:00", "s1", "B"),
        ("10:05:00", None, "ready"),
    ]
    (finding,) = match(events(rows), rule_set()).findings
    assert finding.count == 2
    assert finding.summary == (
        "2 B after A, 10:00:00 to 10:02:00; cleared by gateway restart at 10:05:00 (j.log:4)."
    )
    assert finding.details == (("cleared_by", "2026-05-19T10:05:00+00:00 j.log:4"),)


def test_the_same_sequence_twice_fires_twice() -> None:
    rows = [
        ("10:00:00", "s1", "A"),
        ("10:01:00", "s1", "B"),
        ("10:02:00", None, "ready"),
        ("10:03:00", "s1", "A"),
        ("10:04:00", "s1", "B"),
    ]
    assert summary(rows) == [
        (
            "s1",
            "1 B after A, 10:00:00 to 10:01:00; cleared by gateway restart at 10:02:00 (j.log:3).",
        ),
        ("s1", "1 B after A, 10:03:00 to 10:04:00; not cleared within the log."),
    ]


def test_events_without_time_take_their_file_position() -> None:
    rows = [("10:00:00", "s1", "A"), ("", "s1", "B untimed"), ("10:20:00", "s1", "x")]
    (finding,) = match(events(rows), rule_set()).findings
    assert [e.line for e in finding.evidence] == [1, 2]


COUNTED = """
id = "burst"
title = "Three closes within ten minutes"
severity = "medium"
summary = "{count} closes"

[params]
min = 3

[[steps]]
name = "close"
message = { contains = ["websocket closed"] }
count = "{min}"
window = "10m"
merge = "5s"

[explain]
cause = "c"
impact = "i"
workaround = "w"
"""


@pytest.mark.parametrize(
    ("clocks", "expected"),
    [
        (["10:00:00", "10:05:00", "10:10:00"], ["3 closes"]),
        (["10:00:00", "10:05:00", "10:10:01"], []),
        (["10:00:00", "10:00:02", "10:00:04"], []),  # within `merge`: one occurrence
        (["10:00:00", "10:05:00", "10:10:01", "10:12:00"], ["3 closes"]),  # window slides
        (["10:00:00", "10:01:00", "10:02:00", "10:03:00"], ["4 closes"]),
    ],
)
def test_count_within_a_sliding_window(clocks: list[str], expected: list[str]) -> None:
    rows = [(clock, "s1", "Gateway websocket closed: 1006") for clock in clocks]
    assert [s for _, s in summary(rows, COUNTED, "burst")] == expected


@pytest.mark.parametrize(("duplicate", "fires"), [(False, True), (True, False)])
def test_duplicate_lines_count_once(duplicate: bool, fires: bool) -> None:
    frame = events(
        [(c, "s1", "Gateway websocket closed") for c in ("10:00:00", "10:00:30", "10:01:00")],
        duplicate=[False, duplicate, False],
    )
    assert bool(match(frame, rule_set(COUNTED, "burst")).findings) is fires


NUMERIC = """
id = "slow"
title = "Event loop delay"
severity = "high"
by = "pid"
session = ["gateway:{pid}", "gateway"]
summary = "max {max_ms} ms"

[params]
threshold = 1000

[[steps]]
name = "liveness"
message = { contains = ["liveness warning"], regex = 'eventLoopDelayMaxMs=(?P<max_ms>[0-9.]+)' }
max_ms = { gte = "{threshold}" }

[explain]
cause = "c"
impact = "i"
workaround = "w"
"""


@pytest.mark.parametrize(("value", "fires"), [("999.9", False), ("1000", True), ("1362.1", True)])
def test_numeric_comparison_on_a_capture(value: str, fires: bool) -> None:
    frame = events(
        [("10:00:00", None, f"liveness warning: reasons=x eventLoopDelayMaxMs={value} y=1")],
        pid=[963591],
    )
    found = [(f.session, f.summary) for f in match(frame, rule_set(NUMERIC, "slow")).findings]
    assert found == ([("gateway:963591", f"max {value} ms")] if fires else [])


def test_same_capture_must_agree_across_steps() -> None:
    text = (
        PAIR.replace('prefix = "A" }', 'regex = "^A (?P<lock>\\\\S+)" }')
        .replace('within = "10m"', 'within = "10m"\nsame = ["lock"]\n')
        .replace('message = { prefix = "B" }', "message = { regex = '^B (?P<lock>\\S+)' }")
    )
    rows = [("10:00:00", "s1", "A x.lock"), ("10:01:00", "s1", "B y.lock")]
    assert summary(rows, text) == []
    rows.append(("10:02:00", "s1", "B x.lock"))
    assert [s for s, _ in summary(rows, text)] == ["s1"]
    assert summary(rows[:1] + rows[2:], text) != []


# The catalogue's own rules on a seed-shaped frame (identity already filled in).

KEY = "agent:main:discord:channel:1506258704541159484"
LOCK = "/home/casper/.openclaw/agents/main/sessions/49e71c56-dcbc-40ab-be04-4a92fd2230be.jsonl.lock"
LANE_ERROR = (
    'lane task error: lane={lane} durationMs=61155 error="SessionWriteLockTimeoutError: {locked}"'
)
LOCKED = f"session file locked (timeout 60000ms): pid=963591 {LOCK}"


def seed(*extra: tuple[str, str | None, str]) -> pl.DataFrame:
    rows = [
        ("13:43:45.077", KEY, "embedded run timeout reached during compaction; extending deadline: "
         "runId=7d2170b5 sessionId=49e71c56-dcbc-40ab-be04-4a92fd2230be extraMs=900000"),
        ("13:45:17.707", KEY, LANE_ERROR.format(lane="main", locked=LOCKED)),
        ("13:45:17.712", KEY, LANE_ERROR.format(lane=f"session:{KEY}", locked=LOCKED)),
        ("13:45:17", KEY, f"Embedded agent failed before reply: {LOCKED}"),
        ("13:46:27", KEY, f"... SessionWriteLockTimeoutError ... {LOCK}"),
        ("13:54:04", KEY, f"... SessionWriteLockTimeoutError ... {LOCK}"),
        *extra,
    ]  # fmt: skip
    n = len(rows)
    return events(
        rows,
        duplicate=[False, False, True, False, False, False] + [False] * (n - 6),
        lock_path=[None, LOCK, LOCK, LOCK, LOCK, LOCK] + [None] * (n - 6),
        lock_alive=[None, True, True, True, None, None] + [None] * (n - 6),
    )


def test_seed_is_one_compaction_lock_leak_and_no_contention() -> None:
    result = match(seed(), load_rules())
    assert [(f.rule, f.session, f.count) for f in result.findings] == [
        ("compaction-lock-leak", KEY, 3),
        ("reply-lost", KEY, 1),
    ]
    leak = result.findings[0]
    assert (leak.first, leak.last) == (at("13:43:45.077"), at("13:54:04"))
    assert leak.summary == (
        "Session write lock held for 10m18s after a failed compaction: 3 turns failed "
        "between 13:45:17 and 13:54:04; not cleared within the log."
    )
    assert leak.details == (("lock_path", LOCK), ("held_for", "10m18s"))
    assert sorted(e.line for e in leak.evidence) == [1, 2, 3, 4, 5, 6]


def test_seed_with_a_restart_reports_when_it_cleared() -> None:
    result = match(
        seed(("13:54:20", None, "http server listening (11 plugins; 0.9s)")), load_rules()
    )
    leak = result.findings[0]
    assert leak.details[-1] == ("cleared_by", "2026-05-19T13:54:20+00:00 j.log:7")
    assert leak.summary.endswith("cleared by gateway restart at 13:54:20 (j.log:7).")


def test_lock_failure_without_compaction_is_contention() -> None:
    rows = [
        (
            "10:00:00",
            KEY,
            f'lane task error: lane=main error="SessionWriteLockTimeoutError: {LOCKED}"',
        )
    ]
    result = match(events(rows, lock_path=[LOCK]), load_rules())
    assert [(f.rule, f.count) for f in result.findings] == [("session-lock-contention", 1)]


def test_compaction_timeout_then_restart_is_a_near_miss_not_a_leak() -> None:
    rows = [
        ("13:43:45", KEY, "embedded run timeout reached during compaction; extending deadline"),
        ("13:54:20", None, "ready"),
        ("13:56:00", KEY, f"SessionWriteLockTimeoutError: {LOCKED}"),
    ]
    result = match(events(rows), load_rules())
    assert [f.rule for f in result.findings] == ["session-lock-contention"]
    leak_misses = [m for m in result.near_misses if m.rule == "compaction-lock-leak"]
    assert [(m.session, m.matched_steps, m.total_steps, m.reason) for m in leak_misses] == [
        (KEY, 1, 2, "broken by gateway restart at 13:54:20 (j.log:2)")
    ]


def test_empty_frame_matches_nothing() -> None:
    assert match(events([]), load_rules()).findings == ()


def test_root_cause_links_symptoms_to_the_cause_in_the_same_session() -> None:
    from triage.rootcause import link, root_causes

    found = link(match(seed(), load_rules()).findings)
    assert [(f.rule, f.caused_by) for f in found] == [
        ("compaction-lock-leak", None),
        ("reply-lost", "compaction-lock-leak"),
    ]
    assert root_causes(found) == {KEY: "compaction-lock-leak"}


def test_a_global_breaker_on_another_key_breaks_only_the_sequences_open_across_it() -> None:
    rows = [
        ("10:00:00", "s2", "A"),  # s2 opens after the breaker below: untouched by it
        ("09:59:00", "s1", "A"),
        ("09:59:30", "s3", "ready"),  # global scope: breaks s1's open sequence, though on s3
        ("10:01:00", "s1", "B"),
        ("10:02:00", "s2", "B"),
        ("10:03:00", "s4", "B"),  # s4 never opened: the breaker is nothing to it
    ]
    result = match(events(rows), rule_set())
    assert [f.session for f in result.findings] == ["s2"]
    assert [(m.session, m.reason) for m in result.near_misses] == [
        ("s1", "broken by gateway restart at 09:59:30 (j.log:3)")
    ]
