"""Reading any input: accounting, pasted excerpts, bad bytes, bad files, the prefilter."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from triage.errors import Location, ParseError
from triage.parsers import FORMATS, detect, parse
from triage.parsers.base import ParseOptions
from triage.parsers.reader import SEPARATORS, head_lines, open_source

SEPARATORS_ALL = [ord(s) for s in SEPARATORS]
SEED_KEY = "agent:main:discord:channel:1506258704541159484"
LOCK = "/home/casper/.openclaw/agents/main/sessions/49e71c56-dcbc-40ab-be04-4a92fd2230be.jsonl.lock"


def write(tmp_path: Path, data: bytes, name: str = "x.log") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def accounts(summary: object) -> tuple[int, int, int, int, int]:
    s = summary
    return (s.lines, s.events, s.continuations, s.noise, s.unparsed)  # type: ignore[attr-defined]


def test_seed_excerpt_entries_lines_and_accounting(data: Path) -> None:
    result = parse(str(data / "seed-excerpt.log"))
    rows = result.events.select("line", "end_line").rows()
    assert rows == [(1, 6), (10, 11), (17, 21), (25, 29), (33, 36), (42, 42), (43, 43)]
    assert accounts(result.summary) == (43, 7, 17, 19, 0)
    assert result.summary.format == "journal-short"


def test_seed_excerpt_reflowed_messages_are_joined(data: Path) -> None:
    events = parse(str(data / "seed-excerpt.log")).events
    messages = events["message"].to_list()
    assert messages[0] == (
        "embedded run timeout reached during compaction; extending deadline: "
        "runId=7d2170b5-3733-4439-8451-cad42efa577b "
        "sessionId=49e71c56-dcbc-40ab-be04-4a92fd2230be extraMs=900000"
    )
    assert (
        messages[1]
        == 'CommandLaneTaskTimeoutError: Command lane "main" task timed out after 930000ms'
    )
    assert messages[2] == (
        'lane task error: lane=main durationMs=61155 error="SessionWriteLockTimeoutError: '
        f'session file locked (timeout 60000ms): pid=963591 {LOCK}"'
    )
    assert messages[4] == (
        "Embedded agent failed before reply: session file locked (timeout 60000ms): "
        f"pid=963591 {LOCK}"
    )
    assert events["subsystem"].to_list()[:4] == ["agent/embedded", None, "diagnostic", "diagnostic"]
    assert events["file"].unique().to_list() == [str(data / "seed-excerpt.log")]


def test_seed_paste_with_prose_accounts_for_every_line(data: Path) -> None:
    summary = parse(str(data / "seed-paste.txt")).summary
    assert (
        summary.lines == summary.events + summary.continuations + summary.noise + summary.unparsed
    )
    assert summary.events >= 7


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", (0, 0, 0, 0, 0)),
        (b"\n", (1, 0, 0, 1, 0)),
        (b"May 19 13:43:45 h x[1]: a\r\nMay 19 13:43:46 h x[1]: b\r\n", (2, 2, 0, 0, 0)),
        (b"May 19 13:43:45 h x[1]: a\nMay 19 13:43:46 h x[1]: no newline", (2, 2, 0, 0, 0)),
        (b"May 19 13:43:45 h x[1]: a\x00b\n", (1, 1, 0, 0, 0)),
        (b"May 19 13:43:45 h x[1]: caf\xe9 \xff\n", (1, 1, 0, 0, 0)),
        (b"May 19 13:43:45 h x[1]: a\x1fb\n", (1, 1, 0, 0, 0)),  # the splitter's separator
        (b"May 19 13:43:45 h x[1]: a\x1fb \xff\n", (1, 1, 0, 0, 0)),
        (b"-- Reboot --\n-- No entries --\n\xe2\x96\x91\xe2\x96\x91 Subject: x\n", (3, 0, 0, 3, 0)),
        (b"May 19 13:43:45 h x[1]: a\n\x01\x02garbage\n", (2, 1, 0, 0, 1)),
    ],
)
def test_accounting(tmp_path: Path, data: bytes, expected: tuple[int, ...]) -> None:
    assert accounts(parse(write(tmp_path, data)).summary) == expected


def test_crlf_nul_and_invalid_utf8_are_kept_as_content(tmp_path: Path) -> None:
    path = write(tmp_path, b"May 19 13:43:45 h x[1]: a\x00b caf\xe9\r\n")
    assert parse(path).events["message"].to_list() == ["a\x00b caf\ufffd"]


def test_a_ten_megabyte_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"May 19 13:43:45 h x[1]: " + b"y" * 10_000_000 + b"\n")
    events = parse(path).events
    assert events["message"].str.len_bytes().to_list() == [10_000_000]


def test_gzip_input(tmp_path: Path, data: Path) -> None:
    raw = (data / "seed-excerpt.log").read_bytes()
    path = write(tmp_path, gzip.compress(raw), "seed.log.gz")
    assert accounts(parse(path).summary) == (43, 7, 17, 19, 0)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file; check the path"),
        ("directory", "is a directory; give the log file inside it"),
    ],
)
def test_unreadable_inputs(tmp_path: Path, setup: str, message: str) -> None:
    path = str(tmp_path / "nope.log") if setup == "missing" else str(tmp_path)
    with pytest.raises(ParseError) as info:
        parse(path)
    assert info.value == ParseError(message, Location(path))


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(32)) * 100,  # control bytes
        bytes((i * 73 + 41) % 256 for i in range(20000)),  # every byte value, mostly not UTF-8
        b"May 19 13:43:45 h x[1]: " + bytes(SEPARATORS_ALL) + b"\n",  # every separator in a line
    ],
)
def test_binary_input_is_refused_in_one_line(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ParseError, match="looks binary") as info:
        parse(path)
    assert "\n" not in str(info.value)


def test_strict_stops_at_the_first_unparsed_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"May 19 13:43:45 h x[1]: a\n\x01\x02garbage\nmore\n")
    with pytest.raises(ParseError) as info:
        parse(path, ParseOptions(strict=True))
    assert info.value.location == Location(path, 2)


def test_unknown_forced_format(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="unknown input format 'nope'"):
        parse(write(tmp_path, b"x\n"), ParseOptions(input_format="nope"))


def test_truncated_last_line_is_noted_not_unparsed(tmp_path: Path) -> None:
    path = write(tmp_path, b"May 19 13:43:45 h x[1]: a\n\x01\x02")
    summary = parse(path).summary
    assert accounts(summary) == (2, 1, 0, 1, 0)
    assert f"last line truncated at {path}:2" in summary.notes


def test_pager_chop_is_noted(tmp_path: Path) -> None:
    lines = [f"May 19 13:43:4{i} h x[1]: " + "z" * (40 + i) for i in range(6)]
    lines += [f"May 19 13:43:5{i} h x[1]: " + "w" * 60 + ">" for i in range(3)]
    path = write(tmp_path, "\n".join(lines).encode() + b"\n")
    assert any("chopped by a pager" in n for n in parse(path).summary.notes)


PREFILTER_INPUT = b"""May 19 13:43:45 h node[1]: 2026-05-19T13:43:45.000+00:00 [x] quiet
May 19 13:43:46 h node[1]: Error: thing failed
    at keepme (/a.js:1:1)
May 19 13:43:47 h node[1]: 2026-05-19T13:43:47.000+00:00 [x] quiet again
May 19 13:43:48 h node[1]:
2026-05-19T13:43:48.000+00:00 [diagnostic]
lane task error: keepme too

-- Boot 9e2ffa348b354fbc8555aa1f524214e5 --
May 19 13:43:49 h node[2]: keepme alone
May 19 13:43:50 h node[2]: quiet
"""


def test_prefilter_keeps_whole_entries_and_counts_every_one(tmp_path: Path) -> None:
    path = write(tmp_path, PREFILTER_INPUT)
    full = parse(path)
    kept = parse(path, ParseOptions(keep=("keepme",)))
    assert accounts(kept.summary) == accounts(full.summary) == (11, 6, 3, 2, 0)
    last = full.events["line"] == 11  # the input's last entry: its end time
    expected = full.events.filter(full.events["message"].str.contains("keepme") | last)
    assert kept.events.to_dicts() == expected.to_dicts()
    assert kept.events["line"].to_list() == [2, 5, 10, 11]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("short.log", "journal-short"),
        ("short-iso.log", "journal-short-iso"),
        ("short-full.log", "journal-short-full"),
        ("with-unit.log", "journal-with-unit"),
        ("short-unix.log", "journal-short-unix"),
        ("short-monotonic.log", "journal-short-monotonic"),
        ("gateway-console.log", "gateway-console"),
        ("openclaw-logs.log", "gateway-console"),
        ("status-paste.txt", "journal-short"),
    ],
)
def test_detection(data: Path, name: str, expected: str) -> None:
    head = head_lines(open_source(str(data / "parsers" / name)))
    assert detect(head) == expected
    summary = parse(str(data / "parsers" / name)).summary
    assert summary.unparsed == 0
    assert summary.lines == summary.events + summary.continuations + summary.noise


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gateway-file.log", "gateway-file"),
        ("journal-pretty.json", "journal-json-pretty"),
        ("journal.export", "journal-export"),
        ("journal.json", "journal-json"),
        ("journal.seq", "journal-json-seq"),
        ("journal.sse", "journal-json-sse"),
        ("journal.verbose", "journal-verbose"),
        ("short-iso.log", "journal-short-iso"),
    ],
)
def test_detection_of_structured_fixtures(data: Path, name: str, expected: str) -> None:
    path = data / "structured" / name
    if not path.exists():
        pytest.skip(f"no fixture {name}")
    assert detect(head_lines(open_source(str(path)))) == expected


def test_seed_is_detected_as_journal_short(data: Path) -> None:
    assert detect(head_lines(open_source(str(data / "seed-excerpt.log")))) == "journal-short"


def test_every_registered_format_has_a_name_and_example() -> None:
    assert all(name == fmt.name and fmt.example for name, fmt in FORMATS.items())
    assert {"journal-short", "gateway-console", "journal-short-iso"} <= set(FORMATS)


def test_status_paste_noise_and_entries(data: Path) -> None:
    result = parse(str(data / "parsers" / "status-paste.txt"))
    assert accounts(result.summary) == (11, 2, 0, 9, 0)
    assert result.events["line"].to_list() == [9, 10]


def test_stack_trace_continuations_join_with_newlines(data: Path) -> None:
    events = parse(str(data / "parsers" / "short.log")).events
    row = events.filter(events["line"] == 5).to_dicts()[0]
    assert row["end_line"] == 7
    assert row["message"] == (
        "Error: boom\n"
        "                                     at foo (/app/x.js:1:2)\n"
        "                                     at bar (/app/y.js:3:4)"
    )


def test_stdin_is_read_as_dash(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    raw = (data / "seed-excerpt.log").read_bytes()

    class Stdin:
        buffer = io.BytesIO(raw)

    monkeypatch.setattr(sys, "stdin", Stdin)
    result = parse("-")
    assert accounts(result.summary) == (43, 7, 17, 19, 0)
    assert result.events["file"].unique().to_list() == ["-"]


def test_a_pipe_is_read_once_like_stdin(tmp_path: Path, data: Path) -> None:
    """`triage analyze <(journalctl ...)` passes a pipe: it cannot be reread or sought."""
    fifo = tmp_path / "journal"
    os.mkfifo(fifo)
    writer = threading.Thread(
        target=fifo.write_bytes, args=[(data / "seed-excerpt.log").read_bytes()]
    )
    writer.start()
    result = parse(str(fifo))
    writer.join()
    assert accounts(result.summary) == (43, 7, 17, 19, 0)


def test_zst_without_zstandard_says_what_to_do(tmp_path: Path) -> None:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        path = write(tmp_path, b"\x28\xb5\x2f\xfd", "x.log.zst")
        with pytest.raises(ParseError, match="decompress it first"):
            parse(path)
    else:
        pytest.skip("zstandard is installed")


@pytest.mark.parametrize("chunk", [7, 16, 64])
def test_blocks_smaller_than_lines_change_nothing(
    monkeypatch: pytest.MonkeyPatch, data: Path, chunk: int
) -> None:
    whole = parse(str(data / "seed-paste.txt"))
    monkeypatch.setattr("triage.parsers.reader.CHUNK", chunk)
    small = parse(str(data / "seed-paste.txt"))
    assert small.summary == whole.summary
    assert small.events.equals(whole.events)


def reference_blocks(data: bytes, boundary: bytes, chunk: int) -> list[bytes]:
    """Blocks as specified: each ends with the newline of the last `boundary` within `chunk`
    bytes of its start, else of the first one after; the last block holds the rest."""
    blocks, start = [], 0
    while len(data) - start > chunk:
        cut = data.rfind(boundary, start, start + chunk)
        if cut < 0:
            cut = data.find(boundary, start + chunk - len(boundary) + 1)
        if cut < 0:
            break
        blocks.append(data[start : cut + 1])
        start = cut + 1
    return [*blocks, data[start:]] if start < len(data) else blocks


@given(
    lines=st.lists(st.sampled_from(["", "a", "{", "{x", "bb bb", "x" * 30]), max_size=40),
    boundary=st.sampled_from([b"\n", b"\n{"]),
    chunk=st.integers(1, 50),
    window=st.integers(1, 20),
    in_memory=st.booleans(),
)
@example(lines=["x" * 30, "{"], boundary=b"\n{", chunk=31, window=4, in_memory=False)  # straddles
@example(lines=["x" * 30, "", "{"], boundary=b"\n{", chunk=20, window=3, in_memory=True)  # after
@example(lines=["x" * 30, "{"], boundary=b"\n{", chunk=10, window=22, in_memory=False)  # at an edge
def test_planned_blocks_are_cut_as_specified(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    boundary: bytes,
    chunk: int,
    window: int,
    in_memory: bool,
) -> None:
    """Blocks planned by reading small windows before each cut (and read later, by position)
    are the blocks a scan of the whole input gives, in memory or from a file."""
    data = "\n".join(lines).encode()
    path = write(tmp_path_factory.mktemp("blocks"), data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("triage.parsers.reader.CHUNK", chunk)
        patch.setattr("triage.parsers.reader.WINDOW", window)
        source = open_source(path)
        if in_memory:
            source = replace(source, data=data)
        pieces = [bytes(p) if isinstance(p, bytes) else p.read() for p in source.pieces(boundary)]
    assert pieces == (reference_blocks(data, boundary, chunk) if len(data) > chunk else [data])


def iso_line(second: int, body: str) -> str:
    stamp = f"2026-05-19T13:43:{second:02d}"
    return f"{stamp}+00:00 h node[1]: {stamp}.500+00:00 [agent/embedded] {body}"


TALLY_INPUT = "\n".join(
    [
        iso_line(1, "run start: sessionId=s1 sessionKey=agent:main:a"),  # tallied, teaches a pair
        iso_line(2, "run end: sessionId=s1"),  # tallied
        iso_line(3, "keepme: sessionId=s1"),  # kept: a keep literal
        "\x1b[31m" + iso_line(4, "run end: sessionId=s1"),  # kept: ANSI, not tallied exactly
        "2026-05-19T13:43:05+00:00 h node[1]: no gateway stamp sessionId=s2",  # kept: journal ts
        iso_line(6, "lane task done: lane=session:agent:main:b"),  # tallied, key only
        iso_line(7, "run end: sessionId=<session>"),  # a placeholder: tallies nothing
        iso_line(8, "quiet"),  # the last entry: kept as the end-time sentinel
    ]
).encode()


def test_prefilter_tallies_the_session_lines_it_skips(tmp_path: Path) -> None:
    result = parse(write(tmp_path, TALLY_INPUT + b"\n"), ParseOptions(keep=("keepme",)))
    assert result.events["line"].to_list() == [3, 4, 5, 8]
    assert result.pairs.rows() == [(result.summary.path, 1, "s1", "agent:main:a")]
    at = [datetime(2026, 5, 19, 13, 43, s, 500000, tzinfo=UTC) for s in (1, 2, 6)]
    assert result.tally.rows() == [
        ("agent:main:a", "s1", 1, at[0], at[0]),
        ("agent:main:b", None, 1, at[2], at[2]),
        (None, "s1", 1, at[1], at[1]),
    ]
    assert accounts(result.summary) == (8, 8, 0, 0, 0)


def test_a_tallied_last_entry_becomes_an_event_and_leaves_the_tally(tmp_path: Path) -> None:
    data = TALLY_INPUT + b"\n" + iso_line(9, "run end: sessionId=s1").encode() + b"\n"
    result = parse(write(tmp_path, data), ParseOptions(keep=("keepme",)))
    assert result.events["line"].to_list() == [3, 4, 5, 9]
    assert (None, "s1") in {(k, i) for k, i, *_ in result.tally.rows()}
    assert result.tally.filter(result.tally["session_id"] == "s1")["events"].sum() == 2


def test_a_session_path_line_is_kept_with_the_id_its_path_names(tmp_path: Path) -> None:
    data = "\n".join(
        [
            iso_line(1, "run end: sessionId=s1"),  # tallied
            iso_line(2, "wrote /x/sessions/s2.jsonl sessionId=s1"),  # kept: the path names s2
            iso_line(3, "quiet"),
        ]
    )
    result = parse(write(tmp_path, data.encode() + b"\n"), ParseOptions(keep=("keepme",)))
    assert result.events["line"].to_list() == [2, 3]
    assert [(k, i, n) for k, i, n, *_ in result.tally.rows()] == [(None, "s1", 1)]


def gateway_line(stamp: str, body: str) -> str:
    return f"2026-05-19T13:00:00+00:00 h node[1]: {stamp} [agent/embedded] {body}"


def test_tally_first_and_last_are_true_times_across_offsets_and_precisions(
    tmp_path: Path,
) -> None:
    stamps = [
        "2026-05-19T13:00:05+00:00",  # 13:00:05
        "2026-05-19T15:00:01+02:00",  # 13:00:01: the earliest, though it sorts last as text
        "2026-05-19T13:00:09.5Z",  # 13:00:09.5
        "2026-05-19T13:00:09.25Z",  # earlier than .5 though longer
        "2026-05-19T13:00:10Z",  # 13:00:10: the latest
        "2026-05-19T13:00:07+0000",
        "2026-05-19T13:61:00+00:00",  # minutes out of range: not a stamp, kept as an event
    ]
    lines = [gateway_line(s, "run end: sessionId=s1") for s in stamps]
    data = "\n".join([*lines, gateway_line("2026-05-19T13:00:11Z", "quiet")]) + "\n"
    result = parse(write(tmp_path, data.encode()), ParseOptions(keep=("keepme",)))
    first = datetime(2026, 5, 19, 13, 0, 1, tzinfo=UTC)
    last = datetime(2026, 5, 19, 13, 0, 10, tzinfo=UTC)
    assert result.tally.rows() == [(None, "s1", 6, first, last)]
    assert result.events["line"].to_list() == [7, 8]


def test_a_session_line_with_a_level_after_its_stamp_is_kept_not_tallied(tmp_path: Path) -> None:
    header = "2026-05-19T13:00:00+00:00 h node[1]: "
    data = "\n".join(
        [
            gateway_line("2026-05-19T13:00:01Z", "run end: sessionId=s1"),  # tallied
            header + "2026-05-19T13:00:02Z info run end: sessionId=s1",  # `openclaw logs` level
            header + "2026-05-19T13:00:03Z [agent/embedded] warn run end: sessionId=s1",
            header + "2026-05-19T13:00:04Z subsystem=agent run end: sessionId=s1",
            gateway_line("2026-05-19T13:00:05Z", "quiet"),
        ]
    )
    result = parse(write(tmp_path, data.encode() + b"\n"), ParseOptions(keep=("keepme",)))
    assert result.events["line"].to_list() == [2, 3, 4, 5]
    at = datetime(2026, 5, 19, 13, 0, 1, tzinfo=UTC)
    assert result.tally.rows() == [(None, "s1", 1, at, at)]


def test_a_session_line_under_a_non_ascii_header_is_tallied_by_its_message(tmp_path: Path) -> None:
    data = "\n".join(
        [
            "2026-05-19T13:00:00+00:00 hôte nœud[1]: 2026-05-19T13:00:01Z run end: sessionId=s1",
            "2026-05-19T13:00:00+00:00 hôte nœud[1]: 2026-05-19T13:00:02Z quiet",
        ]
    )
    result = parse(write(tmp_path, data.encode() + b"\n"), ParseOptions(keep=("keepme",)))
    assert result.events["line"].to_list() == [2]
    at = datetime(2026, 5, 19, 13, 0, 1, tzinfo=UTC)
    assert result.tally.rows() == [(None, "s1", 1, at, at)]


OFFSETS = st.sampled_from(["Z", "+00:00", "-05:30", "+0200", "-1100"])


@given(
    st.integers(0, 59),
    st.text(alphabet="0123456789", max_size=9).map(lambda digits: f".{digits}" if digits else ""),
    OFFSETS,
)
def test_tally_groups_stamps_by_their_exact_offset(second: int, fraction: str, offset: str) -> None:
    from triage.parsers.tally import text_groups

    stamp = f"2026-05-19T13:00:{second:02d}{fraction}{offset}"
    sessions = pl.DataFrame(
        {"line": [1], "stamp": [stamp], "names": [["sessionId=s1"]]},
        schema={"line": pl.UInt32, "stamp": pl.String, "names": pl.List(pl.String)},
    )
    assert text_groups(sessions)["_offset"].to_list() == [offset]


def naive_widths(lines: list[str | None]) -> tuple[int, int, int, int, frozenset[str]]:
    known = [line for line in lines if line is not None]
    if not known:
        return (0, 0, 0, 0, frozenset())
    top = max(len(line) for line in known)
    at_top = [line for line in known if len(line) == top]
    chopped = sum(line.endswith(">") for line in at_top)
    ends = frozenset(sorted({line[-12:] for line in at_top})[:3])
    return (len(known), top, len(at_top), chopped, ends)


@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab>é漢😀", max_size=12)), max_size=30))
def test_widths_count_characters_not_bytes(lines: list[str | None]) -> None:
    from triage.parsers.tally import widths

    w = widths(pl.DataFrame({"raw": lines}, schema={"raw": pl.String}))
    assert (w.lines, w.top, w.at_top, w.chopped, w.endings) == naive_widths(lines)


def json_entry(second: int, message: str | None) -> str:
    import json

    micros = str(1779198225_000000 + second * 1_000_000)
    return json.dumps({"__REALTIME_TIMESTAMP": micros, "SYSLOG_IDENTIFIER": "node",
                       "_PID": "7", "MESSAGE": message})  # fmt: skip


JSON_INPUT = "\n".join(
    [
        json_entry(1, "[agent/embedded] run start: sessionId=s1 sessionKey=agent:main:a"),
        json_entry(2, "[agent/embedded] run end: sessionId=s1"),
        json_entry(3, None),  # MESSAGE null: noted with its line
        "not json at all",  # unparsed
        json_entry(5, "[agent/embedded] keepme: sessionId=s1"),
        json_entry(6, "[agent/embedded] quiet"),
        json_entry(7, None),
    ]
).encode()


@pytest.mark.parametrize("chunk", [40, 300])
def test_json_read_in_blocks_is_the_json_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chunk: int
) -> None:
    path = write(tmp_path, JSON_INPUT + b"\n")
    whole = parse(path, ParseOptions(keep=("keepme",)))
    monkeypatch.setattr("triage.parsers.reader.CHUNK", chunk)
    blocks = parse(path, ParseOptions(keep=("keepme",)))
    assert blocks.summary == whole.summary
    assert blocks.summary.notes and "first at line 3" in blocks.summary.notes[0]
    assert blocks.events.equals(whole.events)
    assert blocks.events["line"].to_list() == [5]
    assert blocks.pairs.equals(whole.pairs)
    assert blocks.tally.equals(whole.tally)
    assert blocks.tally["events"].sum() == 2


@pytest.mark.parametrize("chunk", [60, 120, 1 << 20])
def test_a_continuation_in_a_later_block_joins_its_left_out_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chunk: int
) -> None:
    # Line 9 continues line 8, which holds no keep literal: the prefilter keeps line 8 too
    # (within its block, or as the block before's last entry), so both read as one entry.
    lines = [f"2026-05-19T13:00:{i:02d}+00:00 h node[1]: x{i}" for i in range(12)]
    lines.insert(8, "    at y (a.js:1:1) keepme")
    path = write(tmp_path, ("\n".join(lines) + "\n").encode())
    monkeypatch.setattr("triage.parsers.reader.CHUNK", chunk)
    kept = parse(path, ParseOptions(keep=("keepme",)))
    assert kept.summary == parse(path, ParseOptions()).summary
    assert kept.summary.continuations == 1
    assert kept.events.select("line", "message").rows() == [
        (8, "x7\n    at y (a.js:1:1) keepme"),
        (13, "x11"),
    ]


def pretty(entry: str) -> str:
    """One json-pretty object as journalctl prints it (tab indent, ` : ` separators)."""
    return json.dumps(json.loads(entry), indent="\t", separators=(",", " : "))


def tslog(second: int, message: str) -> str:
    return json.dumps({"time": f"2026-05-19T13:43:{second:02d}.000+00:00",
                       "0": '{"subsystem":"agent/embedded"}', "1": message,
                       "_meta": {"logLevelName": "INFO"}})  # fmt: skip


def verbose(second: int, message: str, cursor_time: bool = True) -> str:
    """One `-o verbose` entry; without a cursor time its CEST header time is a guess."""
    if cursor_time:
        header = f"Tue 2026-05-19 13:43:{second:02d}.000000 UTC [s=a;i={second};t=6522bde30d383]"
    else:
        header = f"Di 2026-05-19 15:43:{second:02d}.000000 CEST [s=a;i={second}]"
    return f"{header}\n    _PID=7\n    SYSLOG_IDENTIFIER=node\n    MESSAGE={message}"


def export(second: int, message: str) -> str:
    """One `-o export` entry; a MESSAGE with a newline is binary: `KEY`, 8-byte length, bytes."""
    head = f"__CURSOR=s=a;i={second}\n__REALTIME_TIMESTAMP=17791982{second:02d}000000\n"
    if "\n" not in message:
        return f"{head}MESSAGE={message}\n"
    size = len(message.encode()).to_bytes(8, "little").decode("latin-1")
    return f"{head}MESSAGE\n{size}{message}\n"


STRUCTURED_INPUTS = {
    "journal-export": "\n".join(
        [
            export(1, "[agent/embedded] run start: sessionId=s1 sessionKey=agent:main:a"),
            # A binary payload holding a blank line and a line shaped like a bare key.
            export(2, "[agent/embedded] run end: sessionId=s1\n\nMESSAGE\nnot=a field"),
            "not a field",  # unparsed
            export(4, "[agent/embedded] keepme: sessionId=s1"),
            export(6, "[agent/embedded] quiet"),
        ]
    ),
    "journal-verbose": "\n".join(
        [
            verbose(1, "[agent/embedded] run start: sessionId=s1 sessionKey=agent:main:a"),
            verbose(2, "[agent/embedded] run end: sessionId=s1"),
            "not verbose at all",  # unparsed
            verbose(4, "[agent/embedded] keepme: sessionId=s1"),
            "-- Boot 9e2ffa348b354fbc8555aa1f524214e5 --",
            verbose(6, "[agent/embedded] quiet", cursor_time=False),  # noted: time guessed
        ]
    ),
    "journal-json-pretty": "\n".join(
        [
            pretty(json_entry(1, "[agent/embedded] start: sessionId=s1 sessionKey=agent:main:a")),
            pretty(json_entry(2, "[agent/embedded] run end: sessionId=s1")),
            pretty(json_entry(3, None)),  # MESSAGE null: noted with its line
            '{\n\t"MESSAGE" : "cut short',  # an object that never closes: 2 lines unparsed
            pretty(json_entry(5, "[agent/embedded] keepme: sessionId=s1")),
            "",
            pretty(json_entry(6, "[agent/embedded] quiet")),
        ]
    ),
    "gateway-file": "\n".join(
        [
            tslog(1, "run start: sessionId=s1 sessionKey=agent:main:a"),
            tslog(2, "run end: sessionId=s1"),
            "not json at all",  # unparsed
            tslog(4, "keepme: sessionId=s1"),
            "",
            tslog(6, "quiet"),
        ]
    ),
}


@pytest.mark.parametrize("name", sorted(STRUCTURED_INPUTS))
@pytest.mark.parametrize("chunk", [40, 300])
def test_structured_formats_read_in_blocks_are_read_as_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, chunk: int
) -> None:
    path = write(tmp_path, STRUCTURED_INPUTS[name].encode() + b"\n")
    options = ParseOptions(keep=("keepme",))
    assert detect(head_lines(open_source(path))) == name
    with monkeypatch.context() as whole_read:
        whole_read.setattr("triage.parsers._block_reading", lambda name: None)
        whole = parse(path, options)
    monkeypatch.setattr("triage.parsers.reader.CHUNK", chunk)
    blocks = parse(path, options)
    assert blocks.summary == whole.summary
    assert blocks.summary.unparsed == {"journal-json-pretty": 2}.get(name, 1)
    notes = {"gateway-file": 0, "journal-export": 0}.get(name, 1)  # null MESSAGE, guessed time
    assert len(blocks.summary.notes) == notes
    assert blocks.events.equals(whole.events)
    assert blocks.events.height == 1  # the keepme entry
    assert blocks.pairs.equals(whole.pairs)
    assert blocks.tally.equals(whole.tally)
    assert blocks.tally["events"].sum() == 2


def test_gateway_prefilter_decodes_every_record_whose_message_the_raw_line_does_not_spell(
    tmp_path: Path,
) -> None:
    stamp = '"time":"2026-05-19T13:43:01.000+00:00"'
    sub = '"0":"{\\"subsystem\\":\\"gateway\\"}"'
    lines = [
        f'{{{stamp},{sub},"1":"keep me now","_meta":{{}}}}',  # plain, holds the literal
        f'{{{stamp},{sub},"1":"nothing to see","_meta":{{}}}}',  # plain, skipped undecoded
        f'{{{stamp},{sub},"1":"keep","2":"me","_meta":{{}}}}',  # arguments joined: "keep me"
        f'{{{stamp},"level":"info","subsystem":"x","message":"done","outcome":"ok"}}',  # flat
        f'{{{stamp},{sub},"1":"quoted \\"keep me\\"","_meta":{{}}}}',  # JSON-escaped spelling
    ]
    path = write(tmp_path, "\n".join(lines).encode() + b"\n")
    result = parse(path, ParseOptions(keep=("keep me", "outcome=")))
    assert result.summary.format == "gateway-file"
    assert result.summary.events == 5
    assert result.events["line"].to_list() == [1, 3, 4, 5]
    assert result.events["message"].to_list() == [
        "keep me now",
        "keep me",
        "done outcome=ok",
        'quoted "keep me"',
    ]
