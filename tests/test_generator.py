"""The benchmark generator and the samples: deterministic bytes, exact ground truth, every rule."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

# Every line a truth record points at (first and last) must show one of the rule's key phrases.
KEY_PHRASES = {
    "compaction-lock-leak": r"auto-compaction start|timeout reached during compaction|"
    r"session file locked",
    "reply-lost": r"Embedded agent failed before reply|replies=0",
    "session-takeover-fence": r"auto-compaction start|EmbeddedAttemptSessionTakeoverError",
    "compaction-stuck": r"auto-compaction start|timeout reached during compaction",
    "session-lock-contention": r"SessionWriteLockTimeoutError",
    "lane-wait-blocked": r"lane wait exceeded: .*waitedMs=\d{5,} queueAhead=0",
    "stalled-agent-run": r"stalled session: .*classification=stalled_agent_run",
    "model-failover-exhausted": r"FailoverError|All models failed",
    "event-loop-starvation": r"liveness warning: .*eventLoopDelayMaxMs=\d{4,}|"
    r"event-loop starvation",
    "channel-reconnect-storm": r"Gateway websocket closed|Gateway reconnect scheduled",
    "gateway-restart-loop": r"signal SIGTERM received|\[gateway\] ready",
    "service-restart-loop": r"Main process exited|restart counter is at|repeated too quickly|"
    r"Failed to start|Failed at step EXEC",
    "oom-kill": r"invoked oom-killer|Out of memory: Killed process|OOM killer|'oom-kill'",
    "node-heap-oom": r"Last few GCs|JavaScript heap out of memory|status=6/ABRT",
    "watchdog-timeout": r"Watchdog timeout \(limit|code=dumped",
    "start-stop-timeout": r"start operation timed out|'stop-sigterm' timed out|Failed to start|"
    r"status=9/KILL",
    "exec-failure": r"Failed at step EXEC|status=203/EXEC",
}
CATALOGUE_RULES = sorted(KEY_PHRASES)
LINE_SHAPES = {
    "short-iso": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 casper \S+: ",
    "short": r"[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d casper \S+: ",
}


def generate(tmp_path: Path, name: str, *args: str) -> tuple[bytes, list[dict[str, object]]]:
    out = tmp_path / name
    command = [sys.executable, str(BENCH / "generate.py"), "--out", str(out), *args]
    subprocess.run(command, check=True, capture_output=True)
    truth = json.loads(out.with_name(name + ".truth.json").read_text(encoding="utf-8"))
    return out.read_bytes(), truth


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[dict[str, object]]]:
    return generate(tmp_path_factory.mktemp("gen"), "small.log", "--size", "600KB", "--seed", "7")


def check_truth(lines: list[str], truth: list[dict[str, object]]) -> None:
    for record in truth:
        rule, first, last = str(record["rule"]), int(record["first_line"]), int(record["last_line"])
        assert 1 <= first <= last <= len(lines), record
        for number in (first, last):
            assert re.search(KEY_PHRASES[rule], lines[number - 1]), (record, lines[number - 1])
        if "session_id" in record and rule != "reply-lost":  # that line names no session
            span = "\n".join(lines[first - 1 : last])
            assert str(record["session"]) in span or str(record["session_id"]) in span, record


def test_small_file_has_the_requested_size_and_every_rule(small: tuple[bytes, list]) -> None:
    text, truth = small
    assert 600 * 1024 <= len(text) < 1.3 * 600 * 1024  # tiny sizes overshoot: fixed incident cost
    assert sorted({r["rule"] for r in truth}) == CATALOGUE_RULES


def test_truth_lines_point_at_the_incident_phrases(small: tuple[bytes, list]) -> None:
    text, truth = small
    check_truth(text.decode("utf-8").splitlines(), truth)


def test_same_seed_same_bytes_other_seed_other_bytes(
    tmp_path: Path, small: tuple[bytes, list]
) -> None:
    again, truth = generate(tmp_path, "again.log", "--size", "600KB", "--seed", "7")
    other, _ = generate(tmp_path, "other.log", "--size", "600KB", "--seed", "8")
    assert (again, truth) == small
    assert other != again


@pytest.mark.parametrize("fmt", ["short-iso", "short"])
def test_every_line_has_the_journal_prefix(tmp_path: Path, fmt: str) -> None:
    text, truth = generate(tmp_path, f"{fmt}.log", "--size", "300KB", "--format", fmt)
    lines = text.decode("utf-8").splitlines()
    shape = re.compile(LINE_SHAPES[fmt])
    assert [line for line in lines if not shape.match(line)] == []
    check_truth(lines, truth)


def test_two_cycles_inject_every_rule_twice(tmp_path: Path) -> None:
    _, truth = generate(tmp_path, "two.log", "--size", "800KB", "--cycle", "400KB")
    counts = {rule: sum(r["rule"] == rule for r in truth) for rule in CATALOGUE_RULES}
    assert min(counts.values()) >= 2, counts


def test_samples_cover_the_catalogue_and_their_truth_is_exact() -> None:
    folders = {p.name for p in (ROOT / "samples").iterdir() if p.is_dir()}
    assert set(CATALOGUE_RULES) | {"healthy"} <= folders
    for name in sorted(folders):
        truth = json.loads((ROOT / "samples" / name / "truth.json").read_text(encoding="utf-8"))
        lines = (ROOT / "samples" / name / "journal.txt").read_text(encoding="utf-8").splitlines()
        check_truth(lines, truth)
        expected = set() if name == "healthy" else {name}
        assert expected <= {r["rule"] for r in truth}, name
        assert (name == "healthy") == (truth == []), name


def test_samples_are_regenerated_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(BENCH / "make_samples.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for folder in sorted((ROOT / "samples").iterdir()):
        for name in ("journal.txt", "README.md", "truth.json"):
            built = (tmp_path / folder.name / name).read_bytes()
            assert built == (folder / name).read_bytes(), f"{folder.name}/{name} is stale"
