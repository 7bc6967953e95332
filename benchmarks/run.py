"""Benchmark triage against grep, ripgrep, SEC and lnav on one journal, and score its findings.

    python benchmarks/run.py /tmp/gw-1g.log [--repeat 3] [--slow-repeat 1] [--work DIR]
    python benchmarks/run.py /tmp/gw-100m.log --scaling /tmp/gw-1g.log /tmp/gw-4g.log

Every tool runs on the same file, `--repeat` times; the best wall time counts, and peak RSS is the
child's own `ru_maxrss` from `os.wait4`. A tool that is not installed is reported as such. Then
triage's JSON findings are scored against the ground truth (`<file>.truth.json`, or `truth.json`
beside the file): recall and precision per rule. See benchmarks/README.md for the columns.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import format_scores, score

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PHRASES = BENCH / "phrases.txt"
SEC_RULES = BENCH / "sec" / "triage.sec"
REPORT_FORMATS = ("json", "terminal", "md", "html", "sarif", "junit")
SUFFIX = {
    "json": "json",
    "terminal": "txt",
    "md": "md",
    "html": "html",
    "sarif": "sarif",
    "junit": "xml",
}
LNAV_QUERY = (
    ";SELECT count(*) AS hits FROM all_logs WHERE log_body LIKE '%SessionWriteLockTimeoutError%' "
    "OR log_body LIKE '%compaction%' OR log_body LIKE '%liveness warning%' "
    "OR log_body LIKE '%Main process exited%' OR log_body LIKE '%lane wait exceeded%'"
)


@dataclass(frozen=True)
class Result:
    """One tool's measurement: best wall seconds and peak RSS, or why it did not run."""

    tool: str
    seconds: float | None = None
    rss_mb: float | None = None
    note: str = ""
    steal: float | None = None
    """CPU time the hypervisor took from this VM during the best run (seconds, both cores)."""


def steal_seconds() -> float | None:
    """CPU time stolen from this VM so far (`/proc/stat`), or None where there is none."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else None


def measure(
    argv: list[str], stdout: Path, env: dict[str, str] | None = None
) -> tuple[float, float, int, float | None]:
    """Run `argv` once: (wall seconds, peak RSS in MB, exit status, CPU steal seconds)."""
    stolen = steal_seconds()
    with stdout.open("wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    after = steal_seconds()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    steal = after - stolen if after is not None and stolen is not None else None
    return wall, usage.ru_maxrss / 1024, proc.returncode, steal


@dataclass
class Job:
    """One command to time `runs` times; keeps its best run."""

    tool: str
    argv: list[str] | None
    out: Path
    runs: int
    env: dict[str, str] | None = None
    best: Result | None = None

    def run_once(self) -> None:
        """One more run (none once it failed or is done)."""
        if self.argv is None or (self.best is not None and self.best.note):
            return
        wall, rss, code, steal = measure(self.argv, self.out, self.env)
        if code not in (0, 1):  # grep and rg exit 1 on "no match": not a failure
            self.best = Result(self.tool, wall, rss, f"failed (exit {code})", steal)
        elif self.best is None or self.best.seconds is None or wall < self.best.seconds:
            self.best = Result(self.tool, wall, rss, steal=steal)

    def result(self) -> Result:
        """The best run, or why there is none."""
        if self.argv is None:
            return Result(self.tool, note="not installed")
        return self.best or Result(self.tool, note="not run")


def run_rounds(jobs: list[Job]) -> list[Result]:
    """Run the jobs in rounds (each job once per round), so a slow spell of a shared machine
    hits every tool alike instead of all runs of one tool. A job with fewer runs takes the last
    rounds: SEC and lnav, minutes each, run once after the quick tools' rounds, which stay
    minutes apart instead of ten."""
    rounds = max((job.runs for job in jobs), default=0)
    for round_ in range(rounds):
        for job in jobs:
            if round_ >= rounds - job.runs:
                job.run_once()
    return [job.result() for job in jobs]


def bench(
    tool: str, argv: list[str] | None, out: Path, repeat: int, env: dict[str, str] | None = None
) -> Result:
    """Best of `repeat` runs, or a `not installed` / failure result."""
    return run_rounds([Job(tool, argv, out, repeat, env)])[0]


def triage_env() -> dict[str, str]:
    """The environment triage runs in: as a user's, with bytecode caching on (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every start compile triage's modules again)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def triage_argv() -> list[str]:
    """The triage command: the venv's entry point if present, else `python -m triage`."""
    exe = ROOT / ".venv" / "bin" / "triage"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "triage"]


def _installed(argv: list[str]) -> list[str] | None:
    return argv if shutil.which(argv[0]) else None


def peers(path: Path, work: Path) -> list[tuple[str, list[str] | None, dict[str, str] | None]]:
    """grep, rg, SEC and lnav command lines (None when the tool is missing)."""
    lnav_home = work / "lnav-home"  # lnav writes its config and index under $HOME
    lnav_home.mkdir(parents=True, exist_ok=True)
    lnav_env = {**os.environ, "HOME": str(lnav_home)}
    sec = ["sec", f"-conf={SEC_RULES}", f"-input={path}", "-notail", "-log=/dev/null"]
    return [
        (
            "grep -c -F -f phrases.txt",
            _installed(["grep", "-c", "-F", "-f", str(PHRASES), str(path)]),
            None,
        ),
        (
            "rg -c -F -f phrases.txt",
            _installed(["rg", "-c", "-F", "-f", str(PHRASES), str(path)]),
            None,
        ),
        ("sec (benchmarks/sec/triage.sec)", _installed(sec), None),
        ("lnav -n (SQL count)", _installed(["lnav", "-n", "-c", LNAV_QUERY, str(path)]), lnav_env),
        (PROBE, [sys.executable, str(BENCH / "polars_probe.py"), str(path)], None),
    ]


PROBE = "polars streaming probe (DESIGN.md)"
PROBE_REFERENCE = 887.0
"""MB/s DESIGN.md measured for the probe on its reference machine."""
SLOW = ("sec", "lnav")
"""Peers that take minutes on 1 GB: `--slow-repeat` runs each (their best barely moves)."""


def run_all(
    path: Path, work: Path, repeat: int, slow_repeat: int | None = None
) -> tuple[list[Result], Path]:
    """Measure every tool and every triage report format; return results and the JSON report."""
    jobs = [
        Job(name, argv, work / f"peer-{i}.out", _runs(name, repeat, slow_repeat), env)
        for i, (name, argv, env) in enumerate(peers(path, work))
    ]
    for fmt in REPORT_FORMATS:
        out = work / f"triage.{SUFFIX[fmt]}"
        argv = [*triage_argv(), "analyze", str(path), "--format", fmt, "-o", str(out)]
        jobs.append(Job(f"triage analyze --format {fmt}", argv, work / "triage.out", repeat,
                        triage_env()))  # fmt: skip
    scoring = work / "triage-noredact.json"
    argv = [*triage_argv(), "analyze", str(path), "--format", "json", "--no-redact", "-o"]
    name = "triage analyze --format json --no-redact"
    jobs.append(Job(name, [*argv, str(scoring)], work / "triage.out", 1, triage_env()))
    return run_rounds(jobs), scoring


def _runs(name: str, repeat: int, slow_repeat: int | None) -> int:
    return slow_repeat if slow_repeat is not None and name.startswith(SLOW) else repeat


TRIAGE = "triage analyze --format json"
PEER_TARGETS = (
    # (peer row, kind, factor): "within" = triage takes at most factor x the peer's time;
    # "faster" = the peer takes at least factor x triage's time.
    ("grep -c -F -f phrases.txt", "within", 3.0),
    ("rg -c -F -f phrases.txt", "within", 3.0),
    ("sec (benchmarks/sec/triage.sec)", "faster", 25.0),
    ("lnav -n (SQL count)", "faster", 8.0),
)


def targets(results: list[Result], size: int, startup: float | None) -> str:
    """DESIGN.md's performance targets, each with the measured figure and met / not met."""
    by_tool = {r.tool: r for r in results if r.seconds is not None and not r.note}
    ours = by_tool.get(TRIAGE)
    if ours is None or ours.seconds is None:
        return "triage did not run: no targets checked."
    rows = ["| target | measured | met |", "|---|---|---|"]

    def row(target: str, measured: str, met: bool) -> None:
        rows.append(f"| {target} | {measured} | {'yes' if met else 'no'} |")

    rate = size / 1e6 / ours.seconds
    row("at least 300 MB/s end to end", f"{rate:.0f} MB/s", rate >= 300)
    probe = by_tool.get(PROBE)
    if probe is not None and probe.seconds:
        here = size / 1e6 / probe.seconds
        scaled = 300 * here / PROBE_REFERENCE
        target = (
            f"300 MB/s scaled to this machine (the probe runs at {here:.0f} MB/s here, "
            f"{PROBE_REFERENCE:.0f} on DESIGN.md's): {scaled:.0f} MB/s"
        )
        row(target, f"{rate:.0f} MB/s", rate >= scaled)
    for tool, kind, factor in PEER_TARGETS:
        peer = by_tool.get(tool)
        name = tool.split()[0]
        if peer is None or peer.seconds is None:
            wording = f"within {factor:g}x of {name}" if kind == "within" else ""
            wording = wording or f"{factor:g}x faster than {name}"
            rows.append(f"| {wording} | not measured | – |")
        elif kind == "within":
            times = ours.seconds / peer.seconds
            row(f"within {factor:g}x of {name}", f"triage takes {times:.2f}x", times <= factor)
        else:
            times = peer.seconds / ours.seconds
            row(f"{factor:g}x faster than {name}", f"{name} takes {times:.1f}x", times >= factor)
    worst = max((r.rss_mb or 0) for r in results if r.tool.startswith("triage "))
    row("peak RSS at most 512 MB (1 GB input)", f"{worst:.0f} MB (worst format)", worst <= 512)
    if startup is not None:
        row("small excerpt under 0.5 s, start-up included", f"{startup:.2f} s", startup < 0.5)
    return "\n".join(rows)


SMALL = ROOT / "tests" / "data" / "seed-excerpt.log"


def startup_time(work: Path, runs: int = 7) -> float | None:
    """Median wall time of `triage analyze` on the seed excerpt (`runs` runs after one warm-up)."""
    if not SMALL.exists():
        return None
    argv = [*triage_argv(), "analyze", str(SMALL)]
    times = [measure(argv, work / "small.out", triage_env())[0] for _ in range(runs + 1)][1:]
    return sorted(times)[len(times) // 2]


def scaling(paths: list[Path], work: Path, repeat: int) -> str:
    """`triage analyze --format json` on inputs of growing size: seconds, MB/s, peak RSS."""
    rows = ["| input | MB | seconds | MB/s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for path in paths:
        argv = [*triage_argv(), "analyze", str(path), "--format", "json", "-o"]
        result = bench(TRIAGE, [*argv, str(work / "scale.json")], work / "scale.out", repeat,
                       triage_env())  # fmt: skip
        size = path.stat().st_size / 1e6
        if result.seconds is None or result.note:
            rows.append(f"| `{path}` | {size:.0f} | – | – | – |")
            continue
        rate = size / result.seconds
        rows.append(
            f"| `{path}` | {size:.0f} | {result.seconds:.2f} | {rate:.1f} | {result.rss_mb:.0f} |"
        )
    return "\n".join(rows)


def table(results: list[Result], size: int) -> str:
    """The Markdown timing table; the ratio is the tool's seconds over triage's JSON run."""
    ref = next(
        (r.seconds for r in results if r.tool == "triage analyze --format json" and not r.note),
        None,
    )
    rows = [
        "| tool | seconds | MB/s | peak RSS MB | ratio to triage | CPU steal s | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.seconds is None:
            rows.append(f"| {r.tool} | – | – | – | – | – | {r.note} |")
            continue
        rate = size / 1e6 / r.seconds
        ratio = f"{r.seconds / ref:.2f}" if ref else "–"
        steal = f"{r.steal:.1f}" if r.steal is not None else "–"
        rows.append(
            f"| {r.tool} | {r.seconds:.2f} | {rate:.1f} | {r.rss_mb:.0f} | {ratio} | {steal} "
            f"| {r.note} |"
        )
    return "\n".join(rows)


def find_truth(path: Path, given: Path | None) -> Path | None:
    """The ground truth: `--truth`, `<file>.truth.json`, or `truth.json` in the same folder."""
    for candidate in (given, path.with_name(path.name + ".truth.json"), path.parent / "truth.json"):
        if candidate is not None and candidate.exists():
            return candidate
    return None


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--scaling",
        type=Path,
        nargs="+",
        default=None,
        help="only time triage (JSON) on these files, e.g. 100 MB, 1 GB and 4 GB inputs",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best counts")
    parser.add_argument(
        "--slow-repeat", type=int, default=None, help="runs for SEC and lnav (default: --repeat)"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/triage-bench"))
    parser.add_argument("--truth", type=Path, default=None)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.scaling:
        print(f"## Scaling (best of {args.repeat})\n")
        print(scaling([args.file, *args.scaling], args.work, args.repeat))
        return
    size = args.file.stat().st_size
    startup = startup_time(args.work)  # first: the seconds-long runs follow
    results, scoring = run_all(args.file, args.work, args.repeat, args.slow_repeat)
    slow = f", SEC and lnav best of {args.slow_repeat}" if args.slow_repeat else ""
    print(f"## Benchmark: `{args.file}` ({size / 1e6:.1f} MB, best of {args.repeat}{slow})\n")
    print(table(results, size))
    print("\n## Targets (DESIGN.md, Performance)\n")
    print(targets(results, size, startup))
    truth = find_truth(args.file, args.truth)
    print()
    if truth is None:
        print("No ground truth found: scoring skipped.")
    elif not scoring.exists():
        print("triage wrote no JSON report: scoring skipped.")
    else:
        report = json.loads(scoring.read_text(encoding="utf-8"))
        records = json.loads(truth.read_text(encoding="utf-8"))
        print(f"## Findings scored against `{truth}`\n")
        print(format_scores(score(report.get("findings", []), records)))


if __name__ == "__main__":
    main()
