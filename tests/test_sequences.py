"""The rule language's later additions as specs: `[[also]]`, `repeat`, `[around]`, `fire_at_end`."""

from __future__ import annotations

import pytest
from test_engine import events

from triage.engine import match
from triage.errors import RuleErrors
from triage.rules import RuleSet, load_rule_text

EXPLAIN = """
[explain]
cause = "c"
impact = "i"
workaround = "w"
"""

ALSO = (
    """
id = "alt"
title = "Two Xs, or one Y"
severity = "high"
summary = "{count} X from {first} to {last}."

[[steps]]
name = "x"
message = { prefix = "X" }
count = 2

[[also]]
name = "y"
summary = "Y at {first}."

[[also.steps]]
name = "y"
message = { prefix = "Y" }
"""
    + EXPLAIN
)

ABSENT = (
    """
id = "noresume"
title = "R without S"
severity = "low"
summary = "R at {first}, no S."

[[steps]]
name = "r"
message = { prefix = "R" }

[[steps]]
name = "s"
message = { prefix = "S" }
absent = true
within = "5m"
fire_at_end = false
"""
    + EXPLAIN
)

CYCLES = (
    """
id = "cycles"
title = "E then S, three times"
severity = "high"
summary = "{count} cycles from {first} to {last}."
repeat = 3
repeat_window = "10m"

[[steps]]
name = "exited"
message = { prefix = "E" }

[[steps]]
name = "started"
message = { prefix = "S" }
"""
    + EXPLAIN
)

AROUND = (
    """
id = "stall"
title = "Stall"
severity = "high"
summary = "Stall at {first}{around}."

[[steps]]
name = "stall"
message = { prefix = "STALL" }

[around]
before = "30s"
after = "10s"
text = "; inside: {list}"

[[around.count]]
name = "reconnect"
message = { prefix = "RECONNECT" }

[[around.count]]
name = "stalled session"
message = { prefix = "STUCK" }
"""
    + EXPLAIN
)


def found(text: str, name: str, rows: list[tuple[str, str | None, str]]) -> list[str]:
    result = match(events(rows), RuleSet((load_rule_text(text, f"{name}.toml"),)))
    return [f"{f.session}: {f.summary}" for f in result.findings]


def misses(text: str, name: str, rows: list[tuple[str, str | None, str]]) -> list[str]:
    result = match(events(rows), RuleSet((load_rule_text(text, f"{name}.toml"),)))
    return [m.reason for m in result.near_misses]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("10:00:00", "s", "Y")], ["s: Y at 10:00:00."]),
        ([("10:00:00", "s", "X"), ("10:01:00", "s", "X")], ["s: 2 X from 10:00:00 to 10:01:00."]),
        # Both sequences match the same episode: one finding, the main sequence's.
        (
            [("10:00:00", "s", "X"), ("10:00:30", "s", "Y"), ("10:01:00", "s", "X")],
            ["s: 2 X from 10:00:00 to 10:01:00."],
        ),
        # Not overlapping in time, or another session: both are kept.
        (
            [("10:00:00", "s", "X"), ("10:01:00", "s", "X"), ("11:00:00", "s", "Y")],
            ["s: 2 X from 10:00:00 to 10:01:00.", "s: Y at 11:00:00."],
        ),
    ],
)
def test_also_sequences_fire_the_same_rule_once_per_episode(
    rows: list[tuple[str, str | None, str]], expected: list[str]
) -> None:
    assert sorted(found(ALSO, "alt", rows)) == expected


@pytest.mark.parametrize(
    ("rows", "fired", "reasons"),
    [
        # The log runs 6 minutes past R: the window elapsed, it fires.
        ([("10:00:00", "k", "R"), ("10:06:00", "other", "noise")], ["k: R at 10:00:00, no S."], []),
        # S came, but after the window: fires as well.
        ([("10:00:00", "k", "R"), ("10:07:00", "k", "S")], ["k: R at 10:00:00, no S."], []),
        # S in time: silent.
        ([("10:00:00", "k", "R"), ("10:04:00", "k", "S"), ("10:20:00", "k", "x")], [], []),
        # The log ends 90 s after R: too early to say, a near miss.
        (
            [("10:00:00", "k", "R"), ("10:01:30", "other", "noise")],
            [],
            ["the log ends 1m30s after 'r' at 10:00:00 (j.log:1), before its 5m00s window elapsed"],
        ),
    ],
)
def test_an_absence_with_fire_at_end_false_waits_for_its_window(
    rows: list[tuple[str, str | None, str]], fired: list[str], reasons: list[str]
) -> None:
    assert found(ABSENT, "noresume", rows) == fired
    assert misses(ABSENT, "noresume", rows) == reasons


TWICE = "'exited' -> 'started' 2 times within 10m00s, fewer than 3"


def cycles(*clocks: str) -> list[tuple[str, str | None, str]]:
    """An E at each clock and an S 20 s later (same minute)."""
    return [row for c in clocks for row in ((f"{c}:00", "u", "E"), (f"{c}:20", "u", "S"))]


@pytest.mark.parametrize(
    ("rows", "fired", "reasons"),
    [
        (cycles("10:00", "10:02", "10:04"), ["u: 3 cycles from 10:00:00 to 10:04:20."], []),
        (
            cycles("10:00", "10:02", "10:04", "10:06"),
            ["u: 4 cycles from 10:00:00 to 10:06:20."],
            [],
        ),
        (cycles("10:00", "10:02"), [], [TWICE]),
        (cycles("10:00", "10:12", "10:24"), [], []),
        # An exit with no start after it is not a cycle.
        ([*cycles("10:00", "10:02"), ("10:04:00", "u", "E")], [], [TWICE]),
    ],
)  # fmt: skip
def test_repeat_needs_the_whole_sequence_that_many_times_within_the_window(
    rows: list[tuple[str, str | None, str]], fired: list[str], reasons: list[str]
) -> None:
    assert found(CYCLES, "cycles", rows) == fired
    assert misses(CYCLES, "cycles", rows) == reasons


def test_around_counts_the_key_s_events_near_the_finding_and_says_nothing_when_none() -> None:
    rows: list[tuple[str, str | None, str]] = [
        ("09:59:00", "g", "RECONNECT early"),  # 60 s before: outside
        ("09:59:40", "g", "RECONNECT a"),
        ("10:00:00", "g", "STALL"),
        ("10:00:05", "g", "RECONNECT b"),
        ("10:00:06", "g", "STUCK s1"),
        ("10:00:07", "other", "STUCK s2"),  # another key
        ("10:00:30", "g", "RECONNECT late"),  # 30 s after: outside
    ]
    assert found(AROUND, "stall", rows) == [
        "g: Stall at 10:00:00; inside: 2 reconnects, 1 stalled session."
    ]
    assert found(AROUND, "stall", [("10:00:00", "g", "STALL")]) == ["g: Stall at 10:00:00."]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('name = "y"\nmessage', 'name = "y"\nmesage'),
         "alt.toml:18: unknown key 'mesage' in also[1].steps[1]; did you mean 'message'?"),
        (('name = "y"\nsummary', 'name = "y"\ncolour = 1\nsummary'),
         "alt.toml:14: unknown key 'colour' in also[1]; expected one of: by, count_step, details, "
         "join, name, repeat, repeat_window, session, steps, summary, without"),
        (('[[also.steps]]\nname = "y"\nmessage = { prefix = "Y" }\n', ""),
         "alt.toml:12: missing key 'steps' in also[1]; add at least one [[also.steps]] table"),
    ],
)  # fmt: skip
def test_errors_in_also_tables_are_located(edit: tuple[str, str], message: str) -> None:
    text = ALSO.replace(*edit)
    assert text != ALSO
    with pytest.raises(RuleErrors) as raised:
        load_rule_text(text, "alt.toml")
    assert str(raised.value).startswith(message)


def test_around_needs_a_list_field_and_a_count() -> None:
    with pytest.raises(RuleErrors) as raised:
        load_rule_text(AROUND.replace("{list}", "{lst}"), "stall.toml")
    assert str(raised.value) == "stall.toml:14: around.text must be a string with a {list} field"
