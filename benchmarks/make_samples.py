"""Build `samples/<rule-id>/journal.txt` and `README.md` for every catalogue rule (and `healthy`).

Run: `python benchmarks/make_samples.py [--out samples]`. Deterministic: the same code writes the
same bytes. Each README is generated from the same ground truth the generator records, so the
line numbers it quotes are exact.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import incidents as gi
import units as ui
from journal import Fmt, Journal, epoch
from world import Incident, Session, World, play

SEED_SESSION = Session(
    key="agent:main:discord:channel:1506258704541159484",
    sid="49e71c56-dcbc-40ab-be04-4a92fd2230be",
    channel="discord",
    peer="1506258704541159484",
)
START = "2026-05-19T13:20:00"

GatewayScript = Callable[[World, Incident, Session], Iterator[float]]
Schedule = list[tuple[float, Incident, Iterator[float]]]


@dataclass(frozen=True)
class Sample:
    """One sample folder: its story for the README, and how to build it."""

    name: str
    story: str
    silent: str
    build: Callable[[Journal, random.Random], tuple[list[dict[str, object]], str]]


def gateway_world(j: Journal, rng: random.Random) -> World:
    """A gateway with six sessions (the first is the seed report's Discord channel), started."""
    w = World(rng, j, sessions=5, user="casper")
    w.sessions.insert(0, SEED_SESSION)
    j.line("systemd[986]", "Starting openclaw-gateway.service - OpenClaw Gateway...")
    j.line("systemd[986]", "Started openclaw-gateway.service - OpenClaw Gateway.")
    w.tick(0.3, 0.6)
    w.startup()
    return w


def gateway_sample(
    plan: Callable[[World], list[tuple[float, Incident, Iterator[float]]]],
    minutes: float,
    gap: float = 45.0,
) -> Callable[[Journal, random.Random], tuple[list[dict[str, object]], str]]:
    """A builder: start a gateway, run `plan`'s incidents among normal traffic for `minutes`."""

    def build(j: Journal, rng: random.Random) -> tuple[list[dict[str, object]], str]:
        w = gateway_world(j, rng)
        schedule = plan(w)
        truth = play(j, schedule, j.t + minutes * 60, lambda due: w.normal(gap, due), w)
        return truth, "an OpenClaw gateway as a systemd user service"

    return build


def at(
    w: World,
    minutes: float,
    name: str,
    script: Callable[..., Iterator[float]],
    session: Session | None = None,
    retire: bool = False,
) -> tuple[float, Incident, Iterator[float]]:
    """Schedule `script` `minutes` after now, for `session` (or gateway-wide)."""
    inc = Incident(name, (session,) if session else (), retire)
    gen = script(w, inc, session) if session else script(w, inc)
    return (w.j.t + minutes * 60, inc, gen)


def unit_sample(
    scripts: list[Callable[[ui.Unit, Incident], Iterator[float]]], minutes: float
) -> Callable[[Journal, random.Random], tuple[list[dict[str, object]], str]]:
    """A builder: `myapp.service` (`node[pid]`) under systemd[1], with the given incidents."""

    def build(j: Journal, rng: random.Random) -> tuple[list[dict[str, object]], str]:
        u = ui.Unit(j, rng, "myapp")
        j.line("systemd[1]", f"Starting {u.desc}...")
        u.started()
        schedule: Schedule = []
        for i, script in enumerate(scripts):
            inc = Incident(script.__name__)
            schedule.append((j.t + (4 + 8 * i) * 60, inc, script(u, inc)))

        truth = play(j, schedule, j.t + minutes * 60, u.filler)
        return truth, f"a plain Node service, {u.unit}"

    return build


def _lock_leak_plan(w: World) -> Schedule:
    return [
        at(w, 2, "decoy-compaction", gi.decoy_compaction_ok, w.sessions[3]),
        at(w, 6, "compaction-lock-leak", gi.compaction_lock_leak, SEED_SESSION),
    ]


def _healthy_plan(w: World) -> Schedule:
    return [
        at(w, 3, "decoy-compaction", gi.decoy_compaction_ok, w.sessions[1]),
        at(w, 8, "decoy-ws-close", gi.decoy_ws_close),
        at(w, 12, "decoy-small-wait", gi.decoy_small_wait, w.sessions[2]),
        at(w, 20, "decoy-restart", gi.decoy_restart),
    ]


def one(
    script: Callable[..., Iterator[float]],
    name: str,
    session_index: int | None = 0,
    retire: bool = False,
) -> Callable[[World], Schedule]:
    """A plan with a single incident five minutes in (on session `session_index`, if any)."""

    def plan(w: World) -> Schedule:
        session = w.sessions[session_index] if session_index is not None else None
        return [at(w, 5, name, script, session, retire)]

    return plan


SAMPLES = (
    Sample(
        "compaction-lock-leak",
        "Six chat sessions with normal traffic. In the Discord channel session "
        f"`{SEED_SESSION.key}` a post-run auto-compaction starts, overruns its timeout "
        "(`embedded run timeout reached during compaction; extending deadline`), and the lane task "
        "times out (`CommandLaneTaskTimeoutError`). The compaction keeps the session write lock: "
        "three later user turns each fail with the `lane task error` pair (`lane=main` and "
        "`lane=session:<key>`, `SessionWriteLockTimeoutError`, owner = the gateway's own live pid) "
        "and `Embedded agent failed before reply`. Other sessions keep working. A gateway restart "
        "(new pid, `removed stale session lock`) clears it, and the channel works again. Earlier, "
        "another session has a compaction that completes normally (decoy).",
        "session-lock-contention (the lock failures are explained by the compaction), "
        "compaction-stuck (lock errors are visible), gateway-restart-loop (one restart).",
        gateway_sample(_lock_leak_plan, 48, gap=64.0),
    ),
    Sample(
        "healthy",
        "Normal traffic of six sessions with decoys: a compaction that starts and completes, one "
        "Discord websocket close that resumes, a lane wait of 2.4 s (under the 10 s threshold), a "
        "liveness warning with eventLoopDelayMaxMs=412.5 (under 1000 ms), and one clean planned "
        "restart.",
        "every rule: no finding at all.",
        gateway_sample(_healthy_plan, 34, gap=40.0),
    ),
    Sample(
        "session-lock-contention",
        "A long turn (a `bash` tool call) holds the session write lock while two cron turns on "
        "the same session time out waiting for it (`SessionWriteLockTimeoutError`, pair on "
        "`lane=session:<key>` and `lane=cron`). No compaction is involved; the long turn then "
        "finishes normally.",
        "compaction-lock-leak (no compaction).",
        gateway_sample(one(gi.session_lock_contention, "session-lock-contention"), 20),
    ),
    Sample(
        "session-takeover-fence",
        "An auto-compaction starts on a session and, two seconds later, a new user turn on the "
        "same session fails with `EmbeddedAttemptSessionTakeoverError` on both lanes and "
        "`Embedded agent failed before reply`. The compaction then completes.",
        "compaction-stuck (the compaction completes), compaction-lock-leak.",
        gateway_sample(one(gi.session_takeover_fence, "session-takeover-fence"), 20),
    ),
    Sample(
        "compaction-stuck",
        "An auto-compaction starts, is extended past its timeout, and never completes. No lock "
        "error is logged (the session gets no further turns).",
        "compaction-lock-leak (no lock errors).",
        gateway_sample(one(gi.compaction_stuck, "compaction-stuck", 0, retire=True), 35),
    ),
    Sample(
        "event-loop-starvation",
        "The gateway's event loop stalls: two `liveness warning` lines with eventLoopDelayMaxMs "
        "3068.1 and 8012.4, a `fetch timeout … likely event-loop starvation`, and inside the "
        "stall a Discord READY wait timeout and a reconnect, which then resumes.",
        "channel-reconnect-storm (one reconnect, resumed).",
        gateway_sample(one(gi.event_loop_starvation, "event-loop-starvation", None), 20),
    ),
    Sample(
        "channel-reconnect-storm",
        "Discord's gateway websocket closes four times in about six minutes "
        "(`Gateway websocket closed`, `Gateway reconnect scheduled`, then a resume each time).",
        "event-loop-starvation (no liveness evidence).",
        gateway_sample(one(gi.channel_reconnect_storm, "channel-reconnect-storm", None), 20),
    ),
    Sample(
        "gateway-restart-loop",
        "The gateway is stopped and started three times in about five minutes "
        "(`signal SIGTERM received`, `received SIGTERM; shutting down`, systemd Stopping / "
        "Stopped / Started, new node pid, `http server listening`, `ready`).",
        "service-restart-loop (no `Main process exited` lines).",
        gateway_sample(one(gi.gateway_restart_loop, "gateway-restart-loop", None), 20),
    ),
    Sample(
        "lane-wait-blocked",
        "A long turn on a session (a `bash` tool call) blocks two later turns of the same "
        "session: `lane wait exceeded` with `queueAhead=0` and waitedMs 24273 and 41052, and no "
        "`lane task error` on that lane.",
        "session-lock-contention (no lock error).",
        gateway_sample(one(gi.lane_wait_blocked, "lane-wait-blocked"), 20),
    ),
    Sample(
        "stalled-agent-run",
        "A run's model call makes no progress: three `stalled session` diagnostics "
        "(`classification=stalled_agent_run`, age 193 s, 313 s, 433 s), then stuck-session "
        "recovery aborts the run.",
        "event-loop-starvation (no liveness warning).",
        gateway_sample(one(gi.stalled_agent_run, "stalled-agent-run"), 20),
    ),
    Sample(
        "model-failover-exhausted",
        "Every model provider is rate limited: the turn ends in `lane task error … FailoverError` "
        "on both lanes and `Embedded agent failed before reply: All models failed (2): …`.",
        "session-lock-contention.",
        gateway_sample(one(gi.model_failover_exhausted, "model-failover-exhausted"), 20),
    ),
    Sample(
        "reply-lost",
        "Rides on a failover: the user's turn ends in `Embedded agent failed before reply: All "
        "models failed …`, so the user gets no answer. `reply-lost` fires, linked to "
        "`model-failover-exhausted` in the same session.",
        "session-lock-contention.",
        gateway_sample(one(gi.model_failover_exhausted, "reply-lost", 2), 20),
    ),
    Sample(
        "service-restart-loop",
        "`myapp.service` (a plain Node service, `node[pid]`) cannot reach its database and exits "
        "at every start: `Main process exited, code=exited, status=1/FAILURE`, restart counter "
        "1 to 5, then `Start request repeated too quickly` and `Failed to start`.",
        "exec-failure (the binary exists).",
        unit_sample([ui.service_restart_loop], 20),
    ),
    Sample(
        "oom-kill",
        "The kernel OOM killer kills `myapp.service`'s node process (`invoked oom-killer`, "
        "`Out of memory: Killed process`), systemd records `Failed with result 'oom-kill'` and "
        "restarts it once.",
        "node-heap-oom (no V8 FATAL ERROR), service-restart-loop (one restart).",
        unit_sample([ui.oom_kill], 20),
    ),
    Sample(
        "node-heap-oom",
        "V8 runs out of heap in `myapp.service`: GC trace, `FATAL ERROR: Reached heap limit "
        "Allocation failed - JavaScript heap out of memory`, native stack, then "
        "`code=killed, status=6/ABRT` and one restart.",
        "oom-kill (no kernel OOM), service-restart-loop (one restart).",
        unit_sample([ui.node_heap_oom], 20),
    ),
    Sample(
        "watchdog-timeout",
        "`myapp.service` stops pinging the systemd watchdog: `Watchdog timeout (limit 30s)!`, "
        "SIGABRT, `code=dumped, status=6/ABRT`, `Failed with result 'watchdog'`, one restart.",
        "service-restart-loop (one restart).",
        unit_sample([ui.watchdog_timeout], 20),
    ),
    Sample(
        "start-stop-timeout",
        "`myapp.service` first ignores SIGTERM on a stop (`State 'stop-sigterm' timed out. "
        "Killing.`, `status=9/KILL`), later a start never reports ready "
        "(`start operation timed out. Terminating.`). Both are `start-stop-timeout`.",
        "service-restart-loop.",
        unit_sample([ui.stop_timeout, ui.start_timeout], 25),
    ),
    Sample(
        "exec-failure",
        "`myapp.service`'s ExecStart binary is missing: `Failed at step EXEC spawning "
        "/usr/local/bin/myapp: No such file or directory`, `status=203/EXEC`, five times, then "
        "`Start request repeated too quickly`. Both `exec-failure` and `service-restart-loop` "
        "fire.",
        "oom-kill, node-heap-oom.",
        unit_sample([ui.exec_failure], 20),
    ),
)


def readme(sample: Sample, truth: list[dict[str, object]], lines: int, who: str) -> str:
    """The sample's README: the story, what must fire where, what must stay silent."""
    rows = "\n".join(
        f"| `{t['rule']}` | `{t['session']}` | {t['first_line']}–{t['last_line']} |" for t in truth
    )
    fire = f"| rule | session / unit | lines |\n|---|---|---|\n{rows}\n" if truth else "Nothing.\n"
    return (
        f"# Sample: {sample.name}\n\n"
        f"`journal.txt`: {lines} lines of `journalctl -o short` output ({who}). "
        "Synthetic, built by `python benchmarks/make_samples.py` (deterministic); "
        "`truth.json` holds the table below.\n\n"
        f"## What happens\n\n{sample.story}\n\n## Must fire\n\n{fire}\n"
        f"## Must not fire\n\n{sample.silent}\n"
    )


def build_all(out: Path) -> None:
    """Write every sample folder under `out`."""
    for index, sample in enumerate(SAMPLES):
        rng = random.Random(1000 + index)
        j = Journal(Fmt.SHORT, "casper", epoch(START) + 0.077)
        truth, who = sample.build(j, rng)
        folder = out / sample.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "journal.txt").write_text(j.drain(), encoding="utf-8")
        (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        (folder / "README.md").write_text(readme(sample, truth, j.count, who), encoding="utf-8")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "samples"
    )
    build_all(parser.parse_args().out)


if __name__ == "__main__":
    main()
