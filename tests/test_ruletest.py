"""The fixture runner: pass/fail per log, clear reasons, JUnit XML."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage.rules import builtin_rules_dir, load_rules
from triage.ruletest import FixtureResult, junit_xml, run_fixtures


def copy_rule(tmp_path: Path, rule_id: str) -> Path:
    src = builtin_rules_dir()
    shutil.copy(src / f"{rule_id}.toml", tmp_path / f"{rule_id}.toml")
    shutil.copytree(src / "fixtures" / rule_id, tmp_path / "fixtures" / rule_id)
    return tmp_path / "fixtures" / rule_id


def test_a_wrong_expectation_fails_with_the_reason(tmp_path: Path) -> None:
    folder = copy_rule(tmp_path, "reply-lost")
    expect = folder / "expect.toml"
    wrong = expect.read_text().replace("count = 1", "count = 2")
    expect.write_text(wrong.replace("findings = 2", "findings = 1"))
    results = run_fixtures(load_rules([tmp_path]), ["reply-lost"])
    key = "agent:main:discord:channel:1506258704541159484"
    assert [str(r).replace(str(tmp_path), "T") for r in results] == [
        "FAIL reply-lost/fires.log: expected count 2, got 1",
        "PASS reply-lost/near-miss.log",
        "PASS reply-lost/silent.log",
        f"FAIL reply-lost/two-episodes.log: expected 1 finding(s), got 2: {key}: 2 messages got "
        f"no reply between 14:00:00 and 14:20:00.; {key}: 1 message got no reply at 16:30:00.",
    ]


def test_a_silent_log_that_fires_fails(tmp_path: Path) -> None:
    folder = copy_rule(tmp_path, "reply-lost")
    shutil.copy(folder / "fires.log", folder / "silent.log")
    (result,) = [r for r in run_fixtures(load_rules([tmp_path]), ["reply-lost"]) if not r.passed]
    assert result.message.startswith("expected silence, but it fired for agent:main:discord:")


def test_logs_without_expectations_and_rules_without_fixtures_fail(tmp_path: Path) -> None:
    folder = copy_rule(tmp_path, "reply-lost")
    (folder / "extra.log").write_text("")
    shutil.copy(builtin_rules_dir() / "oom-kill.toml", tmp_path / "oom-kill.toml")
    results = run_fixtures(load_rules([tmp_path], builtin=False))
    failed = [(r.rule, Path(r.fixture).name, r.message) for r in results if not r.passed]
    assert failed == [
        ("oom-kill", "oom-kill", f"no fixtures: add {tmp_path}/fixtures/oom-kill/expect.toml"),
        ("reply-lost", "extra.log", "no entry in expect.toml"),
    ]


def test_junit_xml_lists_every_fixture_and_escapes_messages() -> None:
    results = [
        FixtureResult("a", "x/fires.log", True),
        FixtureResult("a", "x/silent.log", False, 'fired for "s" & <t>'),
    ]
    assert junit_xml(results) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuite name="triage.rules" tests="2" failures="1">\n'
        '  <testcase classname="a" name="fires.log"/>\n'
        '  <testcase classname="a" name="silent.log">\n'
        "    <failure message='fired for \"s\" &amp; &lt;t&gt;'>"
        'fired for "s" &amp; &lt;t&gt;</failure>\n'
        "  </testcase>\n"
        "</testsuite>\n"
    )
