"""The README documents every command and the two set-up commands CI relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from triage.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_shown_in_the_readme(command: str) -> None:
    assert f"triage {command}" in README


def test_readme_gives_the_install_and_run_and_the_test_commands() -> None:
    assert ".venv/bin/triage analyze samples/compaction-lock-leak/journal.txt" in README
    assert ".venv/bin/pip install -q -e '.[dev]' && .venv/bin/pytest -q" in README


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/pytest -q" in ci
