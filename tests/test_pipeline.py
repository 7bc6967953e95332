"""The whole pipeline on the bundled samples and the seed: the issue's acceptance, as specs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.parsers import parse
from triage.parsers.base import ParseOptions
from triage.pipeline import _sample, _with_prefilter, run
from triage.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CLOCK = datetime(2026, 11, 24, tzinfo=UTC)
KEY = "agent:main:discord:channel:1506258704541159484"


@pytest.fixture(scope="module")
def rules() -> object:
    return load_rules()


def analyse(rules: object, *paths: Path) -> object:
    return run([str(p) for p in paths], rules=rules, generated_at=CLOCK)  # type: ignore[arg-type]


def test_seed_excerpt_root_cause_is_the_compaction_lock_leak(rules: object) -> None:
    report = analyse(rules, ROOT / "tests" / "data" / "seed-excerpt.log")
    fired = {(f.rule, f.session) for f in report.findings}
    assert ("compaction-lock-leak", KEY) in fired
    assert all(f.rule != "session-lock-contention" for f in report.findings)
    assert {s.key: s.root_cause for s in report.sessions}[KEY] == "compaction-lock-leak"


def test_seed_paste_with_prose_gives_the_same_answer(rules: object) -> None:
    report = analyse(rules, ROOT / "tests" / "data" / "seed-paste.txt")
    assert ("compaction-lock-leak", KEY) in {(f.rule, f.session) for f in report.findings}
    (summary,) = report.inputs
    classes = summary.events + summary.continuations + summary.noise + summary.unparsed
    assert summary.lines == classes


def test_bundled_sample_fires_the_leak_and_notes_the_clearing_restart(rules: object) -> None:
    report = analyse(rules, ROOT / "samples" / "compaction-lock-leak" / "journal.txt")
    leaks = [f for f in report.findings if f.rule == "compaction-lock-leak"]
    assert len(leaks) == 1
    (leak,) = leaks
    assert dict(leak.details).get("cleared_by"), leak.details
    assert "restart" in leak.summary
    assert all(f.rule != "session-lock-contention" for f in report.findings)


def test_nothing_fires_on_the_healthy_sample(rules: object) -> None:
    report = analyse(rules, ROOT / "samples" / "healthy" / "journal.txt")
    assert report.findings == ()
    (summary,) = report.inputs
    assert summary.unparsed == 0


def test_export_binary_field_whose_length_prefix_holds_a_newline(tmp_path: Path) -> None:
    import struct

    from triage.parsers import parse

    message = b"line one\n2"  # 10 bytes: the little-endian length prefix starts with b"\n"
    data = (
        b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1779198317707000\nSYSLOG_IDENTIFIER=node\n_PID=7\n"
        + b"MESSAGE\n"
        + struct.pack("<Q", len(message))
        + message
        + b"\n\n__CURSOR=s=2\n__REALTIME_TIMESTAMP=1779198318000000\nMESSAGE=hello\n\n"
    )
    path = tmp_path / "journal.export"
    path.write_bytes(data)
    result = parse(str(path))
    assert result.summary.format == "journal-export"
    assert result.events["message"].to_list() == ["line one\n2", "hello"]
    summary = result.summary
    classes = summary.events + summary.continuations + summary.noise + summary.unparsed
    assert summary.lines == classes == data.count(b"\n")


def twins(tmp_path: Path, fixture: Path) -> tuple[Path, Path]:
    """The same journal as `short-iso` text and as `journalctl -o json` (fixture: `short`)."""
    import json

    text, objects = [], []
    for line in fixture.read_text(encoding="utf-8").splitlines():
        head, message = line.split(": ", 1)
        _month, day, clock, host, ident_pid = head.split()
        stamp = datetime.fromisoformat(f"2026-05-{int(day):02d}T{clock}+00:00")
        ident, pid = ident_pid.rstrip("]").split("[")
        text.append(f"{stamp.isoformat()} {host} {ident}[{pid}]: {message}")
        micros = str(int(stamp.timestamp()) * 1_000_000)
        objects.append(
            {"__REALTIME_TIMESTAMP": micros, "_HOSTNAME": host, "SYSLOG_IDENTIFIER": ident,
             "_PID": pid, "PRIORITY": "6", "MESSAGE": message}
        )  # fmt: skip
    short, js = tmp_path / "journal.txt", tmp_path / "journal.json"
    short.write_text("\n".join(text) + "\n", encoding="utf-8")
    js.write_text("\n".join(json.dumps(o) for o in objects) + "\n", encoding="utf-8")
    return short, js


def test_a_json_export_gives_the_same_sessions_as_the_text_export(
    rules: object, tmp_path: Path
) -> None:
    """The prefilter leaves session entries out of the events in every format; their key <-> id
    pairs and counts must still reach the report (the compaction names only the session id)."""
    short, js = twins(tmp_path, ROOT / "rules" / "fixtures" / "compaction-stuck" / "fires.log")
    reports = [analyse(rules, path) for path in (short, js)]
    for report in reports:
        assert [(f.rule, f.session) for f in report.findings] == [("compaction-stuck", KEY)]
    by_format = [
        [(s.key, s.ids, s.events, s.first, s.last) for s in report.sessions] for report in reports
    ]
    assert by_format[0] == by_format[1]
    assert [(key, events) for key, _, events, _, _ in by_format[0]] == [(KEY, 3)]


def test_a_common_line_a_rare_condition_refines_is_left_out_and_the_rare_one_found(
    rules: object, tmp_path: Path
) -> None:
    # `reply-lost` needs `dispatch complete` and `replies=0\b`: on a busy gateway nearly every
    # dispatch replies, so the prefilter keeps the `replies=0` lines only (rarest in the input).
    stamp = "2026-05-19T10:00:{:02d}+00:00 casper node[7]: 2026-05-19T10:00:{:02d}.000+00:00"
    lines = [
        f"{stamp.format(i, i)} discord[default]: dispatch complete (queuedFinal=true, "
        f"replies={0 if i == 30 else 1})"
        for i in range(60)
    ]
    log = tmp_path / "journal.txt"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = _with_prefilter(ParseOptions(), rules, _sample([str(log)]))  # type: ignore[arg-type]
    assert options.keep is not None
    assert "replies=0" in options.keep and "dispatch complete" not in options.keep
    kept = parse(str(log), options)
    assert kept.events["line"].to_list() == [31, 60]  # the refined line; the last (the end time)
    report = analyse(rules, log)
    assert [(f.rule, f.first) for f in report.findings] == [
        ("reply-lost", datetime(2026, 5, 19, 10, 0, 30, tzinfo=UTC))
    ]


def test_the_sample_is_the_start_of_the_first_plain_file(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.log", tmp_path / "b.log.gz"
    plain.write_text("x" * 300_000, encoding="utf-8")
    packed.write_bytes(b"not read")
    assert _sample(["-", str(packed), str(tmp_path / "missing.log")]) == ""
    assert _sample([str(packed), str(plain)]) == "x" * 256 * 1024
