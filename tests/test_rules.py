"""The rule loader as a spec: what loads, and every error message, pinned exactly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from triage.errors import Location, RuleError, RuleErrors
from triage.findings import Severity
from triage.literals import rarest
from triage.rules import (
    Cond,
    Op,
    builtin_rules_dir,
    check_rules,
    load_rule_text,
    load_rules,
    parse_duration,
)

GOOD = """
id = "good"
title = "A good rule"
severity = "high"

[params]
min = 2
wait = "10s"

[[steps]]
name = "one"
message = { contains = ["alpha", "beta"] }
count = "{min}"
within = "90s"

[[steps]]
name = "two"
message = { regex = 'waitedMs=(?P<waited>\\d+)' }
waited = { gte = "{wait}" }

[explain]
cause = "c"
impact = "i"
workaround = "w"
references = ["https://example.invalid/1"]
"""


def test_a_good_rule_loads_with_typed_values() -> None:
    rule = load_rule_text(GOOD, "rules/good.toml")
    assert (rule.id, rule.title, rule.severity, rule.by) == (
        "good",
        "A good rule",
        Severity.HIGH,
        ("session",),
    )
    one, two = rule.steps
    assert (one.name, one.count, one.within) == ("one", 2, timedelta(seconds=90))
    assert one.matches[0].conds == (Cond(Op.CONTAINS, ("alpha", "beta")),)
    assert two.captures() == ("waited",)
    assert two.matches[1].conds == (Cond(Op.GTE, 10000.0),)  # durations compare in ms
    assert rule.explain.references == ("https://example.invalid/1",)


def test_overrides_replace_params_before_use() -> None:
    rule = load_rule_text(GOOD, "good.toml", {"min": "5", "wait": "20s"})
    assert rule.steps[0].count == 5
    assert rule.steps[1].matches[1].conds == (Cond(Op.GTE, 20000.0),)
    assert dict(rule.params) == {"min": 5, "wait": "20s"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("1d", timedelta(days=1)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["10", "10 min", "m", "-5s", ""])
def test_bad_durations_say_what_is_expected(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected a number and a unit \(ms, s, m, h, d\)"):
        parse_duration(bad)


BROKEN = {
    "syntax.toml": 'id = "syntax"\ntitle = "x"\nseverity = \n',
    "typo.toml": """id = "typo"
title = "Typo in a step"
severity = "hihg"

[[steps]]
name = "one"
mesage = { contains = ["x"] }

[[steps]]
name = "two"
message = { regex = "(unclosed" }
within = "10 min"
count = "{missing}"

[[without]]
between = ["one", "three"]
message = "ready"

[explain]
cause = "c"
impact = "i"
workaround = "w"
""",
    "wrongid.toml": """id = "other"
severity = "low"
by = "sesion"

[[steps]]
name = "a"
message = { contain = "x" }

[explain]
cause = "c"
""",
}

COLUMNS = (
    "duplicate, end_line, epoch, error, file, host, ident, lane, level, line, lock_alive, "
    "lock_path, lock_pid, message, pid, run_id, session, session_id, session_key, source, "
    "subsystem, ts, ts_inferred, unit"
)
STEP_KEYS = (
    "absent, count, duplicate, end_line, epoch, error, file, fire_at_end, host, ident, lane, "
    "level, line, lock_alive, lock_path, lock_pid, merge, message, name, pid, run_id, same, "
    "session, session_id, session_key, source, subsystem, ts, ts_inferred, unit, window, within"
)


def test_a_folder_of_broken_rules_lists_every_error_at_once(tmp_path: Path) -> None:
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text)
    p = str(tmp_path)
    assert [str(e) for e in check_rules([tmp_path], builtin=False)] == [
        f"{p}/syntax.toml:3: invalid TOML: Invalid value",
        f"{p}/typo.toml:3: bad severity 'hihg'; expected one of: info, low, medium, high, critical",
        f"{p}/typo.toml:7: unknown key 'mesage' in steps[1]; did you mean 'message'? "
        f"expected one of: {STEP_KEYS}",
        f"{p}/typo.toml:11: bad regex '(unclosed' in steps[2].message: "
        "missing ), unterminated subpattern",
        f"{p}/typo.toml:12: bad duration '10 min' in steps[2].within; expected a number and a "
        "unit (ms, s, m, h, d), e.g. 90s, 10m, 2h",
        f"{p}/typo.toml:13: unknown param reference '{{missing}}'; params: none",
        f"{p}/typo.toml:16: without[1].between names unknown step 'three'; steps are: one, two",
        f"{p}/wrongid.toml:1: missing key 'title' in the rule",
        f"{p}/wrongid.toml:1: id 'other' does not match the file name 'wrongid'; rename one",
        f"{p}/wrongid.toml:3: unknown column 'sesion' in by; expected an event column or a "
        f"capture: {COLUMNS}",
        f"{p}/wrongid.toml:7: unknown operator 'contain' in steps[1].message; did you mean "
        "'contains'? expected one of: any, contains, eq, gt, gte, in, lt, lte, not, prefix, regex",
        f"{p}/wrongid.toml:9: missing key 'impact' in [explain]",
        f"{p}/wrongid.toml:9: missing key 'workaround' in [explain]",
    ]


def test_load_rules_raises_all_errors_together(tmp_path: Path) -> None:
    for name, text in BROKEN.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(RuleErrors) as raised:
        load_rules([tmp_path], builtin=False)
    assert len(raised.value.errors) == 13
    assert raised.value.errors[0] == RuleError(
        "invalid TOML: Invalid value", Location(str(tmp_path / "syntax.toml"), 3)
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('severity = "high"', ""), "good.toml:1: missing key 'severity' in the rule"),
        (('name = "two"', 'name = "one"'), "good.toml:17: duplicate step name 'one'"),
        (('count = "{min}"', "count = 0"),
         "good.toml:13: count must be a whole number >= 1, not 0"),
        (("[params]", 'colour = "red"\n[params]'), "good.toml:6: unknown key 'colour' in the rule; "
         "expected one of: also, around, by, count_step, description, details, explain, "
         "explained_by, id, join, keep, params, repeat, repeat_window, session, severity, steps, "
         "summary, title, without"),
        (('title = "A good rule"', 'title = "x"\nsummary = "{nope} left"'),
         "good.toml:4: unknown param reference '{nope}' in summary"),
        (('title = "A good rule"', 'title = "x"\ncount_step = "three"'),
         "good.toml:4: count_step names unknown step 'three'; steps are: one, two"),
    ],
)  # fmt: skip
def test_semantic_errors_are_located(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(RuleErrors) as raised:
        load_rule_text(GOOD.replace(*edit), "good.toml")
    assert str(raised.value) == message


def test_bad_overrides_name_the_set_option() -> None:
    with pytest.raises(RuleErrors) as raised:
        load_rule_text(GOOD, "good.toml", {"min": "many", "colour": "red"})
    assert str(raised.value).splitlines() == [
        "--set: --set good.min=many: expected a int like 2",
        "--set: good.colour: unknown param 'colour'; params: min, wait",
    ]


def test_overrides_for_an_unknown_rule_are_errors() -> None:
    with pytest.raises(RuleErrors, match=r"--set: nosuch.x: unknown rule 'nosuch'"):
        load_rules(overrides={"nosuch.x": "1"})


def test_set_reaches_the_builtin_rule() -> None:
    rules = load_rules(overrides={"compaction-lock-leak.min_failures": "4"})
    assert rules.get("compaction-lock-leak").steps[1].count == 4


def test_user_folder_overrides_a_builtin_by_id(tmp_path: Path) -> None:
    text = (
        (builtin_rules_dir() / "reply-lost.toml")
        .read_text()
        .replace('severity = "high"', 'severity = "low"')
    )
    (tmp_path / "reply-lost.toml").write_text(text)
    rules = load_rules([tmp_path])
    assert rules.get("reply-lost").severity is Severity.LOW
    assert len(rules.rules) == len(load_rules().rules)


def test_explaining_rules_are_evaluated_first() -> None:
    ids = [r.id for r in load_rules().rules]
    assert ids.index("compaction-lock-leak") < ids.index("session-lock-contention")


def test_unknown_rule_id_lists_the_known_ones() -> None:
    with pytest.raises(
        RuleError, match=r"unknown rule 'nope'; known rules: .*compaction-lock-leak"
    ):
        load_rules().get("nope")


def test_literals_feed_the_prefilter_and_none_when_a_step_has_no_literal() -> None:
    rule = load_rule_text(GOOD, "good.toml")
    assert rule.literals() == ("alpha", "beta", "waitedMs=")  # step two: its regex's literal
    bare = load_rule_text(GOOD.replace("'waitedMs=(?P", "'(?P"), "good.toml")
    assert bare.literals() is None  # `(?P<waited>\d+)` needs no literal text
    assert "SessionWriteLockTimeoutError" in (load_rules().literals() or ())


def test_the_prefilter_takes_the_rarest_literals_of_conditions_that_all_hold() -> None:
    both = GOOD.replace("message = { regex", "message = { contains = 'queue', regex")
    rule = load_rule_text(both, "good.toml")
    assert rule.literals() == ("alpha", "beta", "queue")  # the rule's order
    assert rule.literals(rarest("waitedMs=1 waitedMs=2 queue")) == ("alpha", "beta", "queue")
    assert rule.literals(rarest("queue queue waitedMs=1")) == ("alpha", "beta", "waitedMs=")
    assert rule.literals(rarest("")) == ("alpha", "beta", "waitedMs=")  # a tie: the longer
