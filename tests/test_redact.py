"""Redaction: each secret kind, what must survive, stable pseudonyms, and every output format."""

from __future__ import annotations

from dataclasses import replace

import pytest
from report_factory import ev, seed_report

from triage.findings import Report, SessionSummary
from triage.redact import Redactor, redact_report
from triage.reports import ReportFormat, render


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key=sk-ant-api03-AbCdEfGh12345678", "key=<token-1>"),
        ("OPENAI_API_KEY sk-proj-abcdefghijklmnop1234", "OPENAI_API_KEY <token-1>"),
        ("slack xoxb-123456789012-abcdefABCDEF", "slack <token-1>"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh <token-1>"),
        ("gh github_pat_11ABCDEFG0123456789_abcdefghij", "gh <token-1>"),
        ("Authorization: Bearer abc.DEF-123_456~xyz", "Authorization: Bearer <token-1>"),
        ("aws AKIAIOSFODNN7EXAMPLE ok", "aws <token-1> ok"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt <token-1>"),
        ("GET /x?token=abcd1234&apikey=zzzz9999", "GET /x?token=<token-1>&apikey=<token-2>"),
        ('{"botToken": "MTIzNDU2.Nzg5"}', '{"botToken": "<token-1>"}'),
        ("login password=hunter2 ok", "login password=<password-1> ok"),
        ("from Bob.Smith+x@mail.example.co.uk:", "from <email-1>:"),
        ("whatsapp:direct:+15551234567", "whatsapp:direct:<phone-1>"),
        ("call +1 617-555-0123 now", "call <phone-1> now"),
        ("/home/casper/.openclaw/x", "/home/<user-1>/.openclaw/x"),
        ("/Users/ec/.openclaw/x", "/Users/<user-1>/.openclaw/x"),
        ("C:\\Users\\bob\\AppData", "C:\\Users\\<user-1>\\AppData"),
    ],
)
def test_each_secret_kind_is_masked(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-19T13:43:45.077+00:00 [agent/embedded] done",
        "May 19 13:43:45 casper node[963591]: pid=963591 durationMs=61155",
        "sessionId=49e71c56-dcbc-40ab-be04-4a92fd2230be runId=7d2170b5-3733-4439-8451-cad42efa577b",
        "agent:main:discord:channel:1506258704541159484",
        "timer delayed +898065ms eventLoopDelayMaxMs=3068.1 maxTokens=4096",
        "__REALTIME_TIMESTAMP=1779198225077000 status=6/ABRT",
        "placeholders /home/<user>/x token=<token> /.../sessions/xxx.jsonl.lock",
        "task-sk-runner started",
    ],
)
def test_what_is_not_a_secret_survives(text: str) -> None:
    assert Redactor().text(text) == text


def test_one_value_one_pseudonym() -> None:
    r = Redactor()
    assert r.text("a@x.org b@x.org a@x.org") == "<email-1> <email-2> <email-1>"
    assert r.text("again b@x.org") == "again <email-2>"
    assert r.text("+15551234567 +15557654321") == "<phone-1> <phone-2>"


SECRETS = {
    "sk-ant-api03-AbCdEfGh12345678": "evidence",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789": "summary",
    "AKIAIOSFODNN7EXAMPLE": "details",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl": "evidence",
    "hunter2secret": "evidence",
    "alice@example.com": "summary",
    "+15551234567": "session",
    "casper": "path",
}


def planted() -> Report:
    """The seed report with each kind of secret placed in evidence, summaries and session keys."""
    base = seed_report(with_stall=True)
    key = "agent:main:whatsapp:direct:+15551234567"
    lock, reply, stall = base.findings
    lock = replace(
        lock,
        session=key,
        summary=lock.summary
        + " Token ghp_abcdefghijklmnopqrstuvwxyz0123456789 from alice@example.com.",
        details=(*lock.details, ("aws", "AKIAIOSFODNN7EXAMPLE")),
        evidence=(
            *lock.evidence,
            ev(90, "13:50:00", "auth sk-ant-api03-AbCdEfGh12345678 password=hunter2secret"),
            ev(91, "13:50:01", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
        ),
    )
    reply = replace(reply, session=key)
    sessions = (
        SessionSummary(key, ("49e71c56-dcbc-40ab-be04-4a92fd2230be",), None, None, 3, lock.rule),
    )
    return replace(base, findings=(lock, reply, stall), sessions=sessions)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_no_planted_secret_reaches_any_format(fmt: ReportFormat) -> None:
    text = render(planted(), fmt)
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == []
    assert "<phone-1>" in text or "&lt;phone-1&gt;" in text


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_redact_false_keeps_the_values(fmt: ReportFormat) -> None:
    text = render(planted(), fmt, redact=False)
    assert "+15551234567" in text
    assert "/home/casper/" in text


def test_pseudonyms_are_the_same_in_every_field() -> None:
    report = redact_report(planted())
    key = "agent:main:whatsapp:direct:<phone-1>"
    assert [f.session for f in report.findings[:2]] == [key, key]
    assert report.sessions[0].key == key
    assert all("/home/<user-1>/" in e.text for e in report.findings[1].evidence)
    assert "<user-1>" in dict(report.findings[0].details)["lock_path"]
    # numbered in visiting order: title, summary (token-1), evidence (token-2, -3), details
    assert report.findings[0].details[-1] == ("aws", "<token-4>")


def test_redaction_is_deterministic() -> None:
    assert redact_report(planted()) == redact_report(planted())
