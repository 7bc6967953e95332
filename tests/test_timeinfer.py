"""Time: years for year-less stamps, zones for zone-less ones, jumps, time-only gateway stamps."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.parsers import parse
from triage.parsers.base import ParseOptions


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def parsed(tmp_path: Path, text: str, mtime: datetime | None = None, **opts: object):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.log"
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return parse(str(path), ParseOptions(**opts))  # type: ignore[arg-type]


def stamps(tmp_path: Path, text: str, mtime: datetime | None = None, **opts: object) -> list:  # type: ignore[type-arg]
    return parsed(tmp_path, text, mtime, **opts).events["ts"].to_list()


def test_year_from_option_is_the_year_of_the_last_entry(tmp_path: Path) -> None:
    text = "Dec 31 23:59:00 h x: a\nJan 01 00:01:00 h x: b\n"
    assert stamps(tmp_path, text, year=2025) == [at(2024, 12, 31, 23, 59), at(2025, 1, 1, 0, 1)]


def test_year_and_zone_from_gateway_iso_stamps(tmp_path: Path) -> None:
    text = (
        "May 19 15:43:45 h node[1]: 2026-05-19T13:43:45.077+00:00 [gateway] ready\n"
        "May 19 15:50:00 h systemd[1]: Stopped x.\n"
    )
    result = parsed(tmp_path, text)
    assert result.events["ts"].to_list() == [
        at(2026, 5, 19, 13, 43, 45, 77000),
        at(2026, 5, 19, 13, 50),
    ]
    assert result.events["ts_inferred"].to_list() == [False, True]


def test_year_from_mtime_steps_back_when_the_date_would_be_in_the_future(tmp_path: Path) -> None:
    text = "Dec 30 10:00:00 h x: a\n"
    result = parsed(tmp_path, text, mtime=at(2026, 1, 2, 12))
    assert result.events["ts"].to_list() == [at(2025, 12, 30, 10)]
    assert any("year inferred from the file mtime" in n for n in result.summary.notes)


def test_rollover_forwards_and_out_of_order_lines(tmp_path: Path) -> None:
    text = (
        "Nov 30 10:00:00 h x: a\n"
        "Jan 01 00:00:01 h x: b\n"
        "Dec 31 23:59:59 h x: late\n"
        "Jan 01 00:00:02 h x: c\n"
        "Mar 01 00:00:00 h x: d\n"
    )
    years = [t.year for t in stamps(tmp_path, text, year=2026)]
    assert years == [2025, 2026, 2025, 2026, 2026]


def test_small_month_steps_are_not_rollovers(tmp_path: Path) -> None:
    text = "May 31 23:59:59 h x: a\nJun 01 00:00:00 h x: b\nMay 31 23:59:58 h x: c\n"
    assert [t.year for t in stamps(tmp_path, text, year=2026)] == [2026, 2026, 2026]


def test_feb_29_moves_to_the_nearest_leap_year(tmp_path: Path) -> None:
    assert stamps(tmp_path, "Feb 29 12:00:00 h x: a\n", year=2025) == [at(2024, 2, 29, 12)]


def test_zone_option_for_zone_less_stamps(tmp_path: Path) -> None:
    text = "Jul 01 12:00:00 h x: a\n"
    assert stamps(tmp_path, text, year=2026, tz="Europe/Paris") == [at(2026, 7, 1, 10)]


def test_learnt_offset_beats_the_zone_option(tmp_path: Path) -> None:
    text = (
        "Jul 01 17:30:00 h node[1]: 2026-07-01T12:00:00.000+00:00 [gateway] ready\n"
        "Jul 01 17:31:00 h systemd[1]: Stopped x.\n"
    )
    assert stamps(tmp_path, text, tz="Europe/Paris")[1] == at(2026, 7, 1, 12, 1)


def test_utc_when_nothing_is_known(tmp_path: Path) -> None:
    result = parsed(tmp_path, "Jul 01 12:00:00 h x: a\n", year=2026)
    assert result.events["ts"].to_list() == [at(2026, 7, 1, 12)]
    assert result.events["ts_inferred"].to_list() == [True]


def test_given_year_and_zone_are_not_inferred(tmp_path: Path) -> None:
    result = parsed(tmp_path, "Jul 01 12:00:00 h x: a\n", year=2026, tz="UTC")
    assert result.events["ts_inferred"].to_list() == [False]


@pytest.mark.parametrize(
    ("first", "second", "times"),
    [
        # The date of the dated entry before; past midnight when that is over 12 h back.
        ("2026-05-19T10:00:00.000Z", "10:05:00", [at(2026, 5, 19, 10), at(2026, 5, 19, 10, 5)]),
        (
            "2026-05-19T23:59:00.000Z",
            "00:00:05",
            [at(2026, 5, 19, 23, 59), at(2026, 5, 20, 0, 0, 5)],
        ),
        # None before: the date of the dated entry after; the day before when over 12 h ahead.
        ("23:58:00", "2026-05-20T00:01:00.000Z", [at(2026, 5, 19, 23, 58), at(2026, 5, 20, 0, 1)]),
        (
            "00:00:30",
            "2026-05-20T00:01:00.000Z",
            [at(2026, 5, 20, 0, 0, 30), at(2026, 5, 20, 0, 1)],
        ),
    ],
)
def test_time_only_gateway_stamps_take_the_date_around_them(
    tmp_path: Path, first: str, second: str, times: list[datetime]
) -> None:
    text = f"{first} [gateway] ready\n{second} [diagnostic] liveness warning: x\n"
    result = parsed(tmp_path, text)
    assert result.events["ts"].to_list() == times
    inferred = [not first.startswith("2026"), not second.startswith("2026")]
    assert result.events["ts_inferred"].to_list() == inferred


def test_prefiltered_time_only_stamps_take_the_date_of_left_out_lines(tmp_path: Path) -> None:
    # The dated line holds no keep literal: the prefilter leaves it out, so the input is read
    # again in full, and the time-only line gets the date a full parse gives it.
    text = "2026-05-19T23:59:00.000Z [gateway] idle\n00:00:05 [x] keepme sessionId=s1\n"
    result = parsed(tmp_path, text, mtime=at(2026, 11, 25), keep=("keepme",))
    assert result.events["ts"].to_list() == [at(2026, 5, 19, 23, 59), at(2026, 5, 20, 0, 0, 5)]


MULTI_DAY = (
    "22:00:00 [gateway] a\n23:59:59 [x] b\n00:00:01 [x] c\n12:00:00 [x] d\n"
    "23:00:00 [x] e\n01:00:00 [x] f\n"
)


@pytest.mark.parametrize("keep", [None, ("x]",)])
def test_time_only_stamps_alone_count_midnights_back_from_the_file_mtime(
    tmp_path: Path, keep: tuple[str, ...] | None
) -> None:
    # A terminal's console log over three days: a fall of over 12 h is a new day, and the
    # last entry is on the mtime's day. Prefiltered (line 1 left out) or not, the same times.
    result = parsed(tmp_path, MULTI_DAY, mtime=at(2026, 5, 21, 1, 5), keep=keep)
    days = [19, 19, 20, 20, 20, 21]
    hours = [(22, 0, 0), (23, 59, 59), (0, 0, 1), (12, 0, 0), (23, 0, 0), (1, 0, 0)]
    expected = [at(2026, 5, d, *h) for d, h in zip(days, hours, strict=True)]
    assert result.events["ts"].to_list() == expected[-result.events.height :]
    assert not [n for n in result.summary.notes if "clock jump backwards" in n]


def test_time_only_stamps_alone_end_the_day_before_an_mtime_earlier_in_its_day(
    tmp_path: Path,
) -> None:
    result = parsed(tmp_path, "23:58:00 [x] a\n", mtime=at(2026, 5, 20, 0, 1))
    assert result.events["ts"].to_list() == [at(2026, 5, 19, 23, 58)]


def test_time_only_stamps_count_every_midnight_since_the_dated_entry(tmp_path: Path) -> None:
    text = (
        "2026-05-19T10:00:00.000Z [gateway] ready\n20:00:00 [x] a\n03:00:00 [x] b\n11:00:00 [x] c\n"
    )
    result = parsed(tmp_path, text)
    hours = [(19, 10), (19, 20), (20, 3), (20, 11)]
    assert result.events["ts"].to_list() == [at(2026, 5, d, h) for d, h in hours]


@pytest.mark.parametrize(
    ("second", "day"),
    [("00:58:59", 20), ("00:59:00", 19), ("23:59:59", 19)],
)
def test_a_new_day_is_a_fall_of_over_12_hours(tmp_path: Path, second: str, day: int) -> None:
    text = f"2026-05-19T12:59:00Z [gateway] ready\n{second} [x] a\n"
    hms = tuple(int(part) for part in second.split(":"))
    assert parsed(tmp_path, text).events["ts"].to_list()[1] == at(2026, 5, day, *hms)


def test_seconds_of_day_read_the_clock_at_the_start() -> None:
    import polars as pl

    from triage.timeinfer import seconds_of_day

    texts = ["23:59:59 x", "00:00:00", "12:34:56.789", "24:00:00", "2026-05-19", "", None]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    seconds = frame.select(seconds_of_day(pl.col("t")))["t"].to_list()
    assert seconds == [86399, 0, 45296, None, None, None, None]


def test_time_only_stamps_alone_stay_prefiltered(tmp_path: Path) -> None:
    # No line has a date (a terminal's console log): nothing to re-read; the mtime dates them.
    text = "23:59:00 [gateway] idle\n00:00:05 [x] keepme sessionId=s1\n"
    result = parsed(tmp_path, text, mtime=at(2026, 11, 25), keep=("keepme",))
    assert result.events["line"].to_list() == [2]
    assert result.events["ts"].to_list() == [at(2026, 11, 25, 0, 0, 5)]
    assert result.summary.events == 2


@pytest.mark.parametrize(
    ("second", "note"),
    [
        ("May 19 11:00:00", "clock jump backwards at {path}:2"),
        ("May 19 14:00:01", "clock jump forwards (over 1 h) at {path}:2"),
        ("May 19 12:59:59", None),
    ],
)
def test_clock_jumps_are_noted(tmp_path: Path, second: str, note: str | None) -> None:
    result = parsed(tmp_path, f"May 19 13:00:00 h x: a\n{second} h x: b\n", year=2026, tz="UTC")
    path = str(tmp_path / "t.log")
    jumps = [n for n in result.summary.notes if "clock jump" in n]
    assert jumps == ([note.format(path=path)] if note else [])
    assert result.events["line"].to_list() == [1, 2]


def test_prefiltered_reads_note_only_jumps_between_neighbours(tmp_path: Path) -> None:
    # Entries 30 minutes apart; the prefilter keeps lines 1, 6, 7 and 8: two and a half hours
    # lie between lines 1 and 6, but no jump; the jumps at 7 and 8 are between neighbours.
    times = ["10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "14:00", "13:50"]
    bodies = ["keepme", "x", "x", "x", "x", "keepme", "keepme", "keepme"]
    text = "".join(
        f"2026-05-19T{t}:00+0000 h node[1]: {b}\n" for t, b in zip(times, bodies, strict=True)
    )
    path = str(tmp_path / "t.log")
    for keep in (None, ("keepme",)):
        notes = parsed(tmp_path, text, keep=keep).summary.notes
        assert notes == (
            f"clock jump backwards at {path}:8",
            f"clock jump forwards (over 1 h) at {path}:7",
        )


def test_year_from_the_journal_header(tmp_path: Path) -> None:
    text = (
        "-- Logs begin at Thu 2021-04-29 17:44:42 BST, end at Thu 2021-05-06 09:05:01 BST. --\n"
        "May 06 09:00:00 h x: a\n"
    )
    result = parsed(tmp_path, text, mtime=at(2026, 1, 2))
    assert result.events["ts"].to_list() == [at(2021, 5, 6, 9)]
    assert any("from the journal header" in n for n in result.summary.notes)
