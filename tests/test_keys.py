"""Whose line is it: the engine's key borrowing, a rule's `join`, and the summary fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from triage.engine import match
from triage.episode import Counted
from triage.errors import RuleErrors
from triage.events import EVENT_SCHEMA, conform
from triage.hits import iso, span
from triage.rules import RuleSet, load_rule_text

EXPLAIN = '[explain]\ncause = "c"\nimpact = "i"\nworkaround = "w"\n'


def rule(by: str, message: str, extra: str = "", name: str = "r") -> RuleSet:
    text = (
        f'id = "{name}"\ntitle = "t"\nseverity = "high"\nby = {by}\n{extra}\n'
        f'summary = "{{count}} at {{first}}"\n[[steps]]\nname = "hit"\n'
        f'message = {{ contains = ["{message}"] }}\n{EXPLAIN}'
    )
    return RuleSet((load_rule_text(text, f"{name}.toml"),))


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    """Rows of column values; `t` is `SS.fff` seconds after 10:00, lines numbered from 1."""
    data = [
        {
            "file": row.get("file", "j.log"),
            "line": i,
            "ts": datetime(2026, 5, 19, 10, 0, tzinfo=UTC).replace(
                second=int(row["t"]), microsecond=round(row["t"] % 1 * 1e6)
            ),
            **{k: v for k, v in row.items() if k not in ("t", "file")},
        }
        for i, row in enumerate(rows, 1)
    ]
    df = pl.DataFrame(data, schema_overrides={"line": pl.UInt32, "ts": pl.Datetime("us", "UTC")})
    return conform(df, EVENT_SCHEMA)


def sessions(rules: RuleSet, *rows: dict[str, Any]) -> list[tuple[str, list[int]]]:
    found = match(frame(*rows), rules).findings
    return [(f.session, [e.line for e in f.evidence]) for f in found]


LOST = rule('"session"', "failed before reply")
FAILED = "Embedded agent failed before reply: boom"
S1_ERROR = {"message": "lane task error: lane=session:s1 error=boom", "session": "s1"}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [{"t": 0.0, "pid": 7, **S1_ERROR}, {"t": 0.01, "pid": 7, "message": FAILED}],
            [("s1", [2])],
        ),
        (  # another process's line in between: the lender of the same pid wins
            [
                {"t": 0.0, "pid": 7, **S1_ERROR},
                {"t": 0.005, "pid": 8, "message": "turn done", "session": "s2"},
                {"t": 0.01, "pid": 7, "message": FAILED},
            ],
            [("s1", [3])],
        ),
        (  # tagged: not one of the borrowing lines
            [
                {"t": 0.0, "pid": 7, **S1_ERROR},
                {"t": 0.01, "pid": 7, "message": FAILED, "subsystem": "agent/embedded"},
            ],
            [],
        ),
        (  # more than 5 s away
            [{"t": 0.0, "pid": 7, **S1_ERROR}, {"t": 5.01, "pid": 7, "message": FAILED}],
            [],
        ),
    ],
    ids=["joins-the-lane-error", "same-pid-first", "tagged-keeps-none", "too-far"],
)
def test_failed_before_reply_borrows_the_session_before_it(
    rows: list[dict[str, Any]], expected: list[tuple[str, list[int]]]
) -> None:
    assert sessions(LOST, *rows) == expected


def test_other_lines_never_borrow_a_session() -> None:
    rules = rule('"session"', "dispatch complete")
    rows = [{"t": 0.0, "pid": 7, **S1_ERROR}, {"t": 0.01, "pid": 7, "message": "dispatch complete"}]
    assert sessions(rules, *rows) == []


def test_lane_main_joins_its_lane_session_twin_not_the_nearest_line() -> None:
    rules = rule('"session"', "FailoverError")
    error = 'lane task error: lane={} error="FailoverError: x"'
    rows = [
        {"t": 0.0, "pid": 7, "message": "lane task done: lane=session:s2", "session": "s2",
         "lane": "session:s2"},
        {"t": 0.001, "pid": 7, "message": "inbound message", "session": "s2"},
        {"t": 0.002, "pid": 7, "message": error.format("main"), "lane": "main"},
        {"t": 0.004, "pid": 7, "message": error.format("session:s1"), "session": "s1",
         "lane": "session:s1"},
    ]  # fmt: skip
    assert sessions(rules, *rows) == [("s1", [3, 4])]


def test_a_v8_abort_joins_the_exit_line_of_its_unit_after_it() -> None:
    rules = rule('"unit"', "JavaScript heap out of memory")
    rows = [
        {"t": 0.0, "pid": 1, "message": "other.service: Started.", "unit": "other.service"},
        {"t": 0.5, "pid": 42, "message": "FATAL ERROR: JavaScript heap out of memory"},
        {"t": 1.0, "pid": 1, "message": "myapp.service: Main process exited, code=killed",
         "unit": "myapp.service"},
    ]  # fmt: skip
    assert sessions(rules, *rows) == [("myapp.service", [2])]


KILLS = rule(
    '["unit", "host"]',
    "oom",
    'join = "10s"\nsession = ["{unit}", "{key}"]',
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [
                {"t": 0.0, "host": "h", "message": "kernel oom"},
                {"t": 1.0, "host": "h", "message": "a.service oom", "unit": "a.service"},
            ],
            [("a.service", [1, 2])],
        ),
        (  # more than `join` apart: the kernel line stays the host's
            [
                {"t": 0.0, "host": "h", "message": "kernel oom"},
                {"t": 10.5, "host": "h", "message": "a.service oom", "unit": "a.service"},
            ],
            [("a.service", [2]), ("h", [1])],
        ),
        (  # another file lends nothing
            [
                {"t": 0.0, "host": "h", "message": "kernel oom", "file": "k.log"},
                {"t": 1.0, "host": "h", "message": "a.service oom", "unit": "a.service"},
            ],
            [("a.service", [2]), ("h", [1])],
        ),
        (  # the nearer of two units
            [
                {"t": 0.0, "host": "h", "message": "a.service oom", "unit": "a.service"},
                {"t": 7.0, "host": "h", "message": "kernel oom"},
                {"t": 8.0, "host": "h", "message": "b.service oom", "unit": "b.service"},
            ],
            [("a.service", [1]), ("b.service", [2, 3])],
        ),
        (  # a lender of the same pid wins over a nearer one
            [
                {"t": 0.0, "host": "h", "message": "a.service oom", "unit": "a.service", "pid": 5},
                {"t": 7.0, "host": "h", "message": "kernel oom", "pid": 5},
                {"t": 8.0, "host": "h", "message": "b.service oom", "unit": "b.service"},
            ],
            [("a.service", [1, 2]), ("b.service", [3])],
        ),
    ],
    ids=["joins", "too-far", "other-file", "nearest", "same-pid"],
)
def test_join_gives_a_hit_without_the_first_by_field_its_neighbours_key(
    rows: list[dict[str, Any]], expected: list[tuple[str, list[int]]]
) -> None:
    assert sorted(sessions(KILLS, *rows)) == expected


def test_join_needs_a_fallback_key() -> None:
    with pytest.raises(RuleErrors) as bad:
        rule('"unit"', "oom", 'join = "10s"')
    assert str(bad.value) == (
        "r.toml:5: join needs a fallback in by (by = [<field>, <fallback>, ...])"
    )


@pytest.mark.parametrize(
    ("count", "template", "text"),
    [
        (1, "{count:turn} failed", "1 turn failed"),
        (3, "{count:turn} failed", "3 turns failed"),
        (2, "{count:reply|replies}", "2 replies"),
        (1, "{count:reply|replies}", "1 reply"),
        (3, "{count} x", "3 x"),
        (3, "[{count:>3}]", "[  3]"),
    ],
)
def test_count_pluralises_its_noun(count: int, template: str, text: str) -> None:
    assert template.format(count=Counted(count)) == text


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-05-19T{clock}+00:00")


@pytest.mark.parametrize(
    ("times", "text"),
    [
        (["13:43:14"], "at 13:43:14"),
        (["13:43:14.100", "13:43:14.900"], "at 13:43:14"),
        (["13:53:05", "13:43:14", "13:46:27"], "between 13:43:14 and 13:53:05"),
    ],
)
def test_when_is_one_time_or_the_first_and_last(times: list[str], text: str) -> None:
    assert span([at(t) for t in times]) == text


@pytest.mark.parametrize(
    ("clock", "text"),
    [
        ("13:56:27.284", "2026-05-19T13:56:27.284+00:00"),
        ("13:56:27", "2026-05-19T13:56:27+00:00"),
        ("13:56:27.284512", "2026-05-19T13:56:27.284512+00:00"),
    ],
)
def test_detail_times_use_the_reports_iso_form(clock: str, text: str) -> None:
    assert iso(at(clock)) == text
