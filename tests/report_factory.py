"""Realistic `Report` objects for reporter tests (the seed case, a gateway stall, an empty run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.findings import (
    Evidence,
    Explain,
    Finding,
    InputSummary,
    NearMiss,
    Report,
    SessionSummary,
    Severity,
    Span,
)

GENERATED_AT = datetime(2026, 5, 20, 8, 0, 0, tzinfo=UTC)
SEED_KEY = "agent:main:discord:channel:1506258704541159484"
SEED_ID = "49e71c56-dcbc-40ab-be04-4a92fd2230be"
LOCK = f"/home/casper/.openclaw/agents/main/sessions/{SEED_ID}.jsonl.lock"
LOG = "journal.txt"


def at(hms: str, day: int = 19) -> datetime:
    """A UTC time on 2026-05-<day> from `HH:MM:SS[.fff]`."""
    return datetime.fromisoformat(f"2026-05-{day:02d}T{hms}+00:00")


def ev(line: int, hms: str, text: str, step: str = "", path: str = LOG) -> Evidence:
    return Evidence(path=path, line=line, ts=at(hms), text=text, step=step)


LOCK_LEAK_EXPLAIN = Explain(
    cause="A compaction timed out while holding the session write lock; the live gateway "
    "keeps the lock, so every later turn of the session waits 60 s and fails.",
    impact="The bot stops answering in this session until the gateway restarts.",
    workaround="Restart the gateway (`systemctl --user restart openclaw-gateway`).",
    references=("https://github.com/openclaw/openclaw/issues/84193",),
)

REPLY_LOST_EXPLAIN = Explain(
    cause="The turn failed before a reply was sent.",
    impact="The user's message got no answer.",
    workaround="Fix the cause linked to this finding, then ask the user to resend.",
)


def lock_leak() -> Finding:
    """The seed bug: compaction lock leak with three failed turns."""
    lock_error = (
        'lane task error: lane=main durationMs=61155\nerror="SessionWriteLockTimeoutError: '
        f'session file locked (timeout 60000ms):\npid=963591 {LOCK}"'
    )
    return Finding(
        rule="compaction-lock-leak",
        severity=Severity.CRITICAL,
        title="Compaction left the session write lock held",
        session=SEED_KEY,
        first=at("13:43:45.077"),
        last=at("13:54:04"),
        count=3,
        summary="Compaction timed out at 13:43:45 and kept the lock; 3 turns failed over "
        "10m19s; no restart cleared it.",
        evidence=(
            ev(
                1,
                "13:43:45.077",
                "embedded run timeout reached during compaction; extending deadline:\n"
                f"runId=7d2170b5-3733-4439-8451-cad42efa577b sessionId={SEED_ID} extraMs=900000",
                "compaction",
            ),
            ev(16, "13:45:17.707", lock_error, "lock-timeout"),
            ev(23, "13:45:17.712", lock_error.replace("lane=main", f"lane=session:{SEED_KEY}")),
            ev(42, "13:46:27", f"SessionWriteLockTimeoutError ... {SEED_ID}.jsonl.lock"),
            ev(43, "13:54:04", f"SessionWriteLockTimeoutError ... {SEED_ID}.jsonl.lock"),
        ),
        explain=LOCK_LEAK_EXPLAIN,
        details=(("held_for", "10m19s"), ("lock_path", LOCK), ("cleared_by", "none")),
    )


def reply_lost() -> Finding:
    return Finding(
        rule="reply-lost",
        severity=Severity.HIGH,
        title="Replies lost",
        session=SEED_KEY,
        first=at("13:45:17.712"),
        last=at("13:45:17.712"),
        count=1,
        summary="1 turn ended without a reply.",
        evidence=(
            ev(
                30,
                "13:45:17.712",
                "Embedded agent failed before reply:\nsession file locked (timeout 60000ms):\n"
                f"pid=963591 {LOCK}",
                "failed",
            ),
        ),
        explain=REPLY_LOST_EXPLAIN,
        caused_by="compaction-lock-leak",
    )


def stall() -> Finding:
    return Finding(
        rule="event-loop-starvation",
        severity=Severity.HIGH,
        title="Gateway event loop stalled",
        session="gateway:963591",
        first=at("14:02:10"),
        last=at("14:02:40"),
        count=2,
        summary="The event loop stalled up to 3068 ms twice; 1 Discord reconnect fell inside.",
        evidence=(
            ev(
                120,
                "14:02:10",
                "[diagnostic] liveness warning: reasons=event_loop_delay interval=30s "
                "eventLoopDelayP99Ms=2239.8 eventLoopDelayMaxMs=3068.1",
            ),
        ),
        explain=Explain(
            cause="Synchronous work blocked the Node.js event loop.",
            impact="Channels miss heartbeats and reconnect; turns stall.",
            workaround="Update OpenClaw; reduce plugins doing synchronous work.",
        ),
    )


def seed_report(*, with_stall: bool = False) -> Report:
    """The seed case as the pipeline should report it."""
    findings = (lock_leak(), reply_lost(), *((stall(),) if with_stall else ()))
    return Report(
        tool_version="0.1.0",
        generated_at=GENERATED_AT,
        inputs=(
            InputSummary(LOG, "journal-short", 43, 9, 24, 8, 2, ("year 2026 from ISO stamps",)),
        ),
        findings=findings,
        near_misses=(
            NearMiss(
                rule="compaction-stuck",
                session="agent:main:cron:nightly",
                matched_steps=1,
                total_steps=2,
                reason="broken by gateway restart at 13:58:00 (journal.txt:57)",
                first=at("13:50:00"),
            ),
        ),
        sessions=(
            SessionSummary(
                SEED_KEY,
                (SEED_ID,),
                at("13:43:45.077"),
                at("13:54:04"),
                9,
                "compaction-lock-leak",
            ),
            SessionSummary("agent:main:cron:nightly", (), at("13:50:00"), at("13:58:00"), 2, None),
        ),
        spans=(
            Span(SEED_KEY, "compaction", at("13:43:45.077"), at("13:54:04"), "compaction running"),
            Span(SEED_KEY, "lock", at("13:43:45.077"), at("13:54:04"), "lock held 10m19s"),
            Span("gateway", "down", at("13:58:00"), at("13:58:12"), "gateway down 12s"),
        ),
    )


def empty_report() -> Report:
    """A healthy log: nothing fired."""
    return Report(
        tool_version="0.1.0",
        generated_at=GENERATED_AT,
        inputs=(InputSummary("healthy.log", "gateway-console", 120, 118, 0, 2, 0),),
        findings=(),
        near_misses=(),
        sessions=(
            SessionSummary("agent:main:main", (), at("09:00:00"), at("09:30:00"), 118, None),
        ),
    )


def many_sessions_report(sessions: int, evidence: int) -> Report:
    """Many sessions with long evidence, to exercise size caps."""
    findings = []
    for s in range(sessions):
        base = lock_leak()
        lines = tuple(
            ev(100 * s + i, "13:45:17", f"lane task error {s}/{i} " + "x" * 300)
            for i in range(evidence)
        )
        findings.append(
            Finding(
                rule=base.rule,
                severity=base.severity,
                title=base.title,
                session=f"agent:main:discord:channel:{1000 + s}",
                first=base.first,
                last=(base.last or at("13:54:04")) + timedelta(seconds=s),
                count=evidence,
                summary=base.summary,
                evidence=lines,
                explain=base.explain,
            )
        )
    return Report(
        tool_version="0.1.0",
        generated_at=GENERATED_AT,
        inputs=seed_report().inputs,
        findings=tuple(findings),
        near_misses=(),
        sessions=(),
    )
