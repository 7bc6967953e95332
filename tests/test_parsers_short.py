"""journalctl short family and bare gateway lines: one line in, one exact row out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from triage.parsers import parse
from triage.parsers.base import ParseOptions

OPTS = ParseOptions(year=2026, tz="UTC")
ISO_MSG = "2026-05-19T13:43:45.077+00:00 [diagnostic] lane task error: lane=main"


def one_row(tmp_path: Path, line: str, fmt: str | None = None, **opts: Any) -> dict[str, Any]:
    path = tmp_path / "x.log"
    path.write_text(line + "\n", encoding="utf-8")
    options = ParseOptions(**{"year": 2026, "tz": "UTC", "input_format": fmt, **opts})
    result = parse(str(path), options)
    assert result.summary.events == 1, result.summary
    assert result.summary.unparsed == 0
    (row,) = result.events.to_dicts()
    return row


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


PREFIXES = [
    # (line, format, host, ident, pid, ts)
    (
        "May 19 13:43:45 casper node[963591]: hello",
        "journal-short",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 13, 43, 45),
    ),
    (
        "May 19 13:43:45.077123 casper node[963591]: hello",
        "journal-short",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 13, 43, 45, 77123),
    ),
    (
        "May 16 12:25:59 systemd[986]: hello",
        "journal-short",
        None,
        "systemd",
        986,
        at(2026, 5, 16, 12, 25, 59),
    ),
    (
        "Jul  1 00:21:28 combo sshd(pam_unix)[19630]: hello",
        "journal-short",
        "combo",
        "sshd(pam_unix)",
        19630,
        at(2026, 7, 1, 0, 21, 28),
    ),
    (
        "Jun 19 04:09:11 combo syslogd 1.4.1: hello",
        "journal-short",
        "combo",
        "syslogd 1.4.1",
        None,
        at(2026, 6, 19, 4, 9, 11),
    ),
    (
        "May 19 13:43:45 casper kernel: hello",
        "journal-short",
        "casper",
        "kernel",
        None,
        at(2026, 5, 19, 13, 43, 45),
    ),
    (
        "May 19 13:43:45 casper gdm-password][77]: hello",
        "journal-short",
        "casper",
        "gdm-password]",
        77,
        at(2026, 5, 19, 13, 43, 45),
    ),
    (
        "mars 18 15:21:32 igenyx systemd[1]: hello",
        "journal-short",
        "igenyx",
        "systemd",
        1,
        at(2026, 3, 18, 15, 21, 32),
    ),
    (
        "déc. 03 06:17:29 h a.b-c@d/e: hello",
        "journal-short",
        "h",
        "a.b-c@d/e",
        None,
        at(2026, 12, 3, 6, 17, 29),
    ),
    (
        "Mär 03 06:17:29 h x[2]: hello",
        "journal-short",
        "h",
        "x",
        2,
        at(2026, 3, 3, 6, 17, 29),
    ),
    (
        "2026-05-19T13:43:45+00:00 casper node[963591]: hello",
        "journal-short-iso",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 13, 43, 45),
    ),
    (
        "2023-09-08T17:20:30+0200 tarta r710_fan_controller.sh[20911]: hello",
        "journal-short-iso",
        "tarta",
        "r710_fan_controller.sh",
        20911,
        at(2023, 9, 8, 15, 20, 30),
    ),
    (
        "2023-09-08T17:20:30.655028+0200 tarta x[1]: hello",
        "journal-short-iso",
        "tarta",
        "x",
        1,
        at(2023, 9, 8, 15, 20, 30, 655028),
    ),
    (
        "2026-05-19T13:43:45.077123-03:30 casper node[963591]: hello",
        "journal-short-iso",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 17, 13, 45, 77123),
    ),
    (
        "Tue 2026-05-19 13:43:45 UTC casper node[963591]: hello",
        "journal-short-full",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 13, 43, 45),
    ),
    (
        "Di 2026-05-19 13:43:45 +08 casper node[963591]: hello",
        "journal-short-full",
        "casper",
        "node",
        963591,
        at(2026, 5, 19, 5, 43, 45),
    ),
    (
        "1779198225.077123 casper node[963591]: hello",
        "journal-short-unix",
        "casper",
        "node",
        963591,
        datetime.fromtimestamp(1779198225.077123, UTC),
    ),
]


@pytest.mark.parametrize(("line", "fmt", "host", "ident", "pid", "ts"), PREFIXES)
def test_journald_prefix(
    tmp_path: Path, line: str, fmt: str, host: str, ident: str, pid: int, ts: datetime
) -> None:
    row = one_row(tmp_path, line, fmt)
    assert (row["host"], row["ident"], row["pid"], row["message"]) == (host, ident, pid, "hello")
    assert row["ts"] == ts
    assert row["source"] == "journal"


def test_leading_spaces_belong_to_the_message(tmp_path: Path) -> None:
    row = one_row(tmp_path, "May 19 13:43:45 h npm[16301]:   zigbee2mqtt:info start")
    assert row["message"] == "  zigbee2mqtt:info start"


def test_monotonic_has_no_wall_clock(tmp_path: Path) -> None:
    row = one_row(tmp_path, "[ 5123.456789] casper node[963591]: hello")
    assert (row["ident"], row["pid"], row["ts"], row["ts_inferred"]) == ("node", 963591, None, True)


def test_with_unit_gives_the_unit(tmp_path: Path) -> None:
    line = "Tue 2026-05-19 13:43:45 UTC casper user@1000.service/openclaw-gateway.service[9]: hi"
    row = one_row(tmp_path, line, "journal-with-unit")
    assert row["unit"] == "openclaw-gateway.service"
    assert row["ident"] == "user@1000.service/openclaw-gateway.service"


def test_systemd_message_gives_the_unit(tmp_path: Path) -> None:
    line = "May 19 13:43:45 casper systemd[1]: openclaw-gateway.service: Main process exited"
    assert one_row(tmp_path, line)["unit"] == "openclaw-gateway.service"


GATEWAY = [
    # (message after the journald prefix or bare, ts, subsystem, level, message, error)
    (
        ISO_MSG,
        at(2026, 5, 19, 13, 43, 45, 77000),
        "diagnostic",
        None,
        "lane task error: lane=main",
    ),
    (
        "2026-02-13T14:39:14.838Z [diagnostic] stalled",
        at(2026, 2, 13, 14, 39, 14, 838000),
        "diagnostic",
        None,
        "stalled",
    ),
    (
        "2026-06-26T13:48:30+08:00 Embedded agent failed before reply: x",
        at(2026, 6, 26, 5, 48, 30),
        None,
        "error",
        "Embedded agent failed before reply: x",
    ),
    (
        '2026-05-18T15:41:41.593-04:00 info gateway {"subsystem":"gateway"} http server listening',
        at(2026, 5, 18, 19, 41, 41, 593000),
        "gateway",
        "info",
        "http server listening",
    ),
    ("[warn] Subagent completion direct announce failed", None, None, "warn", None),
    (
        "subsystem=agent/embedded: context overflow detected (attempt 1/3)",
        None,
        "agent/embedded",
        None,
        "context overflow detected (attempt 1/3)",
    ),
    ("[session-write-lock] releasing lock held for 5ms", None, "session-write-lock", None, None),
    ("[plugins] [hooks] running gateway_start (1 handlers)", None, "plugins", None, None),
]


@pytest.mark.parametrize(("body", "ts", "subsystem", "level", "message"), GATEWAY)
def test_gateway_line_inside_journald(
    tmp_path: Path, body: str, ts: datetime | None, subsystem: str, level: str, message: str
) -> None:
    row = one_row(tmp_path, f"May 19 13:43:45 casper node[963591]: {body}")
    expected = message if message is not None else body.split("] ", 1)[-1]
    if subsystem == "plugins":
        expected = "[hooks] running gateway_start (1 handlers)"
    assert (row["subsystem"], row["level"], row["message"]) == (subsystem, level, expected)
    assert row["ts"] == (ts or at(2026, 5, 19, 13, 43, 45))


@pytest.mark.parametrize(
    ("line", "subsystem", "message", "source"),
    [
        (ISO_MSG, "diagnostic", "lane task error: lane=main", "gateway"),
        (
            "23:36:19 [diagnostic] liveness warning: x",
            "diagnostic",
            "liveness warning: x",
            "gateway",
        ),
        (
            '2026-05-18T15:41:41.593-04:00 info gateway {"subsystem":"gateway"} ready',
            "gateway",
            "ready",
            "openclaw-logs",
        ),
    ],
)
def test_bare_gateway_line(
    tmp_path: Path, line: str, subsystem: str, message: str, source: str
) -> None:
    row = one_row(tmp_path, line, "gateway-console")
    assert (row["subsystem"], row["message"], row["source"]) == (subsystem, message, source)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            'lane task error: lane=main error="SessionWriteLockTimeoutError: locked"',
            "SessionWriteLockTimeoutError",
        ),
        (
            'CommandLaneTaskTimeoutError: Command lane "main" task timed out',
            "CommandLaneTaskTimeoutError",
        ),
        ("Embedded agent failed before reply: FailoverError: all models failed", "FailoverError"),
        ("EmbeddedAttemptSessionTakeoverError: fenced", "EmbeddedAttemptSessionTakeoverError"),
        ("all good, no errors here", None),
    ],
)
def test_error_name(tmp_path: Path, message: str, error: str | None) -> None:
    row = one_row(tmp_path, f"May 19 13:43:45 casper node[1]: {message}")
    assert row["error"] == error
    assert row["level"] == ("error" if error else None)


@pytest.mark.parametrize(
    "line",
    [
        "\x1b[90m2026-05-17T16:52:32.205+00:00\x1b[39m \x1b[36m[fetch-timeout]\x1b[39m "
        "\x1b[33mfetch timeout after 2500ms\x1b[39m",
        "[90m2026-05-17T16:52:32.205+00:00 [39m [36m[fetch-timeout] [39m "
        "[33mfetch timeout after 2500ms [39m",
    ],
)
def test_ansi_with_and_without_esc(tmp_path: Path, line: str) -> None:
    row = one_row(tmp_path, line, "gateway-console")
    assert (row["subsystem"], row["message"].strip()) == (
        "fetch-timeout",
        "fetch timeout after 2500ms",
    )
    assert row["ts"] == at(2026, 5, 17, 16, 52, 32, 205000)


def test_osc8_link_is_stripped(tmp_path: Path) -> None:
    line = "May 19 13:43:45 h x[1]: \x1b]8;;file:///a\x07see\x1b]8;;\x07 it"
    assert one_row(tmp_path, line)["message"] == "see it"


def test_placeholder_line_keeps_time_and_text(tmp_path: Path) -> None:
    row = one_row(tmp_path, "May 19 13:46:27 ... SessionWriteLockTimeoutError ... x.jsonl.lock")
    assert (row["host"], row["ident"], row["pid"]) == (None, None, None)
    assert row["message"] == "SessionWriteLockTimeoutError ... x.jsonl.lock"
    assert row["error"] == "SessionWriteLockTimeoutError"
    assert row["ts"] == at(2026, 5, 19, 13, 46, 27)
