"""The command line end to end: exit codes, one-line errors, atomic outputs, the seed answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app

runner = CliRunner()
SEED = Path(__file__).parent / "data" / "seed-excerpt.log"
GENERATED = ["--generated-at", "2026-11-24T00:00:00"]


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_seed_json_names_the_compaction_lock_leak_for_the_discord_session() -> None:
    result = invoke("analyze", str(SEED), "--format", "json", "--no-redact", *GENERATED)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rules = {(f["rule"], f["session"]) for f in report["findings"]}
    key = "agent:main:discord:channel:1506258704541159484"
    assert ("compaction-lock-leak", key) in rules
    assert not any(rule == "session-lock-contention" for rule, _ in rules)
    leak = next(f for f in report["findings"] if f["rule"] == "compaction-lock-leak")
    assert leak["severity"] == "critical"
    assert leak["count"] == 3
    assert leak["first"].startswith("2026-05-19T13:43:45.077")
    assert leak["last"].startswith("2026-05-19T13:54:04")
    lines = {e["line"] for e in leak["evidence"]}
    assert lines >= {1, 42, 43}  # the compaction timeout and the two later lock failures
    assert lines & {17, 25}  # the first failed turn (either lane of the pair)
    session = next(s for s in report["sessions"] if s["key"] == key)
    assert session["root_cause"] == "compaction-lock-leak"


def test_fail_on_gives_exit_1_at_or_above_the_threshold() -> None:
    assert invoke("analyze", str(SEED), "--fail-on", "critical", *GENERATED).exit_code == 1
    assert invoke("analyze", str(SEED), "--fail-on", "high", *GENERATED).exit_code == 1


def test_no_fail_on_means_exit_0_even_with_findings() -> None:
    assert invoke("analyze", str(SEED), *GENERATED).exit_code == 0


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    result = invoke("analyze", str(missing))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"triage: {missing}: ")
    assert "Traceback" not in result.output


def test_invalid_rule_is_path_line_message_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text('id = "broken"\ntitle = "x"\nseverity = \n')
    result = invoke("analyze", str(SEED), "--rules", str(tmp_path))
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_format_is_a_usage_error() -> None:
    result = invoke("analyze", str(SEED), "--format", "pdf")
    assert result.exit_code == 2
    assert "expected one of" in result.stderr


def test_output_file_is_written_whole_and_no_temp_file_is_left(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke("analyze", str(SEED), "-o", str(out), *GENERATED)
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().lower().startswith("<!doctype html")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_output_into_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    result = invoke("analyze", str(SEED), "-o", str(tmp_path / "no" / "r.json"))
    assert result.exit_code == 2
    assert "output folder does not exist" in result.stderr


@pytest.mark.parametrize(
    "command", ["analyze", "check-rules", "test-rules", "rules", "explain", "formats", "merge"]
)
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_progress_bar_goes_to_stderr_and_leaves_stdout_clean() -> None:
    result = invoke("analyze", str(SEED), "--progress", "--format", "json", *GENERATED)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema_version"] == 1


def test_formats_lists_every_registered_format_with_an_example() -> None:
    from triage.parsers import FORMATS

    result = invoke("formats")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines() if line[:1].strip()]
    assert names == list(FORMATS)
    assert result.stdout.count("e.g. ") == len(FORMATS)


def test_unknown_set_param_is_one_error_without_follow_on_errors() -> None:
    result = invoke("analyze", str(SEED), "--set", "compaction-lock-leak.nope=3")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "triage: --set: compaction-lock-leak.nope: unknown param 'nope'; "
        "params: min_failures, window"
    ]


def test_unknown_time_zone_is_refused() -> None:
    result = invoke("analyze", str(SEED), "--tz", "Mars/Olympus")
    assert result.exit_code == 2
    assert "not an IANA time zone" in result.stderr
