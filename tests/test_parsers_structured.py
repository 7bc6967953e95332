"""Structured inputs: journalctl json*/export/verbose and the gateway JSON file log."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.events import PARSED_SCHEMA
from triage.parsers import gateway_file, journal_export, journal_json, journal_verbose
from triage.parsers.base import Context, Format, Parsed, ParseOptions
from triage.parsers.classify import before_in_run
from triage.parsers.gateway_line import split_gateway_message

PATH = "in.log"
COLUMNS = (
    "line",
    "end_line",
    "ts",
    "host",
    "ident",
    "pid",
    "unit",
    "subsystem",
    "level",
    "message",
)
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        *journal_json.FORMATS,
        journal_export.FORMAT,
        journal_verbose.FORMAT,
        gateway_file.FORMAT,
    )
}


def frame(data: str | bytes) -> pl.DataFrame:
    """The lines frame as the reader builds it: split on LF, lossy UTF-8, empty -> null."""
    raw = data.encode() if isinstance(data, str) else data
    parts = raw.split(b"\n")
    if raw.endswith(b"\n"):
        parts.pop()
    texts = [p.decode("utf-8", "replace").removesuffix("\r") or None for p in parts]
    return pl.DataFrame(
        {"line": pl.Series(range(1, len(texts) + 1), dtype=pl.UInt32), "raw": texts},
        schema={"line": pl.UInt32, "raw": pl.String},
    )


def t(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC)


def rows(parsed: Parsed) -> list[tuple[object, ...]]:
    return parsed.events.select(COLUMNS).rows()


def accounting(parsed: Parsed) -> tuple[int, int, int, int]:
    return (parsed.entries, parsed.continuations, parsed.noise, parsed.unparsed)


def compact(obj: dict[str, object]) -> str:
    return json.dumps(obj, separators=(",", ":"))


GATEWAY_MSG = "2026-05-19T13:43:45.077+00:00 [agent/embedded] embedded run timeout reached"
ENTRY = {
    "__CURSOR": "s=1;i=1",
    "__REALTIME_TIMESTAMP": "1779198225077999",
    "_HOSTNAME": "casper",
    "SYSLOG_IDENTIFIER": "node",
    "_PID": "963591",
    "_SYSTEMD_UNIT": "user@1000.service",
    "_SYSTEMD_USER_UNIT": "openclaw-gateway.service",
    "PRIORITY": "6",
    "MESSAGE": GATEWAY_MSG,
}
GATEWAY_ROW = (
    t("2026-05-19T13:43:45.077"),
    "casper",
    "node",
    963591,
    "openclaw-gateway.service",
    "agent/embedded",
    "info",
    "embedded run timeout reached",
)
ANSI_BYTES = list(b"\x1b[31mSessionWriteLockTimeoutError: session file locked\x1b[39m")
SYSTEM = {
    "__REALTIME_TIMESTAMP": "1779198226000000",
    "_SOURCE_REALTIME_TIMESTAMP": "1779198225500000",
    "_COMM": "systemd",
    "SYSLOG_PID": "1",
    "_SYSTEMD_UNIT": "init.scope",
    "PRIORITY": "4",
}
SYSTEM_ROW = (t("2026-05-19T13:43:45.5"), None, "systemd", 1, "init.scope", None, "warn")

JOURNAL_CASES = [
    pytest.param(
        "journal-json",
        compact(ENTRY) + "\n",
        [(1, 1, *GATEWAY_ROW)],
        (1, 0, 0, 0),
        id="json-compact-gateway-line",
    ),
    pytest.param(
        "journal-json",
        json.dumps({**SYSTEM, "MESSAGE": "Stopping openclaw-gateway.service..."}) + "\n",
        [(1, 1, *SYSTEM_ROW, "Stopping openclaw-gateway.service...")],
        (1, 0, 0, 0),
        id="json-spaced-source-time-comm-syslog-pid",
    ),
    pytest.param(
        "journal-json",
        compact({**SYSTEM, "PRIORITY": "6", "MESSAGE": ANSI_BYTES}) + "\n",
        [
            (
                1,
                1,
                *SYSTEM_ROW[:5],
                None,
                "error",
                "SessionWriteLockTimeoutError: session file locked",
            )
        ],
        (1, 0, 0, 0),
        id="json-byte-array-message-with-ansi",
    ),
    pytest.param(
        "journal-json",
        compact({**SYSTEM, "MESSAGE": None}) + "\n",
        [(1, 1, *SYSTEM_ROW, "")],
        (1, 0, 0, 0),
        id="json-null-message-kept-empty",
    ),
    pytest.param(
        "journal-json",
        compact({**SYSTEM, "_PID": ["7", "8"], "MESSAGE": ["first", "second ]"]}) + "\n",
        [(1, 1, *SYSTEM_ROW[:3], 7, *SYSTEM_ROW[4:], "first\nsecond ]")],
        (1, 0, 0, 0),
        id="json-array-fields-first-and-joined",
    ),
    pytest.param(
        "journal-json",
        f"{compact(ENTRY)}\n\nnot json\n{compact(ENTRY)[:40]}\n",
        [(1, 1, *GATEWAY_ROW)],
        (1, 0, 1, 2),
        id="json-blank-garbage-and-truncated-lines",
    ),
    pytest.param(
        "journal-json-seq",
        f"\x1e{compact(ENTRY)}\n\x1e{compact({**SYSTEM, 'MESSAGE': 'x'})}\n",
        [(1, 1, *GATEWAY_ROW), (2, 2, *SYSTEM_ROW, "x")],
        (2, 0, 0, 0),
        id="json-seq-record-separators",
    ),
    pytest.param(
        "journal-json-sse",
        f"data: {compact(ENTRY)}\n\ndata: {compact({**SYSTEM, 'MESSAGE': 'x'})}\n\n",
        [(1, 1, *GATEWAY_ROW), (3, 3, *SYSTEM_ROW, "x")],
        (2, 0, 2, 0),
        id="json-sse-data-lines",
    ),
    pytest.param(
        "journal-json-pretty",
        json.dumps(ENTRY, indent="\t", separators=(",", " : "))
        + "\n"
        + json.dumps({**SYSTEM, "MESSAGE": ANSI_BYTES[:8]}, indent="\t")
        + "\n",
        [(1, 11, *GATEWAY_ROW), (12, 29, *SYSTEM_ROW, "Ses")],
        (2, 27, 0, 0),
        id="json-pretty-multiline-objects-and-arrays",
    ),
]


@pytest.mark.parametrize(("fmt", "text", "expected", "counts"), JOURNAL_CASES)
def test_journal_json_modes(
    fmt: str, text: str, expected: list[tuple[object, ...]], counts: tuple[int, ...]
) -> None:
    lines = frame(text)
    parsed = FORMATS[fmt].parse(lines, Context(PATH))
    assert rows(parsed) == expected
    assert accounting(parsed) == counts
    assert sum(counts) == lines.height
    assert parsed.events.schema == pl.Schema(PARSED_SCHEMA)
    assert parsed.events["file"].to_list() == [PATH] * len(expected)
    assert parsed.events["source"].to_list() == ["journal"] * len(expected)


@pytest.mark.parametrize("keep", [None, ("timeout",)])
def test_json_null_message_note_and_first_unparsed(keep: tuple[str, ...] | None) -> None:
    text = f"garbage\n{compact({**SYSTEM, 'MESSAGE': None})}\n"
    parsed = journal_json.parse_json(frame(text), Context(PATH, ParseOptions(keep=keep)))
    assert parsed.first_unparsed == 1
    assert parsed.notes == (
        "1 entries have MESSAGE null (4096 bytes or more; journalctl omits them without "
        "--all), first at line 2; kept with an empty message",
    )


@pytest.mark.parametrize(
    ("numbers", "text"),
    [
        ([104, 195, 169], "hé"),
        ([255, 65], "\ufffdA"),
        ([226, 130], "\ufffd"),
        ([226, 130, 65, 237, 160, 128], "\ufffdA\ufffd\ufffd\ufffd"),
        ([240, 159, 146, 169], "\U0001f4a9"),
        ([], None),
    ],
)
def test_byte_array_decodes_utf8_lossily(numbers: list[int], text: str | None) -> None:
    line = compact({"__REALTIME_TIMESTAMP": "1", "MESSAGE": numbers})
    parsed = journal_json.parse_json(frame(line), Context(PATH))
    assert parsed.events["message"].to_list() == [text or ""]


@given(st.binary(max_size=40))
@settings(max_examples=100, deadline=None)
def test_byte_array_decoding_matches_python_replace(data: bytes) -> None:
    line = compact({"__REALTIME_TIMESTAMP": "1", "MESSAGE": list(data)})
    objects = pl.DataFrame({"line": [1], "end_line": [1], "text": [line]})
    fields = journal_json.decode_objects(objects)
    assert fields["MESSAGE"].to_list() == [data.decode("utf-8", "replace") if data else None]


def test_console_json_style_message_becomes_a_gateway_record() -> None:
    record = {
        "severity": "WARNING",
        "time": "2026-05-19T13:45:00.000+02:00",
        "level": "warn",
        "subsystem": "channels/discord",
        "message": "websocket closed",
        "code": 1000,
    }
    line = compact({**ENTRY, "MESSAGE": compact(record)})
    parsed = journal_json.parse_json(frame(line), Context(PATH))
    assert rows(parsed) == [
        (
            1,
            1,
            t("2026-05-19T11:45:00"),
            "casper",
            "node",
            963591,
            "openclaw-gateway.service",
            "channels/discord",
            "warn",
            "websocket closed code=1000",
        ),
    ]


def test_user_manager_unit_when_no_user_unit() -> None:
    line = compact({k: v for k, v in ENTRY.items() if k != "_SYSTEMD_USER_UNIT"})
    parsed = journal_json.parse_json(frame(line), Context(PATH))
    assert parsed.events["unit"].to_list() == ["user@1000.service"]


def _export(fields: list[tuple[str, str]]) -> bytes:
    out = b""
    for key, value in fields:
        data = value.encode()
        if "\n" in value:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += f"{key}={value}\n".encode()
    return out + b"\n"


EXPORT = _export(
    [
        ("__CURSOR", "s=1;i=1"),
        ("__REALTIME_TIMESTAMP", "1779198225077999"),
        ("_HOSTNAME", "casper"),
        ("SYSLOG_IDENTIFIER", "node"),
        ("_PID", "963591"),
        ("PRIORITY", "3"),
        ("MESSAGE", "TypeError: boom\n    at run (a.js:1:1)"),
        ("_SYSTEMD_UNIT", "openclaw-gateway.service"),
    ]
) + _export(
    [
        ("__CURSOR", "s=1;i=2"),
        ("__REALTIME_TIMESTAMP", "1779198226000000"),
        ("_COMM", "systemd"),
        ("_PID", "1"),
        ("MESSAGE", GATEWAY_MSG),
    ]
)
EXPORT_ROWS = [
    (
        1,
        10,
        t("2026-05-19T13:43:45.077999"),
        "casper",
        "node",
        963591,
        "openclaw-gateway.service",
        None,
        "error",
        "TypeError: boom\n    at run (a.js:1:1)",
    ),
    (
        12,
        16,
        t("2026-05-19T13:43:45.077"),
        None,
        "systemd",
        1,
        None,
        "agent/embedded",
        None,
        "embedded run timeout reached",
    ),
]


def test_export_bytes_reads_binary_multiline_fields() -> None:
    parsed = journal_export.parse_export_bytes(EXPORT, PATH)
    assert rows(parsed) == EXPORT_ROWS
    assert accounting(parsed) == (2, 13, 2, 0)
    assert sum(accounting(parsed)) == frame(EXPORT).height


def test_export_lines_frame_agrees_with_bytes() -> None:
    parsed = journal_export.parse_export(frame(EXPORT), Context(PATH))
    assert rows(parsed) == EXPORT_ROWS
    assert accounting(parsed) == (2, 13, 2, 0)


def test_export_line_that_is_not_a_field_is_unparsed() -> None:
    data = b"__CURSOR=s=1\nMESSAGE=hi\nnot a field\n\n"
    for parsed in (
        journal_export.parse_export_bytes(data, PATH),
        journal_export.parse_export(frame(data), Context(PATH)),
    ):
        assert accounting(parsed) == (1, 1, 1, 1)
        assert parsed.first_unparsed == 3
        assert parsed.events["message"].to_list() == ["hi"]


EXPORT_NAMES = ["__CURSOR", "__REALTIME_TIMESTAMP", "MESSAGE", "_PID", "SYSLOG_IDENTIFIER", "X"]
TEXT_VALUE = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)))
FIELD_LINE = st.tuples(st.sampled_from(EXPORT_NAMES), TEXT_VALUE).map(lambda kv: "=".join(kv))
MESSAGE_LINE = st.sampled_from(["MESSAGE=keep me", "MESSAGE=x sessionId=s1", 'MESSAGE={"a":1}'])


@settings(deadline=None)
@given(
    lines=st.lists(st.one_of(FIELD_LINE, MESSAGE_LINE, st.just("")), max_size=30),
    keep=st.sampled_from([None, ("keep me",)]),
)
def test_export_lines_frame_is_the_bytes_walk_on_text_fields(
    lines: list[str], keep: tuple[str, ...] | None
) -> None:
    """The block reader's fast path: `KEY=value` and blank lines read alike either way."""
    data = ("\n".join(lines) + "\n").encode()
    options = ParseOptions(keep=keep)
    walked = journal_export.parse_export_bytes(data, PATH, options)
    framed = journal_export.parse_export(frame(data), Context(PATH, options))
    assert accounting(framed) == accounting(walked)
    assert framed.first_unparsed == walked.first_unparsed
    assert framed.events.equals(walked.events)
    for mine, theirs in ((framed.pairs, walked.pairs), (framed.tally, walked.tally)):
        assert (mine is None and theirs is None) or mine.equals(theirs)  # type: ignore[union-attr]


CURSOR = "s=6a58a99f;i=67;b=97725e34;m=811fab;t=6522bde30d383;x=d383d7ce"
VERBOSE = f"""Di 2026-05-19 15:43:45.077123 CEST [{CURSOR}]
    _HOSTNAME=casper
    PRIORITY=6
    SYSLOG_IDENTIFIER=node
    _PID=963591
    MESSAGE=first line
            second line
-- Reboot --
Do 2026-05-21 10:00:00.000000 UTC [s=1;i=68;b=1;m=11]
    MESSAGE=header time, UTC zone
    _SYSTEMD_UNIT=foo.service
So 2026-05-24 10:00:00.000000 CET [s=1;i=69;b=1;m=12]
    MESSAGE=header time, guessed zone
prose line
"""


PLAIN_VERBOSE = f"""Di 2026-05-19 15:43:45.077123 CEST [{CURSOR}]
    _HOSTNAME=casper
    SYSLOG_IDENTIFIER=node
    _PID=963591
    MESSAGE=a=b sessionId=s1 keep me
Di 2026-05-19 15:43:46.000000 CEST [s=1;i=68;b=1;m=11;t=6522bde30d384]
    _SYSTEMD_UNIT=foo.service
    MESSAGE=
"""


@pytest.mark.parametrize("keep", [None, ("keep me",)])
def test_verbose_single_line_fields_read_as_the_general_path_reads_them(
    keep: tuple[str, ...] | None,
) -> None:
    """Without separators or multi-line values the parser skips its window passes; the same
    entries followed by a separator and a multi-line value (the general path) read alike."""
    general = PLAIN_VERBOSE + "-- Reboot --\n" + VERBOSE.split("-- Reboot --\n")[0]
    ctx = Context(PATH, ParseOptions(keep=keep))
    plain = journal_verbose.parse_verbose(frame(PLAIN_VERBOSE), ctx)
    assert rows(plain)[0][-1] == "a=b sessionId=s1 keep me"
    assert (
        rows(plain) == rows(journal_verbose.parse_verbose(frame(general), ctx))[: len(rows(plain))]
    )
    if keep is None:
        assert [r[0:2] for r in rows(plain)] == [(1, 5), (6, 8)]
        assert rows(plain)[1][-1] == ""


def test_verbose_cursor_time_localised_weekdays_and_separators() -> None:
    parsed = journal_verbose.parse_verbose(frame(VERBOSE), Context(PATH))
    assert rows(parsed) == [
        (
            1,
            7,
            t("2026-05-19T13:43:45.077123"),
            "casper",
            "node",
            963591,
            None,
            None,
            "info",
            "first line\nsecond line",
        ),
        (
            9,
            11,
            t("2026-05-21T10:00:00"),
            None,
            None,
            None,
            "foo.service",
            None,
            None,
            "header time, UTC zone",
        ),
        (
            12,
            13,
            t("2026-05-24T10:00:00"),
            None,
            None,
            None,
            None,
            None,
            None,
            "header time, guessed zone",
        ),
    ]
    assert parsed.events["ts_inferred"].to_list() == [False, False, True]
    assert parsed.notes == (
        "1 verbose entries have no cursor time; their header times were read in UTC "
        "(the header zone is an abbreviation; use --tz)",
    )
    assert accounting(parsed) == (3, 9, 1, 1)
    assert parsed.first_unparsed == 14


PREFILTERED_VERBOSE = (
    VERBOSE
    + f"""Di 2026-05-19 15:44:00.000000 CEST [{CURSOR}]
    MESSAGE=keep me please
Di 2026-05-19 15:44:01.000000 CEST [{CURSOR}]
    MESSAGE=run end: sessionId=s1
Di 2026-05-19 15:44:02.000000 CEST [{CURSOR}]
    MESSAGE={{"time":"2026-05-19T13:44:02.000Z","level":"info","subsystem":"gateway",\
"message":"console json","outcome":"kept"}}
Di 2026-05-19 15:44:03.000000 CEST [{CURSOR}]
    MESSAGE=nothing to keep
"""
)


def test_verbose_prefilter_decodes_only_what_can_matter_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = Context(PATH, ParseOptions(keep=("keep me", "outcome=kept")))
    lines = frame(PREFILTERED_VERBOSE)
    filtered = journal_verbose.parse_verbose(lines, ctx)
    monkeypatch.setattr(journal_verbose, "_wanted", lambda c, headers, keep: headers["entry"])
    everything = journal_verbose.parse_verbose(lines, ctx)
    assert filtered.events.equals(everything.events)
    assert accounting(filtered) == accounting(everything)
    assert filtered.notes == everything.notes and "1 verbose entries" in filtered.notes[0]
    assert filtered.tally is not None and filtered.tally.equals(everything.tally)
    assert filtered.events.height == 2  # "keep me", and "outcome=kept" rendered from JSON


def test_verbose_header_zone_from_tz_option() -> None:
    parsed = journal_verbose.parse_verbose(
        frame(VERBOSE), Context(PATH, ParseOptions(tz="Europe/Berlin"))
    )
    assert parsed.events["ts"][2] == t("2026-05-24T08:00:00")


def test_verbose_gateway_line_in_message() -> None:
    text = f"Di 2026-05-19 15:43:45.077123 CEST [{CURSOR}]\n    MESSAGE={GATEWAY_MSG}\n"
    parsed = journal_verbose.parse_verbose(frame(text), Context(PATH))
    assert parsed.events.select("ts", "subsystem", "message").rows() == [
        (t("2026-05-19T13:43:45.077"), "agent/embedded", "embedded run timeout reached")
    ]


TSLOG = {
    "time": "2026-02-26T02:23:37.000Z",
    "0": '{"subsystem":"gateway"}',
    "1": "received SIGINT; shutting down",
    "_meta": {
        "name": '{"subsystem":"gateway"}',
        "logLevelName": "INFO",
        "hostname": "casper",
        "path": {"fullFilePath": "file:///app/dist/index.js:1:1"},
    },
}
GATEWAY_CASES = [
    pytest.param(
        compact(TSLOG),
        (t("2026-02-26T02:23:37"), "casper", "gateway", "info", "received SIGINT; shutting down"),
        id="tslog-numbered-keys",
    ),
    pytest.param(
        compact(
            {
                "time": "2026-05-19T13:43:45.077+00:00",
                "0": '{"subsystem":"agent/embedded"}',
                "1": {"runId": "r-1", "extraMs": 900000},
                "2": "timeout during compaction",
                "_meta": {"logLevelName": "WARN"},
            }
        ),
        (
            t("2026-05-19T13:43:45.077"),
            None,
            "agent/embedded",
            "warn",
            "timeout during compaction runId=r-1 extraMs=900000",
        ),
        id="tslog-meta-object-first",
    ),
    pytest.param(
        compact(
            {
                "time": "2026-05-19T15:44:00+02:00",
                "0": "captured console text",
                "_meta": {"logLevelName": "ERROR"},
            }
        ),
        (t("2026-05-19T13:44:00"), None, None, "error", "captured console text"),
        id="tslog-root-logger-no-subsystem",
    ),
    pytest.param(
        compact(
            {
                "time": "2026-05-19T13:44:00.000Z",
                "level": "warn",
                "subsystem": "diagnostic",
                "message": "fetch timeout",
                "timeoutMs": 2500,
                "elapsedMs": 9179,
                "eventLoopDelayHint": "likely event-loop starvation",
                "extra": None,
            }
        ),
        (
            t("2026-05-19T13:44:00"),
            None,
            "diagnostic",
            "warn",
            "fetch timeout timeoutMs=2500 elapsedMs=9179 "
            'eventLoopDelayHint="likely event-loop starvation"',
        ),
        id="flat-record-meta-keys-appended",
    ),
    pytest.param(
        compact(
            {
                "severity": "CRITICAL",
                "time": "2026-05-19T13:45:00.000Z",
                "subsystem": "channels/discord",
                "message": "gateway: closed: 1000",
            }
        ),
        (t("2026-05-19T13:45:00"), None, "channels/discord", "fatal", "gateway: closed: 1000"),
        id="console-json-style-severity",
    ),
]


@pytest.mark.parametrize(("line", "expected"), GATEWAY_CASES)
def test_gateway_file_shapes(line: str, expected: tuple[object, ...]) -> None:
    parsed = gateway_file.parse_gateway_file(frame(line + "\n"), Context(PATH))
    assert parsed.events.select("ts", "host", "subsystem", "level", "message").rows() == [expected]
    assert parsed.events["source"].to_list() == ["gateway-file"]
    assert accounting(parsed) == (1, 0, 0, 0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(GATEWAY_CASES), min_size=1, max_size=8))
def test_gateway_file_shapes_read_alike_in_one_block(cases: list[Any]) -> None:
    """A block reads each record as it reads alone (the parser skips argument and meta-pair
    steps that no record of the block needs)."""
    lines, expected = zip(*(case.values for case in cases), strict=True)
    parsed = gateway_file.parse_gateway_file(frame("\n".join(lines) + "\n"), Context(PATH))
    assert parsed.events.select("ts", "host", "subsystem", "level", "message").rows() == list(
        expected
    )


def test_gateway_file_accounting_and_error_name() -> None:
    flat = {
        "time": "2026-05-19T13:44:00Z",
        "level": "error",
        "subsystem": "diagnostic",
        "message": 'lane task error: error="SessionWriteLockTimeoutError: locked"',
    }
    parsed = gateway_file.parse_gateway_file(
        frame(f"{compact(TSLOG)}\n\n{compact(flat)}\nnot json\n"), Context(PATH)
    )
    assert accounting(parsed) == (2, 0, 1, 1)
    assert parsed.events.select("line", "error").rows() == [
        (1, None),
        (3, "SessionWriteLockTimeoutError"),
    ]


@pytest.mark.parametrize(
    ("message", "keep", "kept"),
    [
        ("embedded run timeout reached", "timeout", True),
        ("unrelated", "timeout", False),
        ('Command lane "main" task timed out', 'lane "main"', True),
        (list(b"\x1b[31mtimeout\x1b[0m"), "timeout", True),
        (list(b"\x1b[31mquiet\x1b[0m"), "timeout", False),
        (compact({"level": "warn", "message": "fetch", "timeoutMs": 1}), "timeoutMs=", True),
    ],
)
def test_keep_prefilter_counts_every_entry(message: object, keep: str, kept: bool) -> None:
    text = f"{compact({**ENTRY, 'MESSAGE': 'other'})}\n{compact({**SYSTEM, 'MESSAGE': message})}\n"
    parsed = journal_json.parse_json(frame(text), Context(PATH, ParseOptions(keep=(keep,))))
    assert parsed.entries == 2
    assert parsed.events["line"].to_list() == ([2] if kept else [])


@pytest.mark.parametrize(
    ("message", "ts", "subsystem", "level", "rest"),
    [
        (
            GATEWAY_MSG,
            t("2026-05-19T13:43:45.077"),
            "agent/embedded",
            None,
            "embedded run timeout reached",
        ),
        (
            "\x1b[90m2026-05-17T16:52:32.205Z\x1b[39m \x1b[36m[fetch-timeout]\x1b[39m slow",
            t("2026-05-17T16:52:32.205"),
            "fetch-timeout",
            None,
            "slow",
        ),
        (
            "[90m2026-05-17T16:52:32.205+00:00 [39m [36m[fetch-timeout] [39m slow [39m",
            t("2026-05-17T16:52:32.205"),
            "fetch-timeout",
            None,
            "slow",
        ),
        ("[session-write-lock] releasing lock", None, "session-write-lock", None, "releasing lock"),
        ("[warn] Subagent announce failed", None, None, "warn", "Subagent announce failed"),
        ("23:36:19 [diagnostic] liveness warning", None, "diagnostic", None, "liveness warning"),
        (
            "2026-06-26T13:48:30+08:00 Embedded agent failed",
            t("2026-06-26T05:48:30"),
            None,
            None,
            "Embedded agent failed",
        ),
        ("Started foo.service.", None, None, None, "Started foo.service."),
    ],
)
def test_split_gateway_message(
    message: str, ts: datetime | None, subsystem: str | None, level: str | None, rest: str
) -> None:
    df = pl.DataFrame(
        {"message": [message], "ts": [None], "level": [None]},
        schema={"message": pl.String, "ts": PARSED_SCHEMA["ts"], "level": PARSED_SCHEMA["level"]},
    )
    out = split_gateway_message(df)
    assert out.select("ts", "subsystem", "level", "message").rows() == [
        (ts, subsystem, level, rest)
    ]


DATA = Path(__file__).parent / "data" / "structured"
FIXTURES = [
    ("journal.json", "journal-json", 2),
    ("journal-pretty.json", "journal-json-pretty", 2),
    ("journal.seq", "journal-json-seq", 2),
    ("journal.sse", "journal-json-sse", 2),
    ("journal.export", "journal-export", 2),
    ("journal.verbose", "journal-verbose", 2),
    ("gateway-file.log", "gateway-file", 3),
]


def _head(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", "replace").split("\n")[:200]


@pytest.mark.parametrize(("name", "fmt", "entries"), FIXTURES)
def test_fixture_sniffs_as_its_format_and_parses(name: str, fmt: str, entries: int) -> None:
    path = DATA / name
    scores = {f.name: f.sniff(_head(path)) for f in FORMATS.values()}
    assert max(scores, key=lambda k: scores[k]) == fmt
    assert scores[fmt] >= 0.8
    lines = frame(path.read_bytes())
    parsed = FORMATS[fmt].parse(lines, Context(str(path)))
    assert parsed.entries == entries == parsed.events.height
    assert parsed.unparsed == 0
    assert sum(accounting(parsed)) == lines.height
    assert parsed.events["ts"].null_count() == 0


def test_fixture_gateway_lines_split_alike_in_every_journal_mode() -> None:
    expected = [
        (t("2026-05-19T13:43:45.077"), "agent/embedded", 963591),
        (t("2026-05-19T13:43:46"), "diagnostic", 963591),
    ]
    for name, fmt, _ in FIXTURES[:5]:
        path = DATA / name
        parsed = FORMATS[fmt].parse(frame(path.read_bytes()), Context(str(path)))
        assert parsed.events.select("ts", "subsystem", "pid").rows() == expected, name
        assert parsed.events["error"].to_list() == [None, "SessionWriteLockTimeoutError"]


def test_short_iso_journal_line_scores_zero_everywhere() -> None:
    head = _head(DATA / "short-iso.log")
    assert {f.name: f.sniff(head) for f in FORMATS.values()} == dict.fromkeys(FORMATS, 0.0)


@pytest.mark.parametrize(
    ("fields", "unit"),
    [
        ({"_SYSTEMD_UNIT": "init.scope", "UNIT": "api.service"}, "api.service"),
        ({"_SYSTEMD_UNIT": "user@1000.service", "USER_UNIT": "api.service"}, "api.service"),
        ({"_SYSTEMD_UNIT": "init.scope"}, "api.service"),  # named at the start of the message
        ({}, "api.service"),
    ],
    ids=["UNIT", "USER_UNIT", "message-over-init-scope", "message-only"],
)
def test_systemd_entries_are_about_the_unit_they_name(fields: dict[str, str], unit: str) -> None:
    entry = {
        "__REALTIME_TIMESTAMP": "1779198225000000",
        "SYSLOG_IDENTIFIER": "systemd",
        "_PID": "1",
        "MESSAGE": "api.service: Main process exited, code=killed, status=6/ABRT",
        **fields,
    }
    parsed = journal_json.parse_json(frame(compact(entry) + "\n"), Context(path="j.json"))
    assert parsed.events["unit"].to_list() == [unit]


def test_a_node_entry_keeps_its_own_unit() -> None:
    entry = {
        "__REALTIME_TIMESTAMP": "1779198225000000",
        "SYSLOG_IDENTIFIER": "node",
        "_SYSTEMD_UNIT": "api.service",
        "MESSAGE": "web.service: not a unit line, just text",
    }
    parsed = journal_json.parse_json(frame(compact(entry) + "\n"), Context(path="j.json"))
    assert parsed.events["unit"].to_list() == ["api.service"]


PRETTY_LINES = [
    "{",
    "}",
    "{ }",
    '\t"MESSAGE" : "x",',
    '\t"__CURSOR" : "s=1"',
    "",
    "junk",
    "  }",
    "{}",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PRETTY_LINES), max_size=25))
def test_pretty_framing_members_match_the_per_group_window(lines: list[str]) -> None:
    """An object's lines run from its `{` line to the first `}` line after it: counted by scans
    over the runs of lines, as a window over each group counts them."""
    objects, classified = journal_json._pretty(frame("\n".join(lines) + "\n"))
    closes = (pl.col("close").cum_sum() - pl.col("close")).over("group")
    expected = classified.select((pl.col("group") > 0) & (closes == 0)).to_series()
    assert classified["member"].to_list() == expected.to_list()
    assert objects["line"].to_list() == sorted(objects["line"].to_list())


VERBOSE_LINES = [
    "Di 2026-05-19 15:43:45.077123 CEST [s=1;i=1;b=1;m=1;t=6522bde30d383]",
    "    MESSAGE=x",
    "            more",
    "",
    "-- Reboot --",
    "prose",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VERBOSE_LINES), max_size=25))
def test_verbose_entries_close_at_noise_as_the_per_entry_window_says(lines: list[str]) -> None:
    """A blank or separator line closes its entry: later indented lines are unparsed."""
    classified = journal_verbose._classify(frame("\n".join(lines) + "\n"))
    closes = (pl.col("noise").cum_sum() - pl.col("noise")).over("entry") == 0
    expected = classified.select(
        pl.when(pl.col("header"))
        .then(pl.lit("entry"))
        .when(pl.col("noise"))
        .then(pl.lit("noise"))
        .when((pl.col("entry") > 0) & closes & pl.col("indented"))
        .then(pl.lit("continuation"))
        .otherwise(pl.lit("unparsed"))
    ).to_series()
    assert classified["kind"].to_list() == expected.to_list()


def test_before_in_run_counts_flags_earlier_in_the_same_run() -> None:
    df = pl.DataFrame({"flag": [1, 0, 1, 1, 0, 1, 0], "run": [0, 0, 0, 1, 1, 1, 2]})
    counted = df.select(before_in_run("flag", "run")).to_series().to_list()
    assert counted == [0, 1, 1, 0, 1, 1, 0]
