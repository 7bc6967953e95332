"""The benchmark's target table: each DESIGN.md target with its measured figure, met or not."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_run() -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_targets_compare_triage_with_each_peer() -> None:
    run = load_run()
    results = [
        run.Result("grep -c -F -f phrases.txt", 2.0, 15),
        run.Result("rg -c -F -f phrases.txt", 1.0, 900),
        run.Result("sec (benchmarks/sec/triage.sec)", 100.0, 19),
        run.Result("lnav -n (SQL count)", None, note="not installed"),
        run.Result("polars streaming probe (DESIGN.md)", 2.0, 400),
        run.Result("triage analyze --format json", 4.0, 400),
        run.Result("triage analyze --format html", 4.5, 530),
    ]
    table = run.targets(results, 1_000_000_000, startup=0.45).splitlines()
    assert table[2:] == [
        "| at least 300 MB/s end to end | 250 MB/s | no |",
        "| 300 MB/s scaled to this machine (the probe runs at 500 MB/s here, 887 on DESIGN.md's):"
        " 169 MB/s | 250 MB/s | yes |",
        "| within 3x of grep | triage takes 2.00x | yes |",
        "| within 3x of rg | triage takes 4.00x | no |",
        "| 25x faster than sec | sec takes 25.0x | yes |",
        "| 8x faster than lnav | not measured | – |",
        "| peak RSS at most 512 MB (1 GB input) | 530 MB (worst format) | no |",
        "| small excerpt under 0.5 s, start-up included | 0.45 s | yes |",
    ]


JOBS = [("quick", 3), ("slow", 1), ("other", 3)]


def test_rounds_interleave_the_tools_and_put_single_runs_last(tmp_path: Path) -> None:
    run = load_run()
    order: list[str] = []

    class Recording(run.Job):
        def run_once(self) -> None:
            order.append(self.tool)

    jobs = [Recording(name, [name], tmp_path / name, runs) for name, runs in JOBS]
    run.run_rounds(jobs)
    assert order == ["quick", "other", "quick", "other", "quick", "slow", "other"]
