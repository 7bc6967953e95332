"""Generate a deterministic, realistic gateway-under-systemd journal of any size, with ground truth.

    python benchmarks/generate.py --size 1GB --out /tmp/gw-1g.log --seed 1 [--format short]

The journal is hundreds of chat sessions of normal OpenClaw traffic with every catalogue incident
injected once per cycle (one cycle per ~20 MB by default), plus decoys that must not fire, plus
plain Node services under systemd[1] with their own incidents. Incidents run one after another
with at least 12 minutes between them, so windowed rules never see two at once. It writes
`<out>.truth.json`: a list of `{rule, session, first_line, last_line, incident}` records (plus
`session_id` for chat sessions). Same seed, same size, same format: same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import incidents as gi
import units as ui
from journal import Fmt, Journal, epoch
from world import Incident, World, play

START = "2026-05-19T00:00:00"
SPACING = 720.0  # seconds between incidents: longer than every rule's default window
FLUSH_LINES = 200_000

# name, script, nominal span in seconds, needs a chat session, retires the session
GATEWAY_INCIDENTS: tuple[tuple[str, Callable[..., Iterator[float]], float, bool, bool], ...] = (
    ("compaction-lock-leak", gi.compaction_lock_leak, 1800, True, False),
    ("session-takeover-fence", gi.session_takeover_fence, 40, True, False),
    ("compaction-stuck", gi.compaction_stuck, 1200, True, True),
    ("session-lock-contention", gi.session_lock_contention, 250, True, False),
    ("lane-wait-blocked", gi.lane_wait_blocked, 140, True, False),
    ("stalled-agent-run", gi.stalled_agent_run, 450, True, False),
    ("model-failover-exhausted", gi.model_failover_exhausted, 70, True, False),
    ("event-loop-starvation", gi.event_loop_starvation, 35, False, False),
    ("channel-reconnect-storm", gi.channel_reconnect_storm, 480, False, False),
    ("gateway-restart-loop", gi.gateway_restart_loop, 420, False, False),
    ("decoy-compaction-ok", gi.decoy_compaction_ok, 45, True, False),
    ("decoy-ws-close", gi.decoy_ws_close, 5, False, False),
    ("decoy-small-wait", gi.decoy_small_wait, 25, True, False),
    ("decoy-restart", gi.decoy_restart, 5, False, False),
)
# name, script, nominal span, unit base name (also its SyslogIdentifier)
UNIT_INCIDENTS: tuple[tuple[str, Callable[..., Iterator[float]], float, str], ...] = (
    ("service-restart-loop", ui.service_restart_loop, 30, "billing-sync"),
    ("exec-failure", ui.exec_failure, 30, "report-worker"),
    ("oom-kill", ui.oom_kill, 20, "image-resizer"),
    ("node-heap-oom", ui.node_heap_oom, 20, "api-server"),
    ("watchdog-timeout", ui.watchdog_timeout, 40, "queue-consumer"),
    ("start-timeout", ui.start_timeout, 95, "search-indexer"),
    ("stop-timeout", ui.stop_timeout, 95, "webhook-relay"),
)
Scheduled = tuple[float, Incident, Iterator[float]]


def parse_size(text: str) -> int:
    """`1GB`, `200MB`, `512KB` or a byte count, in powers of 1024."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)B?", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"size {text!r}: expected e.g. 1GB, 200MB, 512KB")
    scale = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[match.group(2)]
    return int(float(match.group(1)) * scale)


def cycle_schedule(w: World, cycle: int, start: float) -> tuple[list[Scheduled], float]:
    """One of every incident and decoy, in a seeded order, spaced out; returns (schedule, end)."""
    items: list[Callable[[float], tuple[Scheduled, float]]] = []
    for name, script, span, chat, retire in GATEWAY_INCIDENTS:
        items.append(_gateway_item(w, name, script, span, chat, retire))
    for name, script, span, base in UNIT_INCIDENTS:
        items.append(_unit_item(w, name, script, span, f"{base}-{cycle}", base))
    w.rng.shuffle(items)
    schedule: list[Scheduled] = []
    t = start
    for item in items:
        scheduled, span = item(t)
        schedule.append(scheduled)
        t += span + SPACING
    return schedule, t


def _gateway_item(
    w: World,
    name: str,
    script: Callable[..., Iterator[float]],
    span: float,
    chat: bool,
    retire: bool,
) -> Callable[[float], tuple[Scheduled, float]]:
    def item(at: float) -> tuple[Scheduled, float]:
        if not chat:
            inc = Incident(name)
            return (at, inc, _deferred(lambda: script(w, inc))), span
        session = w.rng.choice(w.idle_sessions())
        w.busy.add(session.key)  # reserved from now until the incident ends
        inc = Incident(name, (session,), retire)
        return (at, inc, _deferred(lambda: script(w, inc, session))), span

    return item


def _unit_item(
    w: World, name: str, script: Callable[..., Iterator[float]], span: float, unit: str, ident: str
) -> Callable[[float], tuple[Scheduled, float]]:
    def item(at: float) -> tuple[Scheduled, float]:
        u = ui.Unit(w.j, w.rng, unit, ident=ident)
        inc = Incident(name)
        return (at, inc, _deferred(lambda: script(u, inc))), span

    return item


def _deferred(make: Callable[[], Iterator[float]]) -> Iterator[float]:
    """Build the incident's generator only when it starts (it reads the world's state then)."""
    yield 0.0
    yield from make()


def generate(
    out: TextIO, size: int, seed: int, fmt: Fmt, sessions: int, per_cycle: int
) -> list[dict[str, object]]:
    """Write about `size` bytes of journal to `out`; return the ground truth."""
    rng = random.Random(seed)
    j = Journal(fmt, "casper", epoch(START) + 0.077)
    w = World(rng, j, sessions=sessions, user="casper")
    j.line("systemd[986]", "Starting openclaw-gateway.service - OpenClaw Gateway...")
    j.line("systemd[986]", "Started openclaw-gateway.service - OpenClaw Gateway.")
    w.startup()
    cycles = max(1, round(size / per_cycle))
    w.pace = 0.15
    gap, turn_time, calls = 1.0, 0.8, [0]
    truth: list[dict[str, object]] = []

    def filler(due: float) -> None:
        calls[0] += 1
        w.normal(gap, due)
        if len(j.lines) >= FLUSH_LINES:
            out.write(j.drain())

    for cycle in range(cycles):
        before, t0, calls[0] = j.nbytes, j.t, 0
        schedule, end = cycle_schedule(w, cycle, j.t + 60)
        turns = max(1.0, (size * (cycle + 1) // cycles - before) / 2050)
        gap = max(0.02, (end - t0) / turns - turn_time)
        truth += play(j, schedule, end, filler, w)
        turn_time = max(0.0, (j.t - t0) / max(1, calls[0]) - gap)
    while j.nbytes < size:
        filler(float("inf"))
    out.write(j.drain())
    return sorted(truth, key=lambda t: (t["first_line"], t["rule"]))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("20MB"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=[f.value for f in Fmt], default=Fmt.SHORT_ISO.value)
    parser.add_argument("--sessions", type=int, default=300, help="chat sessions (default 300)")
    parser.add_argument(
        "--cycle", type=parse_size, default=parse_size("20MB"), help="bytes per incident cycle"
    )
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8", newline="\n", buffering=1 << 22) as handle:
        truth = generate(handle, args.size, args.seed, Fmt(args.format), args.sessions, args.cycle)
    truth_path = args.out.with_name(args.out.name + ".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {truth_path} ({len(truth)} incidents)", file=sys.stderr)


if __name__ == "__main__":
    main()
