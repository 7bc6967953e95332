"""Scripted systemd / Node.js service incidents (LOG-FORMATS §1.9 and Part 3 §3.2).

A `Unit` is a plain Node service (`myapp.service` with `node[pid]` lines, or a custom
`SyslogIdentifier=`) managed by `systemd[1]`; each incident is a generator of waits like the
gateway incidents in `incidents.py`, and writes its lines through the shared `Journal`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from journal import Journal
from world import Incident

ROUTES = ("/api/orders", "/api/users/me", "/healthz", "/api/items?page=2", "/api/cart", "/login")


class Unit:
    """One Node service: unit name, description, journal ident and current main pid."""

    def __init__(self, j: Journal, rng: random.Random, name: str, ident: str = "node") -> None:
        self.j = j
        self.rng = rng
        self.unit = f"{name}.service"
        self.name = name
        self.desc = f"{name.replace('-', ' ').title()} (Node.js)"
        self.ident = ident
        self.pid = rng.randrange(1000, 60000)
        self.alive = True

    def tick(self, lo: float = 0.001, hi: float = 0.05) -> None:
        """Advance the clock by a small random step."""
        self.j.t += self.rng.uniform(lo, hi)

    def app(self, msg: str) -> int:
        """A line the Node process wrote to stdout or stderr."""
        return self.j.line(f"{self.ident}[{self.pid}]", msg)

    def sd(self, msg: str, unit: bool = True) -> int:
        """A line from PID 1 about this unit (`<u>: msg`), or a plain one."""
        return self.j.line("systemd[1]", f"{self.unit}: {msg}" if unit else msg)

    def kernel(self, msg: str) -> int:
        """A kernel line (no pid)."""
        return self.j.line("kernel", msg)

    def traffic(self, n: int = 3) -> None:
        """A few request log lines."""
        for _ in range(n):
            route = self.rng.choice(ROUTES)
            ms, kb = self.rng.randrange(2, 90), self.rng.randrange(1, 40)
            self.app(f"info: GET {route} 200 {ms} ms - {kb}kb")
            self.tick(0.05, 2.0)

    def started(self) -> int:
        """`Started <Description>.` and the new process's first lines."""
        line = self.sd(f"Started {self.desc}.", unit=False)
        self.pid += self.rng.randrange(5, 400)
        self.alive = True
        self.tick(0.2, 0.6)
        self.app(f"info: {self.name} listening on http://0.0.0.0:{self.rng.randrange(3000, 9000)}")
        return line

    def exited(self, status: str, result: str, consumed: bool = True) -> int:
        """`Main process exited` then `Failed with result`; returns the first line."""
        self.alive = False
        first = self.sd(f"Main process exited, {status}")
        self.sd(f"Failed with result '{result}'.")
        if consumed:
            self.sd(f"Consumed {self.rng.uniform(1, 59):.3f}s CPU time.")
        return first

    def stop(self) -> None:
        """A clean `systemctl stop`."""
        self.sd(f"Stopping {self.desc}...", unit=False)
        self.app("info: SIGTERM received, closing server")
        self.tick(0.1, 0.5)
        self.sd(f"Stopped {self.desc}.", unit=False)
        self.alive = False

    def filler(self, due: float = float("inf")) -> None:
        """Background lines while nothing happens: requests if running, some cron noise."""
        if due - self.j.t < 5.0:
            self.j.t = max(self.j.t, due) + 0.001
            return
        if self.alive:
            self.traffic(1)
        if self.rng.random() < 0.08:
            pid = self.rng.randrange(1000, 99999)
            self.j.line(
                f"CRON[{pid}]", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
            )
        self.j.t = min(self.j.t + self.rng.uniform(10, 40), due + 0.001)

    def restart_once(self, counter: int = 1) -> int:
        """`Scheduled restart job` with the given counter, then Stopped and Started."""
        self.j.t += 0.1
        line = self.sd(f"Scheduled restart job, restart counter is at {counter}.")
        self.sd(f"Stopped {self.desc}.", unit=False)
        self.started()
        return line


def service_restart_loop(u: Unit, inc: Incident) -> Iterator[float]:
    """The app exits at every start; systemd gives up (`Start request repeated too quickly`)."""
    u.traffic()
    for counter in range(1, 6):
        u.app("Error: connect ECONNREFUSED 127.0.0.1:5432")
        u.app("    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)")
        inc.mark("loop", u.exited("code=exited, status=1/FAILURE", "exit-code"))
        yield 1.0
        if counter == 5:
            break
        inc.mark("loop", u.restart_once(counter))
        yield 2.0
    u.j.t += 0.1
    u.sd("Scheduled restart job, restart counter is at 5.")
    u.sd(f"Stopped {u.desc}.", unit=False)
    inc.mark("loop", u.sd("Start request repeated too quickly."))
    u.sd("Failed with result 'exit-code'.")
    inc.mark("loop", u.sd(f"Failed to start {u.desc}.", unit=False))
    inc.expect("service-restart-loop", u.unit, "loop")


def exec_failure(u: Unit, inc: Incident) -> Iterator[float]:
    """ExecStart points at a missing binary: 203/EXEC in a loop until the start limit hits."""
    u.stop()
    yield 20.0
    for counter in range(1, 6):
        u.sd(f"Started {u.desc}.", unit=False)
        child = u.rng.randrange(2000, 90000)
        u.tick()
        inc.mark(
            "exec",
            u.j.line(
                f"systemd[{child}]",
                f"{u.unit}: Failed at step EXEC spawning "
                f"/usr/local/bin/{u.name}: No such file or directory",
            ),
        )
        inc.mark("exec", u.exited("code=exited, status=203/EXEC", "exit-code", consumed=False))
        yield 0.2
        u.j.t += 0.1
        inc.mark("loop", u.sd(f"Scheduled restart job, restart counter is at {counter}."))
        u.sd(f"Stopped {u.desc}.", unit=False)
    inc.mark("loop", u.sd("Start request repeated too quickly."))
    u.sd("Failed with result 'exit-code'.")
    inc.mark("loop", u.sd(f"Failed to start {u.desc}.", unit=False))
    inc.marks["loop"].extend(inc.marks["exec"])
    inc.expect("exec-failure", u.unit, "exec")
    inc.expect("service-restart-loop", u.unit, "loop")


def oom_kill(u: Unit, inc: Incident) -> Iterator[float]:
    """The kernel OOM killer kills the node process; systemd records `oom-kill`."""
    u.traffic()
    yield 5.0
    inc.mark(
        "oom",
        u.kernel(
            f"{u.ident} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE"
            "|__GFP_COMP), order=0, oom_score_adj=0"
        ),
    )
    u.kernel(
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
        f"global_oom,task_memcg=/system.slice/{u.unit},task=node,pid={u.pid},uid=1000"
    )
    inc.mark(
        "oom",
        u.kernel(
            f"Out of memory: Killed process {u.pid} (node) total-vm:4139216kB, "
            "anon-rss:3559004kB, file-rss:0kB, shmem-rss:0kB, UID:1000 "
            "pgtables:7628kB oom_score_adj:0"
        ),
    )
    u.tick(0.01, 0.1)
    inc.mark("oom", u.sd("A process of this unit has been killed by the OOM killer."))
    inc.mark("oom", u.sd("Failed with result 'oom-kill'."))
    u.sd("Main process exited, code=killed, status=9/KILL")
    u.sd(f"Consumed 5min {u.rng.uniform(1, 59):.3f}s CPU time.")
    u.restart_once()
    inc.expect("oom-kill", u.unit, "oom")


def node_heap_oom(u: Unit, inc: Incident) -> Iterator[float]:
    """V8 runs out of heap: GC trace, FATAL ERROR, native stack, SIGABRT, one restart."""
    u.traffic()
    yield 3.0
    inc.mark("heap", u.app("<--- Last few GCs --->"))
    u.app(
        "[4242:0x5e0b2c0] 81234 ms: Mark-Compact 4045.1 (4130.4) -> 4031.9 (4133.9) MB, "
        "2103.57 / 0.00 ms  (average mu = 0.121, current mu = 0.019) allocation failure"
    )
    u.app("<--- JS stacktrace --->")
    inc.mark(
        "heap",
        u.app("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"),
    )
    for i, frame in enumerate(
        (
            "node::Abort()",
            "node::OOMErrorHandler(char const*, v8::OOMDetails const&)",
            "v8::internal::Heap::FatalProcessOutOfMemory(char const*)",
        )
    ):
        u.app(f" {i + 1}: 0x{u.rng.getrandbits(24):06x} {frame} [node]")
    u.tick(0.1, 0.4)
    inc.mark("heap", u.exited("code=killed, status=6/ABRT", "signal"))
    u.sd("Service RestartSec=100ms expired, scheduling restart.")
    u.restart_once()
    inc.expect("node-heap-oom", u.unit, "heap")


def watchdog_timeout(u: Unit, inc: Incident) -> Iterator[float]:
    """The service stops pinging the watchdog; systemd aborts it and restarts it once."""
    u.traffic()
    yield 30.0
    inc.mark("wd", u.sd("Watchdog timeout (limit 30s)!"))
    u.sd(f"Killing process {u.pid} (node) with signal SIGABRT.")
    u.tick(0.1, 0.5)
    inc.mark("wd", u.exited("code=dumped, status=6/ABRT", "watchdog"))
    u.restart_once()
    inc.expect("watchdog-timeout", u.unit, "wd")


def start_timeout(u: Unit, inc: Incident) -> Iterator[float]:
    """A `Type=notify` service never reports ready: `start operation timed out`."""
    u.sd(f"Starting {u.desc}...", unit=False)
    u.pid += u.rng.randrange(5, 400)
    u.app("info: warming cache (12000 keys)")
    yield 90.0
    inc.mark("to", u.sd("start operation timed out. Terminating."))
    u.sd("Failed with result 'timeout'.")
    inc.mark("to", u.sd(f"Failed to start {u.desc}.", unit=False))
    inc.expect("start-stop-timeout", u.unit, "to")


def stop_timeout(u: Unit, inc: Incident) -> Iterator[float]:
    """The process ignores SIGTERM: `State 'stop-sigterm' timed out. Killing.`"""
    u.traffic()
    u.sd(f"Stopping {u.desc}...", unit=False)
    u.app("info: SIGTERM received, draining connections")
    u.alive = False
    yield 90.0
    inc.mark("to", u.sd("State 'stop-sigterm' timed out. Killing."))
    u.sd(f"Killing process {u.pid} (node) with signal SIGKILL.")
    inc.mark("to", u.sd("Main process exited, code=killed, status=9/KILL"))
    u.sd("Failed with result 'timeout'.")
    u.sd(f"Stopped {u.desc}.", unit=False)
    inc.expect("start-stop-timeout", u.unit, "to")
