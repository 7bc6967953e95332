"""The simulated host: an OpenClaw gateway under a systemd user service, its chat sessions and
their normal traffic, gateway restarts, and the driver that interleaves incidents with traffic.

Message texts follow LOG-FORMATS.md Part 2 §2.9 (and §2.8 for keys, lanes and lock paths).
Lines the spec does not pin down (inbound messages, `embedded run start/end`, the Discord
resume) use one fixed wording each; benchmarks/README.md lists them.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from journal import Journal

GW_UNIT = "openclaw-gateway.service"
USER_MANAGER = "systemd[986]"
MODEL = "anthropic/claude-opus-4-8"
PLUGINS = (
    "acpx, browser, codex, cron, discord, feishu, memory, telegram, voice-call, webchat, whatsapp"
)


@dataclass(frozen=True)
class Session:
    """One chat session: its key (§2.8), its transcript id, its channel and peer id."""

    key: str
    sid: str
    channel: str
    peer: str


@dataclass
class Incident:
    """A scripted incident: a generator of waits (seconds) plus the truth it produces."""

    name: str
    sessions: tuple[Session, ...] = ()
    retire: bool = False
    marks: dict[str, list[int]] = field(default_factory=dict)
    truth: list[tuple[str, str, str, str]] = field(default_factory=list)
    session_ids: dict[str, str] = field(default_factory=dict)

    def mark(self, name: str, line: int) -> int:
        """Remember that line `line` belongs to the mark `name`; return the line."""
        self.marks.setdefault(name, []).append(line)
        return line

    def expect(self, rule: str, session: str, first: str, last: str | None = None) -> None:
        """Declare that `rule` must fire for `session` between the marks `first` and `last`."""
        self.truth.append((rule, session, first, last or first))

    def records(self) -> list[dict[str, object]]:
        """Ground-truth records with line numbers resolved from the marks."""
        out: list[dict[str, object]] = []
        for rule, session, first, last in self.truth:
            record: dict[str, object] = {
                "rule": rule,
                "session": session,
                "first_line": min(self.marks[first]),
                "last_line": max(self.marks[last]),
                "incident": self.name,
            }
            if session in self.session_ids:
                record["session_id"] = self.session_ids[session]
            out.append(record)
        return out


def uid(rng: random.Random) -> str:
    """A random (seeded) UUID4-shaped string."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def make_session(rng: random.Random, channel: str) -> Session:
    """A session of the given channel kind with a realistic key (LOG-FORMATS §2.8)."""
    if channel == "discord":
        peer = str(rng.randrange(10**18, 10**19))
        key = f"agent:main:discord:channel:{peer}"
    elif channel == "telegram":
        peer = str(rng.randrange(10**9, 10**10))
        key = f"agent:main:telegram:direct:{peer}"
    elif channel == "whatsapp":
        peer = f"+1{rng.randrange(2 * 10**9, 10**10)}"
        key = f"agent:main:whatsapp:direct:{peer}"
    else:
        peer = f"ou_{rng.getrandbits(96):024x}"
        key = f"agent:main:feishu:direct:{peer}"
    return Session(key, uid(rng), channel, peer)


CHANNEL_MIX = ("discord",) * 5 + ("telegram",) * 4 + ("whatsapp",) * 2 + ("feishu",)


class World:
    """Gateway state (pid, sessions, busy set) plus the line emitters that use it."""

    def __init__(self, rng: random.Random, journal: Journal, sessions: int, user: str) -> None:
        self.rng = rng
        self.j = journal
        self.user = user
        self.gw_pid = rng.randrange(20000, 990000)
        self.sessions = [make_session(rng, rng.choice(CHANNEL_MIX)) for _ in range(sessions)]
        self.busy: set[str] = set()
        self.retired: set[str] = set()
        self.next_heartbeat = journal.t + 30
        self.next_pid = self.gw_pid
        self.pace = 1.0  # scales model and tool durations: dense journals need short turns

    # -- primitives --------------------------------------------------------------------------
    def tick(self, lo: float = 0.001, hi: float = 0.05) -> None:
        """Advance the clock by a small random step."""
        self.j.t += self.rng.uniform(lo, hi)

    def gw(self, sub: str | None, msg: str) -> int:
        """A timestamped gateway console line from the current gateway process."""
        return self.j.app(f"node[{self.gw_pid}]", sub, msg)

    def gw_bare(self, msg: str) -> int:
        """A gateway line with neither time nor tag (raw stderr, LOG-FORMATS §2.2)."""
        return self.j.line(f"node[{self.gw_pid}]", msg)

    def sd(self, msg: str) -> int:
        """A line from the user manager about the gateway unit."""
        return self.j.line(USER_MANAGER, msg)

    def lock_path(self, s: Session) -> str:
        """The session's write-lock path."""
        return f"/home/{self.user}/.openclaw/agents/main/sessions/{s.sid}.jsonl.lock"

    def fresh_pid(self) -> int:
        """A new process id, always different from the previous ones."""
        self.next_pid = (self.next_pid + self.rng.randrange(300, 9000)) % 4000000 or 1000
        return self.next_pid

    # -- normal traffic ----------------------------------------------------------------------
    def inbound(self, s: Session) -> int:
        """The channel's inbound-message line for a user turn."""
        r = self.rng
        if s.channel == "discord":
            return self.gw(
                "discord",
                f"inbound message: channelId={s.peer} messageId={r.randrange(10**18, 10**19)} "
                f"chars={r.randrange(4, 900)} sessionKey={s.key}",
            )
        if s.channel == "telegram":
            return self.gw(
                "telegram",
                f"inbound message: chatId={s.peer} messageId={r.randrange(10, 99999)} "
                f"chatType=direct chars={r.randrange(4, 900)} sessionKey={s.key}",
            )
        if s.channel == "whatsapp":
            return self.gw(
                "whatsapp",
                f"Inbound message {s.peer} -> +16175550100 (direct, {r.randrange(4, 900)} chars)",
            )
        return self.gw(None, f"feishu[default]: inbound message: openId={s.peer} chatType=direct")

    def outbound(self, s: Session) -> int:
        """The channel's delivery line for the reply."""
        mid = self.rng.randrange(10, 10**6)
        if s.channel == "feishu":
            return self.gw(None, "feishu[default]: dispatch complete (queuedFinal=true, replies=1)")
        target = {"discord": "channelId", "telegram": "chatId"}.get(s.channel, "to")
        return self.gw(
            s.channel,
            f"outbound send ok accountId=default {target}={s.peer} messageId={mid} "
            "operation=sendMessage deliveryKind=text chunkCount=1",
        )

    def run_start(self, s: Session, run: str) -> int:
        """`embedded run start` for a run of the session."""
        return self.gw(
            "agent/embedded",
            f"embedded run start: runId={run} sessionId={s.sid} sessionKey={s.key} "
            f"provider=anthropic model=claude-opus-4-8 thinking=medium messageChannel={s.channel}",
        )

    def run_end(self, s: Session, run: str, started: float, aborted: bool = False) -> int:
        """`embedded run end` with the real elapsed time."""
        ms = int((self.j.t - started) * 1000)
        flag = "true" if aborted else "false"
        return self.gw(
            "agent/embedded",
            f"embedded run end: runId={run} sessionId={s.sid} durationMs={ms} aborted={flag}",
        )

    def fetch(self, run: str) -> None:
        """A model fetch start and done pair."""
        self.gw("provider-transport-fetch", f"model-fetch start: provider=anthropic runId={run}")
        t0 = self.j.t
        self.tick(0.4 * self.pace, 3.0 * self.pace)
        ms = int((self.j.t - t0) * 1000)
        self.gw(
            "provider-transport-fetch",
            f"model-fetch done: provider=anthropic status=200 durationMs={ms} runId={run}",
        )

    def lanes_done(self, s: Session, started: float) -> None:
        """`lane task done` on the session lane and on `main`, a few ms apart."""
        ms = int((self.j.t - started) * 1000)
        self.gw(
            "diagnostic", f"lane task done: lane=session:{s.key} durationMs={ms} active=0 queued=0"
        )
        self.tick(0.001, 0.006)
        self.gw("diagnostic", f"lane task done: lane=main durationMs={ms + 2} active=0 queued=0")

    def turn(self, s: Session) -> int:
        """One successful user turn; returns the line number of its inbound message."""
        r = self.rng
        first = self.inbound(s)
        self.tick(0.005, 0.05)
        started = self.j.t
        run = uid(r)
        self.run_start(s, run)
        self.tick()
        self.fetch(run)
        if r.random() < 0.4:
            call = f"call_{r.getrandbits(64):016x}"
            tool = r.choice(("bash", "read", "web_fetch", "memory_search", "edit"))
            self.gw(
                "agent/embedded",
                f"embedded run tool start: runId={run} tool={tool} toolCallId={call}",
            )
            t0 = self.j.t
            self.tick(0.05 * self.pace, 1.5 * self.pace)
            ms = int((self.j.t - t0) * 1000)
            self.gw(
                "agent/embedded",
                f"embedded run tool end: runId={run} tool={tool} toolCallId={call} "
                f"durationMs={ms} isError=false",
            )
            self.tick()
            self.fetch(run)
        self.tick()
        self.run_end(s, run, started)
        self.tick(0.005, 0.2)
        self.outbound(s)
        self.tick(0.001, 0.01)
        self.lanes_done(s, started)
        return first

    def idle_sessions(self) -> list[Session]:
        """Sessions free for normal traffic."""
        blocked = self.busy | self.retired
        return [s for s in self.sessions if s.key not in blocked]

    def normal(self, gap: float, due: float = float("inf")) -> None:
        """One unit of background traffic, then the clock moves on by about `gap` seconds.

        Never runs past `due` (the next scripted incident step) by more than a millisecond.
        """
        if due - self.j.t < 8.0:
            self.j.t = max(self.j.t, due) + 0.001
            return
        if self.j.t >= self.next_heartbeat:
            self.heartbeat()
            self.tick(0.5, 5.0)
        s = self.rng.choice(self.sessions)
        if s.key in self.busy or s.key in self.retired:
            s = self.rng.choice(self.idle_sessions() or self.sessions)
        if self.rng.random() < 0.03:
            self.ws_call()
        else:
            self.turn(s)
        self.j.t = min(self.j.t + gap * self.rng.uniform(0.5, 1.5), max(self.j.t, due) + 0.001)

    def heartbeat(self) -> None:
        """The periodic diagnostic heartbeat."""
        active = self.rng.randrange(0, 3)
        self.gw("diagnostic", f"heartbeat: webhooks=0/0/0 active={active} waiting=0 queued=0")
        self.next_heartbeat = self.j.t + self.rng.uniform(55, 65)

    def ws_call(self) -> None:
        """A Control UI websocket request."""
        conn = f"{self.rng.getrandbits(32):08x}"
        ms = self.rng.randrange(3, 900)
        self.gw("ws", f"⇄ res ✓ sessions.list {ms}ms conn={conn} id={self.rng.getrandbits(32):08x}")

    # -- lifecycle ---------------------------------------------------------------------------
    def startup(self, stale_locks: tuple[str, ...] = ()) -> tuple[int, int]:
        """The startup sequence of §2.9.6; returns the lines of `http server listening`, `ready`."""
        self.gw("gateway", "resolving authentication…")
        self.tick()
        self.gw("gateway", "starting...")
        self.gw("gateway", "starting HTTP server...")
        self.tick(0.05, 0.3)
        self.gw(
            "health-monitor",
            "started (interval: 300s, startup-grace: 60s, channel-connect-grace: 120s)",
        )
        self.gw("gateway", f"agent model: {MODEL} (thinking=medium, fast=off)")
        self.tick(0.2, 0.8)
        listening = self.gw("gateway", f"http server listening (11 plugins: {PLUGINS}; 0.9s)")
        self.gw("gateway", f"log file: /tmp/openclaw-1000/openclaw-{self.j.iso_ms()[:10]}.log")
        self.gw("gateway", "starting channels and sidecars...")
        for path in stale_locks:
            self.tick()
            self.gw("session-write-lock", f"removed stale session lock: {path} (dead-pid)")
        self.tick(0.1, 0.5)
        self.gw("discord", "[default] starting provider")
        self.gw("discord", "client initialized as 1369858211045216317; awaiting gateway readiness")
        self.gw("telegram", "[default] starting provider")
        self.tick(0.3, 1.2)
        self.gw("discord", "gateway: Gateway READY (resumed=false)")
        ready = self.gw("gateway", "ready")
        self.gw("heartbeat", "started")
        self.next_heartbeat = self.j.t + 60
        return listening, ready

    def restart(self, stale_locks: tuple[str, ...] = ()) -> tuple[int, int]:
        """A `systemctl --user restart`: SIGTERM, stop, start, new pid; returns (first, ready)."""
        first = self.gw("gateway", "signal SIGTERM received")
        self.tick()
        self.gw("gateway", "received SIGTERM; shutting down")
        self.sd(f"Stopping {GW_UNIT} - OpenClaw Gateway...")
        self.gw("admission", "closed: restart drain")
        self.gw("shutdown", "started: gateway stopping")
        self.tick(0.1, 0.3)
        self.gw("shutdown", f"completed cleanly in {self.rng.randrange(90, 400)}ms")
        self.tick(0.05, 0.2)
        self.sd(f"Stopped {GW_UNIT} - OpenClaw Gateway.")
        cpu = f"{self.rng.randrange(1, 59)}min {self.rng.uniform(0, 59):.3f}s"
        self.sd(f"{GW_UNIT}: Consumed {cpu} CPU time.")
        self.tick(0.05, 0.2)
        self.sd(f"Started {GW_UNIT} - OpenClaw Gateway.")
        self.gw_pid = self.fresh_pid()
        self.tick(0.3, 1.0)
        _, ready = self.startup(stale_locks)
        return first, ready


def play(
    j: Journal,
    schedule: list[tuple[float, Incident, Iterator[float]]],
    until: float,
    filler: Callable[[float], None],
    world: World | None = None,
) -> list[dict[str, object]]:
    """Interleave the scheduled incidents with `filler` traffic until `until`; return the truth."""
    pending = sorted(schedule, key=lambda item: item[0], reverse=True)
    active: list[tuple[float, int, Incident, Iterator[float]]] = []
    truth: list[dict[str, object]] = []
    seq = 0
    while pending or active or j.t < until:
        if pending and pending[-1][0] <= j.t:
            _, inc, gen = pending.pop()
            if world is not None:
                world.busy.update(s.key for s in inc.sessions)
            heapq.heappush(active, (j.t, seq, inc, gen))
            seq += 1
        if active and active[0][0] <= j.t:
            _, n, inc, gen = heapq.heappop(active)
            wait = next(gen, None)
            if wait is None:
                _finish(world, inc, truth)
            else:
                heapq.heappush(active, (j.t + wait, n, inc, gen))
            continue
        due = min(pending[-1][0] if pending else until, active[0][0] if active else until)
        filler(max(due, j.t) if (pending or active) else until)
    return truth


def _finish(world: World | None, inc: Incident, truth: list[dict[str, object]]) -> None:
    if world is not None:
        keys = {s.key for s in inc.sessions}
        world.busy -= keys
        if inc.retire:
            world.retired |= keys
    truth.extend(inc.records())
