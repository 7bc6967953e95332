"""The console entry point as a process: its exit status, its flushed output, a closed pipe.

`triage.cli.main` ends the process with `os._exit` (no interpreter teardown), so these run
`python -m triage` for real: an in-process runner would not see a lost buffer or status.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import _exit_code

SEED = Path(__file__).parent / "data" / "seed-excerpt.log"
TRIAGE = [sys.executable, "-m", "triage"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRIAGE, *args], capture_output=True, text=True, timeout=120)


def lock_storm(path: Path, sessions: int) -> Path:
    """A journal where each of `sessions` sessions fails three turns on its session lock."""
    lines = []
    for n in range(sessions * 3):
        stamp = f"2026-05-19T13:{n // 60 % 60:02d}:{n % 60:02d}"
        lines.append(
            f"{stamp}+0000 host node[900]: {stamp}.000+00:00 [diagnostic] lane task error: "
            f"lane=session:agent:main:discord:channel:{n // 3} durationMs=61165 "
            'error="SessionWriteLockTimeoutError: session file locked (timeout 60000ms): '
            f'pid=900 /home/u/.openclaw/agents/main/sessions/{n // 3:08d}.jsonl.lock"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_whole_report_reaches_a_pipe_before_the_process_ends(tmp_path: Path) -> None:
    log = lock_storm(tmp_path / "storm.log", sessions=300)  # a report far over a pipe's 64 KB
    done = run("analyze", str(log), "--format", "json", "--no-redact")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # complete: the last byte was written
    sessions = {f["session"] for f in report["findings"] if f["rule"] == "session-lock-contention"}
    assert sessions == {f"agent:main:discord:channel:{n}" for n in range(300)}


def test_fail_on_sets_the_process_status() -> None:
    done = run("analyze", str(SEED), "--fail-on", "critical")
    assert done.returncode == 1
    assert "compaction-lock-leak" in done.stdout


def test_an_error_is_one_line_and_status_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    done = run("analyze", str(missing))
    assert done.returncode == 2
    assert done.stderr.startswith(f"triage: {missing}: ")
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout == ""


def test_a_reader_closing_the_pipe_early_is_not_an_error(tmp_path: Path) -> None:
    log = lock_storm(tmp_path / "storm.log", sessions=300)  # a report far over a pipe's 64 KB
    with subprocess.Popen(
        [*TRIAGE, "analyze", str(log), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(100).startswith(b"{")
        process.stdout.close()  # the rest of the write meets a closed pipe
        errors = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0
    assert errors == ""


@pytest.mark.parametrize(
    ("code", "status", "printed"),
    [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("bad rule", 1, "bad rule\n")],
)
def test_exit_codes_follow_pythons_sys_exit(
    code: object, status: int, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(code) == status
    assert capsys.readouterr().err == printed


def test_a_plain_run_does_not_import_rich() -> None:
    """rich styles the terminal report only when colour is on: a piped run skips importing it."""
    code = (
        "import sys; from triage.cli import app; "
        f"app(['analyze', {str(SEED)!r}], standalone_mode=False); "
        "print('rich' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "compaction-lock-leak" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "False"
