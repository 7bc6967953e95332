"""Reporters: exact terminal and Markdown text, the JSON contract and round trip, SARIF, JUnit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_factory import (
    GENERATED_AT,
    at,
    empty_report,
    ev,
    many_sessions_report,
    reply_lost,
    seed_report,
)

from triage.errors import Location, ReportError
from triage.findings import Explain, Finding, InputSummary, Report, Severity
from triage.reports import ReportFormat, merge, render
from triage.reports.common import _BREAKS, _CONTROL, one_line, pretty_json
from triage.reports.json_report import load, to_dict
from triage.reports.markdown import LIMIT
from triage.reports.sarif import fingerprint


def tiny(*findings: Finding) -> Report:
    return Report(
        tool_version="0.1.0",
        generated_at=GENERATED_AT,
        inputs=(InputSummary("j.log", "journal-short", 10, 8, 1, 1, 0),),
        findings=findings,
        near_misses=(),
        sessions=(),
    )


def finding(**changes: object) -> Finding:
    base = Finding(
        rule="oom-kill",
        severity=Severity.CRITICAL,
        title="OOM kill",
        session="app.service",
        first=at("10:00:00"),
        last=at("10:02:30.5"),
        count=2,
        summary="Killed twice in 2m30s.",
        evidence=(
            ev(3, "10:00:00", "Out of memory: Killed process 42 (node)", path="j.log"),
            ev(12, "10:02:30.5", "app.service: Failed with result 'oom-kill'.", path="j.log"),
        ),
        explain=Explain(
            "Too little memory.", "Restarts.", "Raise `MemoryMax=`.", ("https://x.org/oom",)
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- terminal ---------------------------------------------------------------------------------


def test_terminal_plain_text_is_pinned() -> None:
    symptom = finding(
        rule="service-restart-loop",
        severity=Severity.HIGH,
        title="Restart loop",
        count=4,
        summary="4 restarts.",
        evidence=(),
        caused_by="oom-kill",
    )
    assert render(tiny(finding(), symptom), ReportFormat.TERMINAL) == (
        "triage: 2 findings in 1 session, worst: critical\n"
        "\n"
        "app.service\n"
        "  CRITICAL OOM kill  [oom-kill]\n"
        "  first 2026-05-19T10:00:00+00:00  last 2026-05-19T10:02:30.500+00:00"
        "  duration 2m30s  count 2\n"
        "  Killed twice in 2m30s.\n"
        "  evidence:\n"
        "    j.log:3   Out of memory: Killed process 42 (node)\n"
        "    j.log:12  app.service: Failed with result 'oom-kill'.\n"
        "  workaround: Raise `MemoryMax=`.\n"
        "  symptoms:\n"
        "    HIGH     Restart loop  [service-restart-loop]  count 4: 4 restarts.\n"
        "\n"
        "inputs:\n"
        "  j.log  journal-short  lines 10  events 8  continuations 1  noise 1  unparsed 0\n"
    )


def test_terminal_without_findings_is_one_line_plus_counts() -> None:
    assert render(empty_report(), ReportFormat.TERMINAL) == (
        "triage: no findings (1 session, 118 events from 1 input)\n"
        "\n"
        "inputs:\n"
        "  healthy.log  gateway-console  lines 120  events 118  continuations 0  noise 2"
        "  unparsed 0\n"
    )


def test_terminal_colour_uses_ansi_and_plain_does_not() -> None:
    coloured = render(seed_report(), ReportFormat.TERMINAL, color=True)
    plain = render(seed_report(), ReportFormat.TERMINAL)
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain


def test_terminal_neutralises_escape_sequences_in_log_text() -> None:
    hostile = finding(evidence=(ev(1, "10:00:00", "boom \x1b]0;pwned\x07 \x1b[2J", path="j.log"),))
    coloured = render(tiny(hostile), ReportFormat.TERMINAL, color=True)
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", coloured)  # only rich's own styles
    assert "boom ?]0;pwned? ?[2J" in render(tiny(hostile), ReportFormat.TERMINAL)


def test_terminal_shows_at_most_five_evidence_lines_with_a_count() -> None:
    lines = tuple(ev(i, "10:00:00", f"line {i}", path="j.log") for i in range(1, 9))
    text = render(tiny(finding(evidence=lines)), ReportFormat.TERMINAL)
    assert "j.log:5  line 5" in text
    assert "j.log:6" not in text
    assert "(+3 more)" in text


# -- markdown ---------------------------------------------------------------------------------


def test_markdown_is_pinned() -> None:
    text = render(tiny(finding(evidence=finding().evidence[:1])), ReportFormat.MD)
    assert text == (
        "## triage: 1 finding in 1 session, worst: critical\n"
        "\n"
        "### `app.service`\n"
        "\n"
        "**OOM kill** (`oom-kill`)\n"
        "\n"
        "**Severity:** critical · **First:** 2026-05-19T10:00:00+00:00 · "
        "**Last:** 2026-05-19T10:02:30.500+00:00 · **Duration:** 2m30s · **Count:** 2\n"
        "\n"
        "Killed twice in 2m30s.\n"
        "\n"
        "**Workaround:** Raise `MemoryMax=`.\n"
        "\n"
        "**References:** <https://x.org/oom>\n"
        "\n"
        "<details><summary>Evidence for oom-kill: 1 line</summary>\n"
        "\n"
        "```text\n"
        "j.log:3  Out of memory: Killed process 42 (node)\n"
        "```\n"
        "\n"
        "</details>\n"
        "\n"
        "### Inputs\n"
        "\n"
        "| input | format | lines | events | continuations | noise | unparsed |\n"
        "|---|---|---:|---:|---:|---:|---:|\n"
        "| `j.log` | journal-short | 10 | 8 | 1 | 1 | 0 |\n"
    )


def test_markdown_fence_outgrows_backticks_in_log_lines() -> None:
    f = finding(evidence=(ev(1, "10:00:00", "oops ````` fence ``` end", path="j.log"),))
    text = render(tiny(f), ReportFormat.MD)
    assert "``````text\nj.log:1  oops ````` fence ``` end\n``````" in text


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("</details> *bold* [link](http://x)", "&lt;/details&gt; \\*bold\\* \\[link\\](http://x)"),
        ("# heading", "\\# heading"),
        ("ping @octocat", "ping @\u200boctocat"),
    ],
)
def test_markdown_neutralises_log_text_in_prose(summary: str, expected: str) -> None:
    text = render(tiny(finding(summary=summary)), ReportFormat.MD)
    assert f"\n{expected}\n" in text


def test_markdown_stays_under_the_limit_and_says_what_was_cut() -> None:
    text = render(many_sessions_report(300, 40), ReportFormat.MD)
    assert len(text) < LIMIT
    assert "**Shortened to fit a GitHub comment:**" in text
    assert "sessions omitted" in text


def test_markdown_cuts_evidence_before_sessions() -> None:
    text = render(many_sessions_report(3, 400), ReportFormat.MD)
    assert len(text) < LIMIT
    assert text.count("### `agent:main:discord:channel:") == 3
    assert "evidence lines omitted (at most 20 per finding)" in text


# -- JSON -------------------------------------------------------------------------------------


def test_json_has_the_contract_keys() -> None:
    data = json.loads(render(seed_report(), ReportFormat.JSON))
    assert data["schema_version"] == 1
    assert data["tool"] == {"name": "triage", "version": "0.1.0"}
    assert data["generated_at"] == "2026-05-20T08:00:00+00:00"
    assert set(data["inputs"][0]) >= {"path", "format", "lines", "events", "unparsed"}
    f = data["findings"][0]
    assert {k: f[k] for k in ("rule", "severity", "first", "last", "count")} == {
        "rule": "compaction-lock-leak",
        "severity": "critical",
        "first": "2026-05-19T13:43:45.077+00:00",
        "last": "2026-05-19T13:54:04+00:00",
        "count": 3,
    }
    assert set(f["evidence"][0]) >= {"path", "line", "ts", "text"}
    assert set(data["near_misses"][0]) >= {
        "rule",
        "session",
        "matched_steps",
        "total_steps",
        "reason",
    }
    assert set(data["sessions"][0]) >= {"key", "ids", "first", "last", "events", "root_cause"}


def test_json_is_sorted_and_indented() -> None:
    text = render(empty_report(), ReportFormat.JSON)
    assert text.startswith('{\n  "findings": [],\n  "generated_at"')
    assert text.endswith("}\n")


@pytest.mark.parametrize("report", [seed_report(with_stall=True), empty_report()])
def test_json_round_trip(report: Report) -> None:
    assert load(render(report, ReportFormat.JSON, redact=False)) == report


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "{\n  nope",
            ReportError(
                "not valid JSON: Expecting property name enclosed in double quotes",
                Location("a.json", 2),
            ),
        ),
        ("[]", ReportError("expected a JSON object", Location("a.json"))),
        (
            '{"schema_version": 2}',
            ReportError(
                "schema_version 2 is not supported; expected 1",
                Location("a.json", key="schema_version"),
            ),
        ),
        ('{"schema_version": 1}', ReportError("missing key", Location("a.json", key="tool"))),
    ],
)
def test_load_rejects_bad_input_with_a_location(text: str, error: ReportError) -> None:
    with pytest.raises(ReportError) as caught:
        load(text, "a.json")
    assert caught.value == error


def test_load_names_the_key_path_of_a_bad_value() -> None:
    data = to_dict(seed_report())
    data["findings"][1]["severity"] = "urgent"
    with pytest.raises(ReportError, match=r"^a.json: findings\[1\].severity: unknown severity"):
        load(json.dumps(data), "a.json")
    data = to_dict(seed_report())
    data["findings"][0]["count"] = True
    with pytest.raises(ReportError, match=r"findings\[0\].count: expected int, got bool"):
        load(json.dumps(data), "a.json")


# -- merge ------------------------------------------------------------------------------------


def test_merge_concatenates_and_sorts() -> None:
    a = seed_report()
    b = replace(
        empty_report(),
        generated_at=GENERATED_AT.replace(hour=9),
        findings=(
            replace(
                reply_lost(), session="agent:main:telegram:direct:1", severity=Severity.CRITICAL
            ),
        ),
    )
    merged = merge([b, a])
    assert [i.path for i in merged.inputs] == ["healthy.log", "journal.txt"]
    assert [(f.rule, f.session) for f in merged.findings] == [
        ("compaction-lock-leak", "agent:main:discord:channel:1506258704541159484"),
        ("reply-lost", "agent:main:telegram:direct:1"),
        ("reply-lost", "agent:main:discord:channel:1506258704541159484"),
    ]
    assert [s.key for s in merged.sessions] == [
        "agent:main:cron:nightly",
        "agent:main:discord:channel:1506258704541159484",
        "agent:main:main",
    ]
    assert merged.generated_at == b.generated_at
    assert merge([b, a]) == merge([a, b])


def test_merge_of_nothing_is_an_error() -> None:
    with pytest.raises(ReportError, match="nothing to merge"):
        merge([])


# -- SARIF ------------------------------------------------------------------------------------

# Written from the SARIF 2.1.0 specification (OASIS), the parts triage emits: the official
# schema ships in no PyPI package available here (sarif-om, jschema-to-python, sarif-tools).
SARIF_SCHEMA = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "message": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string"}},
        },
        "run": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {"driver": {"$ref": "#/$defs/driver"}},
                },
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
            },
        },
        "driver": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            },
        },
        "rule": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "shortDescription": {"$ref": "#/$defs/message"},
                "fullDescription": {"$ref": "#/$defs/message"},
                "help": {"$ref": "#/$defs/message"},
                "helpUri": {"type": "string", "format": "uri"},
                "defaultConfiguration": {
                    "type": "object",
                    "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                },
            },
        },
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/$defs/message"},
                "partialFingerprints": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "physicalLocation": {
                                "type": "object",
                                "required": ["artifactLocation"],
                                "properties": {
                                    "artifactLocation": {
                                        "type": "object",
                                        "required": ["uri"],
                                        "properties": {"uri": {"type": "string"}},
                                    },
                                    "region": {
                                        "type": "object",
                                        "properties": {
                                            "startLine": {"type": "integer", "minimum": 1}
                                        },
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    },
}


@pytest.mark.parametrize("report", [seed_report(with_stall=True), empty_report()])
def test_sarif_validates(report: Report) -> None:
    jsonschema.validate(json.loads(render(report, ReportFormat.SARIF)), SARIF_SCHEMA)


def test_sarif_maps_rules_results_and_locations() -> None:
    run = json.loads(render(seed_report(), ReportFormat.SARIF))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["compaction-lock-leak", "reply-lost"]
    assert rules[0]["defaultConfiguration"] == {"level": "error"}
    assert rules[0]["help"]["text"].startswith("Restart the gateway")
    first = run["results"][0]
    assert (first["ruleId"], first["ruleIndex"], first["level"]) == (
        "compaction-lock-leak",
        0,
        "error",
    )
    assert [loc["physicalLocation"]["region"]["startLine"] for loc in first["locations"]] == [
        1,
        16,
        23,
        42,
        43,
    ]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "journal.txt"
    assert first["partialFingerprints"] == {
        "triageFinding/v1": fingerprint(seed_report().findings[0])
    }


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_sarif_levels(severity: Severity, level: str) -> None:
    run = json.loads(render(tiny(finding(severity=severity)), ReportFormat.SARIF))["runs"][0]
    assert run["results"][0]["level"] == level


def test_sarif_fingerprint_is_stable_and_distinct() -> None:
    assert fingerprint(finding()) == fingerprint(finding(summary="other words"))
    assert fingerprint(finding()) != fingerprint(finding(session="other.service"))


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_parses_with_consistent_counts() -> None:
    root = ET.fromstring(render(seed_report(), ReportFormat.JUNIT))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert (suite.get("tests"), suite.get("failures")) == (str(len(cases)), str(len(failures)))
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("triage.compaction-lock-leak", "agent:main:discord:channel:1506258704541159484"),
        ("triage.reply-lost", "agent:main:discord:channel:1506258704541159484"),
        ("triage.compaction-stuck", "no finding"),
        ("triage.inputs", "journal.txt"),
    ]
    failure = failures[0].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "journal.txt:16  lane task error" in (failure.text or "")


def test_junit_survives_characters_xml_cannot_carry() -> None:
    f = finding(
        summary="nul \x00 bell \x07", evidence=(ev(1, "10:00:00", "esc \x1b[31m", path="j.log"),)
    )
    root = ET.fromstring(render(tiny(f), ReportFormat.JUNIT))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "nul ? bell ?"


# -- HTML -------------------------------------------------------------------------------------

PAYLOADS = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')


def hostile_report() -> Report:
    evidence = tuple(ev(i, "13:45:00", p) for i, p in enumerate(PAYLOADS, start=1))
    f = replace(
        seed_report().findings[0], evidence=evidence, summary=PAYLOADS[0], session=PAYLOADS[1]
    )
    return replace(seed_report(), findings=(f,))


def test_html_escapes_log_text_everywhere() -> None:
    html = render(hostile_report(), ReportFormat.HTML)
    for payload in PAYLOADS:
        assert payload not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    data = html.split('<script type="application/json" id="triage-data">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data and "&" not in data


def test_html_is_self_contained() -> None:
    html = render(seed_report(with_stall=True), ReportFormat.HTML)
    assert " src=" not in html
    assert "<link" not in html
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html
    urls = set(re.findall(r"https?://[^\s\"<]+", html))
    assert urls == {"https://github.com/openclaw/openclaw/issues/84193"}  # a rule reference link


def test_html_has_lanes_spans_and_markers() -> None:
    html = render(seed_report(with_stall=True), ReportFormat.HTML)
    assert html.count('<div class="lane" ') == 4
    assert html.count('class="span span-') == 3
    assert html.count('class="marker marker-') == 4  # three findings and one near miss
    assert 'class="marker marker-near"' in html


def test_html_caps_evidence_and_says_so() -> None:
    html = render(many_sessions_report(1, 40), ReportFormat.HTML)
    assert html.count('<span class="loc">') == 25
    assert "15 more evidence lines not shown" in html


# -- every format -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_renders_an_empty_report_deterministically(fmt: ReportFormat) -> None:
    first = render(empty_report(), fmt)
    assert first and first == render(empty_report(), fmt)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_is_deterministic(fmt: ReportFormat) -> None:
    assert render(seed_report(with_stall=True), fmt) == render(seed_report(with_stall=True), fmt)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_pretty_json_is_pythons_indented_json(data: object) -> None:
    # The reports hold no floats; strings are valid UTF-8 (no lone surrogates) as polars gives them.
    assert (
        pretty_json(data) == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


@given(st.text(), st.integers(min_value=2, max_value=40))
def test_one_line_flattens_breaks_and_controls(text: str, limit: int) -> None:
    flat = _CONTROL.sub("?", _BREAKS.sub(" ", text.strip()))
    assert one_line(text, limit) == (flat if len(flat) <= limit else flat[: limit - 1] + "…")
