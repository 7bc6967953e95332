"""Scripted OpenClaw gateway incidents (one per catalogue rule) and the decoys that must not fire.

Each incident is a generator: it writes its lines through the `World`, yields the number of
seconds to wait (normal traffic of the other sessions fills the wait), marks the lines that the
ground truth points at, and declares which rule must fire for which session (LOG-FORMATS Part 3).
"""

from __future__ import annotations

from collections.abc import Iterator

from world import Incident, Session, World, uid

LOCK_TIMEOUT = "session file locked (timeout 60000ms)"


def _lock_error(w: World, s: Session, lanes: tuple[str, str], since: float, inc: Incident) -> None:
    """One failed turn: the `lane task error` pair on two lanes, a few ms apart (§2.8)."""
    age = int((w.j.t - since) * 1000)
    text = f"{LOCK_TIMEOUT}: pid={w.gw_pid} alive=true ageMs={age} {w.lock_path(s)}"
    duration = w.rng.randrange(60005, 61900)
    for i, lane in enumerate(lanes):
        inc.mark(
            "lock",
            w.gw(
                "diagnostic",
                f"lane task error: lane={lane} durationMs={duration + 5 * i} "
                f'error="SessionWriteLockTimeoutError: {text}"',
            ),
        )
        w.tick(0.002, 0.008)


def _failed_reply(w: World, inc: Incident, message: str) -> None:
    """`Embedded agent failed before reply` (no subsystem tag, §2.9.4)."""
    inc.mark("reply", w.gw(None, f"Embedded agent failed before reply: {message}"))


def compaction_lock_leak(w: World, inc: Incident, s: Session, turns: int = 3) -> Iterator[float]:
    """Post-run auto-compaction overruns, keeps the lock, later turns fail until a restart."""
    inc.session_ids[s.key] = s.sid
    w.inbound(s)
    w.tick()
    started = w.j.t
    run = uid(w.rng)
    w.run_start(s, run)
    w.fetch(run)
    w.outbound(s)
    w.tick(0.2, 1.0)
    inc.mark(
        "start",
        w.gw(
            "agent/embedded",
            f"embedded run auto-compaction start: runId={run} sessionId={s.sid} reason=threshold",
        ),
    )
    yield 600.0
    inc.mark(
        "start",
        w.gw(
            "agent/embedded",
            "embedded run timeout reached during compaction; "
            f"extending deadline: runId={run} sessionId={s.sid} extraMs=900000",
        ),
    )
    yield max(1.0, started + 930.0 - w.j.t)
    inc.mark(
        "start",
        w.gw_bare('CommandLaneTaskTimeoutError: Command lane "main" task timed out after 930000ms'),
    )
    for i in range(turns):
        yield 40.0 + 130.0 * i
        w.inbound(s)
        yield 60.0 + w.rng.uniform(0.5, 1.6)
        _lock_error(w, s, ("main", f"session:{s.key}"), started, inc)
        _failed_reply(
            w,
            inc,
            f"{LOCK_TIMEOUT}: pid={w.gw_pid} alive=true "
            f"ageMs={int((w.j.t - started) * 1000)} {w.lock_path(s)}",
        )
    yield 200.0
    w.restart(stale_locks=(w.lock_path(s),))
    yield 45.0
    inc.mark("after", w.turn(s))
    inc.expect("compaction-lock-leak", s.key, "start", "reply")
    inc.expect("reply-lost", s.key, "reply")


def session_takeover_fence(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """An auto-compaction rewrites the transcript under a running turn: the fence error."""
    inc.session_ids[s.key] = s.sid
    w.turn(s)
    w.tick(0.2, 0.8)
    run = uid(w.rng)
    inc.mark(
        "start",
        w.gw(
            "agent/embedded",
            f"embedded run auto-compaction start: runId={run} sessionId={s.sid} reason=threshold",
        ),
    )
    yield 2.0
    w.inbound(s)
    started = w.j.t
    run2 = uid(w.rng)
    w.run_start(s, run2)
    w.fetch(run2)
    w.j.t += 14.0
    path = w.lock_path(s).removesuffix(".lock")
    ms = int((w.j.t - started) * 1000)
    for i, lane in enumerate((f"session:{s.key}", "main")):
        inc.mark(
            "fence",
            w.gw(
                "diagnostic",
                f"lane task error: lane={lane} durationMs={ms + 4 * i} "
                'error="EmbeddedAttemptSessionTakeoverError: session file changed '
                f'while embedded prompt lock was released: {path}"',
            ),
        )
        w.tick(0.002, 0.006)
    _failed_reply(w, inc, "session file changed while embedded prompt lock was released")
    yield 20.0
    w.gw(
        "agent/embedded",
        f"embedded run auto-compaction complete: runId={run} sessionId={s.sid} "
        "reason=threshold durationMs=37511",
    )
    inc.expect("session-takeover-fence", s.key, "start", "fence")
    inc.expect("reply-lost", s.key, "reply")


def compaction_stuck(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """A compaction starts, is extended past its timeout, and never completes; no lock errors."""
    inc.session_ids[s.key] = s.sid
    w.turn(s)
    w.tick(0.2, 0.8)
    run = uid(w.rng)
    inc.mark(
        "start",
        w.gw(
            "agent/embedded",
            f"embedded run auto-compaction start: runId={run} sessionId={s.sid} reason=threshold",
        ),
    )
    yield 180.0
    inc.mark(
        "start",
        w.gw(
            "agent/embedded",
            "embedded run timeout reached during compaction; "
            f"extending deadline: runId={run} sessionId={s.sid} extraMs=900000",
        ),
    )
    yield 1000.0
    inc.expect("compaction-stuck", s.key, "start")


def session_lock_contention(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """A long turn holds the lock while a cron turn on the same session times out waiting."""
    inc.session_ids[s.key] = s.sid
    w.inbound(s)
    started = w.j.t
    run = uid(w.rng)
    inc.mark("start", w.run_start(s, run))
    w.fetch(run)
    call = f"call_{w.rng.getrandbits(64):016x}"
    w.gw("agent/embedded", f"embedded run tool start: runId={run} tool=bash toolCallId={call}")
    yield 5.0
    w.gw("cron", f"job started: jobId={uid(w.rng)} sessionKey={s.key}")
    yield 60.5
    _lock_error(w, s, (f"session:{s.key}", "cron"), started, inc)
    yield 90.0
    w.gw("cron", f"job started: jobId={uid(w.rng)} sessionKey={s.key}")
    yield 60.5
    _lock_error(w, s, (f"session:{s.key}", "cron"), started, inc)
    yield 30.0
    w.gw(
        "agent/embedded",
        f"embedded run tool end: runId={run} tool=bash toolCallId={call} "
        f"durationMs={int((w.j.t - started) * 1000) - 3000} isError=false",
    )
    w.fetch(run)
    w.run_end(s, run, started)
    w.outbound(s)
    w.lanes_done(s, started)
    inc.expect("session-lock-contention", s.key, "lock")


def lane_wait_blocked(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """Turns on a session lane wait behind a long active turn (queueAhead=0, large waitedMs)."""
    inc.session_ids[s.key] = s.sid
    w.inbound(s)
    started = w.j.t
    run = uid(w.rng)
    w.run_start(s, run)
    w.fetch(run)
    w.gw(
        "agent/embedded",
        f"embedded run tool start: runId={run} tool=bash toolCallId=call_{run[:8]}",
    )
    yield 20.0
    w.inbound(s)
    yield 24.3
    inc.mark(
        "wait",
        w.gw(
            "diagnostic",
            f"lane wait exceeded: lane=session:{s.key} waitedMs=24273 "
            "queueAhead=0 activeAhead=1 activeNow=1 queueBehind=0",
        ),
    )
    yield 30.0
    w.inbound(s)
    yield 41.0
    inc.mark(
        "wait",
        w.gw(
            "diagnostic",
            f"lane wait exceeded: lane=session:{s.key} waitedMs=41052 "
            "queueAhead=0 activeAhead=1 activeNow=1 queueBehind=1",
        ),
    )
    yield 10.0
    w.gw(
        "agent/embedded",
        f"embedded run tool end: runId={run} tool=bash toolCallId=call_{run[:8]} "
        f"durationMs={int((w.j.t - started) * 1000) - 2500} isError=false",
    )
    w.run_end(s, run, started)
    w.outbound(s)
    w.lanes_done(s, started)
    yield 2.0
    w.turn(s)
    inc.expect("lane-wait-blocked", s.key, "wait")


def stalled_agent_run(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """A run makes no progress; `stalled session` diagnostics with growing age, then recovery."""
    inc.session_ids[s.key] = s.sid
    w.inbound(s)
    started = w.j.t
    run = uid(w.rng)
    w.run_start(s, run)
    w.gw("provider-transport-fetch", f"model-fetch start: provider=anthropic runId={run}")
    for age in (193, 313, 433):
        yield max(1.0, started + age - w.j.t)
        inc.mark(
            "stall",
            w.gw(
                "diagnostic",
                f"stalled session: sessionId={s.sid} sessionKey={s.key} "
                f"state=processing age={age}s queueDepth=1 "
                "reason=active_work_without_progress classification=stalled_agent_run "
                "activeWorkKind=model_call lastProgress=model_call:started "
                f"lastProgressAge={age - 14}s recovery=none",
            ),
        )
    yield 5.0
    w.gw(
        "diagnostic", "stuck session recovery: action=abort_embedded_run aborted=true drained=true"
    )
    w.run_end(s, run, started, aborted=True)
    inc.expect("stalled-agent-run", s.key, "stall")


def model_failover_exhausted(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """Every model is rate limited: the turn ends in FailoverError and the user gets nothing."""
    inc.session_ids[s.key] = s.sid
    w.inbound(s)
    started = w.j.t
    run = uid(w.rng)
    w.run_start(s, run)
    w.gw("provider-transport-fetch", f"model-fetch start: provider=anthropic runId={run}")
    yield 65.0
    ms = int((w.j.t - started) * 1000)
    for i, lane in enumerate(("main", f"session:{s.key}")):
        inc.mark(
            "fail",
            w.gw(
                "diagnostic",
                f"lane task error: lane={lane} durationMs={ms + 4 * i} "
                'error="FailoverError: ⚠️ API rate limit reached. Please try again later."',
            ),
        )
        w.tick(0.002, 0.006)
    _failed_reply(
        w,
        inc,
        "All models failed (2): anthropic/claude-opus-4-8: Provider anthropic is in "
        "cooldown (all profiles unavailable) (rate_limit) | openai/gpt-5.2: Provider openai "
        "is in cooldown (all profiles unavailable) (rate_limit)",
    )
    inc.mark("fail", inc.marks["reply"][-1])
    inc.expect("model-failover-exhausted", s.key, "fail")
    inc.expect("reply-lost", s.key, "reply")


def event_loop_starvation(w: World, inc: Incident) -> Iterator[float]:
    """The event loop stalls for seconds; a fetch times out and Discord reconnects (and resumes)."""
    session = f"gateway:{w.gw_pid}"
    inc.mark(
        "live",
        w.gw(
            "diagnostic",
            "liveness warning: reasons=event_loop_delay interval=30s "
            "eventLoopDelayP99Ms=2239.8 eventLoopDelayMaxMs=3068.1 "
            "eventLoopUtilization=0.789 cpuCoreRatio=0.897 active=1 waiting=0 queued=1",
        ),
    )
    yield 4.0
    inc.mark(
        "live",
        w.gw(
            "fetch-timeout",
            "fetch timeout after 2500ms (elapsed 4790ms) timer delayed "
            "2290ms, likely event-loop starvation url=https://discord.com/api/v10/users/@me",
        ),
    )
    yield 10.0
    w.gw(
        "discord",
        "gateway READY wait timed out after 15000ms; reconnecting with backoff (attempt 1)",
    )
    w.gw("discord", "gateway: Gateway reconnect scheduled in 1131ms (close, resume=true)")
    yield 16.0
    inc.mark(
        "live",
        w.gw(
            "diagnostic",
            "liveness warning: reasons=event_loop_delay,cpu interval=30s "
            "eventLoopDelayP99Ms=6866.1 eventLoopDelayMaxMs=8012.4 "
            "eventLoopUtilization=0.996 cpuCoreRatio=0.981 active=2 waiting=1 queued=2",
        ),
    )
    yield 2.0
    w.gw("discord", f"gateway: Gateway resumed (seq={w.rng.randrange(1000, 99999)})")
    inc.expect("event-loop-starvation", session, "live")


def channel_reconnect_storm(w: World, inc: Incident) -> Iterator[float]:
    """Discord's websocket closes and reconnects four times in a few minutes."""
    for i in range(4):
        if i == 0:
            w.gw("discord", "discord gateway error: Error: Gateway heartbeat ACK timeout")
        inc.mark(
            "ws", w.gw("discord", f"gateway: Gateway websocket closed: {1006 if i % 2 else 1000}")
        )
        delay = w.rng.randrange(900, 4000)
        inc.mark(
            "ws",
            w.gw(
                "discord", f"gateway: Gateway reconnect scheduled in {delay}ms (close, resume=true)"
            ),
        )
        yield delay / 1000 + 0.4
        w.gw("discord", f"gateway: Gateway resumed (seq={w.rng.randrange(1000, 99999)})")
        yield 70.0 + w.rng.uniform(0, 40)
    inc.expect("channel-reconnect-storm", "channel:discord", "ws")


def gateway_restart_loop(w: World, inc: Incident) -> Iterator[float]:
    """Three stop/start cycles of the gateway within about five minutes."""
    session = f"gateway:{w.gw_pid}"
    for _ in range(3):
        first, ready = w.restart()
        inc.mark("restart", first)
        inc.mark("restart", ready)
        yield 100.0 + w.rng.uniform(0, 40)
    inc.expect("gateway-restart-loop", session, "restart")


# -- decoys: look like incidents, must not fire --------------------------------------------
def decoy_compaction_ok(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """A compaction that starts and completes."""
    w.turn(s)
    run = uid(w.rng)
    w.gw(
        "agent/embedded",
        f"embedded run auto-compaction start: runId={run} sessionId={s.sid} reason=threshold",
    )
    yield 42.0
    w.gw(
        "agent/embedded",
        f"embedded run auto-compaction complete: runId={run} sessionId={s.sid} "
        "reason=threshold durationMs=41876",
    )


def decoy_ws_close(w: World, inc: Incident) -> Iterator[float]:
    """A single websocket close that resumes."""
    w.gw("discord", "gateway: Gateway websocket closed: 1000")
    w.gw("discord", "gateway: Gateway reconnect scheduled in 1131ms (close, resume=true)")
    yield 1.6
    w.gw("discord", f"gateway: Gateway resumed (seq={w.rng.randrange(1000, 99999)})")


def decoy_small_wait(w: World, inc: Incident, s: Session) -> Iterator[float]:
    """A lane wait below the 10 s threshold, and a liveness warning below 1000 ms."""
    w.gw(
        "diagnostic",
        f"lane wait exceeded: lane=session:{s.key} waitedMs=2412 queueAhead=0 "
        "activeAhead=1 activeNow=1 queueBehind=0",
    )
    w.turn(s)
    yield 20.0
    w.gw(
        "diagnostic",
        "liveness warning: reasons=event_loop_delay interval=30s "
        "eventLoopDelayP99Ms=35.3 eventLoopDelayMaxMs=412.5 eventLoopUtilization=0.096 "
        "cpuCoreRatio=0.093",
    )


def decoy_restart(w: World, inc: Incident) -> Iterator[float]:
    """One clean planned restart."""
    w.restart()
    yield 1.0
