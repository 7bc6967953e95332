"""Properties over arbitrary input: only TriageErrors escape, and every line is accounted for."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.errors import TriageError
from triage.findings import SessionSummary
from triage.identity import identify, learnt_keys, with_session
from triage.parsers import parse
from triage.parsers.base import ParseOptions
from triage.parsers.journal_short import MODES
from triage.pipeline import summarize_sessions

LINE_PARTS = [
    "May 19 13:43:45 casper node[963591]:",
    " 2026-05-19T13:43:45.077+00:00",
    " [diagnostic]",
    ' error="SessionWriteLockTimeoutError: x',
    "2026-05-19T13:43:45+00:00 h x[1]: ",
    "Tue 2026-05-19 13:43:45 UTC h x.service[1]: ",
    "[ 5123.456789] h x[1]: ",
    "1779198225.077123 h x[1]: ",
    "-- Boot 9e2ffa348b354fbc8555aa1f524214e5 --",
    "    at foo (x.js:1:1)",
    "● unit",
    "lane=session:agent:main:main",
    "\x1b[31m",
    "[33m",
    ":",
    '"',
    " ",
    "\t",
    "\r",
    "\x00",
    "\n",
    "\n\n",
    "Feb 29 00:00:00 h x: ",
    "déc. 31 23:59:59 h x: ",
]
FORMATS = [None, *(m.name for m in MODES)]
texty = st.lists(st.sampled_from(LINE_PARTS) | st.text(max_size=8), max_size=40).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
)
blobs = st.binary(max_size=400) | texty


def check(data: bytes, options: ParseOptions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.log"
        path.write_bytes(data)
        try:
            result = parse(str(path), options)
        except TriageError:
            return
    s = result.summary
    assert s.lines == s.events + s.continuations + s.noise + s.unparsed
    assert s.lines == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    assert result.events.height <= s.events


settings_ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(data=blobs, fmt=st.sampled_from(FORMATS))
def test_any_bytes_in_any_line_format(data: bytes, fmt: str | None) -> None:
    check(data, ParseOptions(input_format=fmt))


@settings_
@given(
    data=texty,
    keep=st.sampled_from([("node",), ("lane=",), ("zzz",), ("",)]),
    chunk=st.sampled_from([40, 150, 1 << 20]),  # small blocks: continuations across blocks
)
def test_prefilter_keeps_the_accounting(data: bytes, keep: tuple[str, ...], chunk: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("triage.parsers.reader.CHUNK", chunk)
        check(data, ParseOptions(keep=keep, year=2026))
        full = _summary(data, ParseOptions(year=2026))
        kept = _summary(data, ParseOptions(keep=keep, year=2026))
    assert full == kept


def _summary(data: bytes, options: ParseOptions) -> tuple[int, ...] | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.log"
        path.write_bytes(data)
        try:
            s = parse(str(path), options).summary
        except TriageError:
            return None
    return (s.lines, s.events, s.continuations, s.noise, s.unparsed)


JOURNAL = ["2026-05-19T13:43:45+00:00 h node[1]: ", "2026-05-19T13:43:46+00:00 h node[1]: ", ""]
GATEWAY = ["2026-05-19T13:43:45.077+00:00 ", "2026-05-19T13:43:44.5Z ", "13:43:45 ", ""]
PREFIX = [
    "[agent/embedded] ",
    "info gw {sessionKey=agent:main:z} ",
    "subsystem=x: ",
    "\x1b[31m",
    "",
]
BODY = [
    "sessionId=s1 ",
    "sessionId=s2 ",
    "sessionKey=agent:main:a ",
    "lane=session:agent:main:b ",
    "key=agent:main:c ",
    "/x/sessions/s3.jsonl.lock ",
    "sessionId=xxx ",
    "keepme ",
    ": ",
]
gateway_line = st.tuples(
    st.sampled_from(GATEWAY),
    st.sampled_from(PREFIX),
    st.lists(st.sampled_from(BODY), max_size=4).map("".join),
).map("".join)
session_line = st.tuples(st.sampled_from(JOURNAL), gateway_line).map("".join)


def _logs(line: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Up to 12 lines of `line` or a stack-trace continuation."""
    lines = st.lists(line | st.just("    at x (a.js:1:1)"), max_size=12)
    return lines.map(lambda chosen: "\n".join(chosen).encode())


session_logs = _logs(session_line)
console_logs = _logs(gateway_line)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=session_logs)
def test_prefilter_tally_gives_the_full_sessions_table(data: bytes) -> None:
    assert_prefilter_keeps_sessions(data, "journal-short-iso")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=console_logs)
def test_console_prefilter_tally_gives_the_full_sessions_table(data: bytes) -> None:
    # Time-only stamps (`13:43:45`) take their date from the ISO-stamped lines around them.
    assert_prefilter_keeps_sessions(data, "gateway-console")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=session_logs | console_logs, chunk=st.integers(40, 400))
def test_prefilter_in_small_blocks_keeps_the_accounting(data: bytes, chunk: int) -> None:
    # Stack-trace lines continue the entry before them, also across a block's start: the
    # prefilter keeps that entry (no keep literal of its own) so that the parser joins them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("triage.parsers.reader.CHUNK", chunk)
        full = _summary(data, ParseOptions())
        kept = _summary(data, ParseOptions(keep=("keepme",)))
    assert kept == full


def assert_prefilter_keeps_sessions(data: bytes, fmt: str) -> None:
    full = _sessions(data, ParseOptions(input_format=fmt))
    kept = _sessions(data, ParseOptions(input_format=fmt, keep=("keepme",)))
    assert kept == full


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
classic_entry = st.tuples(
    st.integers(-7, 7),  # months since the previous entry (a walk over several years)
    st.sampled_from(["keepme", "x", "sessionId=s1 x", "x\n    at y (a.js:1:1)"]),
    st.sampled_from(["", "", "\x1b[31m", "[33m"]),  # colour: the prefilter keeps the line
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(classic_entry, max_size=14), chunk=st.integers(40, 400))
def test_prefiltered_classic_years_are_the_full_parses(
    entries: list[tuple[int, str, str]], chunk: int
) -> None:
    # `May 19` stamps have no year: a fall of half a year is a new year, counted over every
    # entry, also those the prefilter leaves out (small blocks: the count crosses blocks) and
    # those it keeps for a look by the parser (a coloured line starts an entry once cleaned).
    month, lines = 5 * 12, []
    for step, body, colour in entries:
        month += step
        lines.append(f"{colour}{MONTHS[month % 12]} 19 13:43:45 h node[1]: {body}")
    data = "\n".join(lines).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("triage.parsers.reader.CHUNK", chunk)
        full = _times(data, ParseOptions(input_format="journal-short", year=2026))
        kept = _times(data, ParseOptions(input_format="journal-short", year=2026, keep=("keep",)))
    assert kept.items() <= full.items()


console_entry = st.tuples(
    st.sampled_from([0, 1, 59, 300, 700, 719, 720, 721, 1000, 1439, -1, -5]),  # minutes on
    st.sampled_from(["keepme", "x", "x", "x", "x\n    at y (a.js:1:1)", "\x1b[2mx"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(console_entry, max_size=14), chunk=st.integers(30, 300))
def test_prefiltered_time_only_days_are_the_full_parses(
    entries: list[tuple[int, str]], chunk: int
) -> None:
    # A terminal's console log (`HH:MM:SS` stamps only) over days: a fall of over 12 h in the
    # time of day is a new day, counted over every entry, also those the prefilter leaves out
    # (small blocks: the runs of left-out lines cross blocks; stack traces and ANSI lines are
    # kept and may make the reader read a left-out line back).
    minute, lines = 22 * 60, []
    for step, body in entries:
        minute += step
        lines.append(f"{minute // 60 % 24:02d}:{minute % 60:02d}:07 [x] {body}")
    data = "\n".join(lines).encode()
    options = ParseOptions(input_format="gateway-console")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("triage.parsers.reader.CHUNK", chunk)
        full = _times(data, options, mtime=1779235200)  # 2026-05-20T00:00:00Z
        kept = _times(data, replace(options, keep=("keepme",)), mtime=1779235200)
    assert kept.items() <= full.items()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(
        st.tuples(st.sampled_from([-20, -3, 0, 5, 30, 70, 200]), st.booleans()), max_size=6
    )
)
def test_prefiltered_clock_jumps_are_the_full_parses(entries: list[tuple[int, bool]]) -> None:
    # The prefilter leaves out the lines without `keepme`: it notes a jump only between two
    # neighbours, which the full parse notes too (six entries: fewer jumps than it lists).
    minute, lines = 600, []
    for step, keep in entries:
        minute += step
        stamp = f"2026-05-19T{minute // 60 % 24:02d}:{minute % 60:02d}:00+0000"
        lines.append(f"{stamp} h node[1]: {'keepme' if keep else 'x'}")
    data = "\n".join(lines).encode()
    full = _jumps(data, ParseOptions())
    kept = _jumps(data, ParseOptions(keep=("keepme",)))
    assert kept <= full


def _jumps(data: bytes, options: ParseOptions) -> set[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.log"
        path.write_bytes(data)
        notes = parse(str(path), options).summary.notes
    return {n.split(" at ")[0] + n[n.rindex(":") :] for n in notes if " at " in n and "jump" in n}


def _times(data: bytes, options: ParseOptions, mtime: int | None = None) -> dict[int, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.log"
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        events = parse(str(path), options).events
    return dict(zip(events["line"].to_list(), events["ts"].to_list(), strict=True))


CONSOLE_JSON = [
    '{"subsystem":"diagnostic","message":"lane task error: lane=session:agent:main:d"}',
    '{"time":"2026-05-19T13:43:47.5Z","level":"warn","message":"sessionId=s4 keepme"}',
    '{"time":"2026-05-19T13:40:00Z","level":"info","message":"sessionId=s5 tallied"}',
]
gateway_message = gateway_line | st.sampled_from(CONSOLE_JSON)


def json_entry(message: str, as_bytes: bool, micros: int) -> str:
    """One `journalctl -o json` line; MESSAGE as a byte array when `as_bytes` (as for ANSI)."""
    value: str | list[int] = list(message.encode()) if as_bytes else message
    fields = {"__REALTIME_TIMESTAMP": str(micros), "_PID": "1", "MESSAGE": value}
    return json.dumps({"SYSLOG_IDENTIFIER": "node", **fields}, ensure_ascii=False)


json_logs = st.lists(
    st.tuples(gateway_message, st.booleans(), st.integers(1779198225000000, 1779198229999999)),
    max_size=12,
).map(lambda entries: "\n".join(json_entry(*e) for e in entries).encode())


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_logs)
def test_json_prefilter_tally_gives_the_full_sessions_table(data: bytes) -> None:
    full = _sessions(data, ParseOptions(input_format="journal-json"))
    kept = _sessions(data, ParseOptions(input_format="journal-json", keep=("keepme",)))
    assert kept == full


def _sessions(data: bytes, options: ParseOptions) -> tuple[SessionSummary, ...]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.log"
        path.write_bytes(data)
        result = parse(str(path), options)
    events = identify(result.events, result.pairs)
    tally = with_session(result.tally, learnt_keys(events, result.pairs))
    return summarize_sessions(events, [], tally)
