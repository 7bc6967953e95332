"""The loghub Linux and OpenSSH samples: every line parses and agrees with the ground truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from triage.parsers import parse

# Ground-truth CSV columns per sample: (host, ident, pid, message). OpenSSH's CSV names the
# host `Component` and has no ident column: every line there is `sshd`.
COLUMNS = {
    "Linux": ("Level", "Component", "PID", "Content"),
    "OpenSSH": ("Component", None, "Pid", "Content"),
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_loghub_sample_matches_ground_truth(shared: Path, name: str) -> None:
    base = shared / "corpus" / "loghub" / name / f"{name}_2k.log"
    result = parse(str(base))
    summary = result.summary
    assert (summary.lines, summary.events, summary.unparsed) == (2000, 2000, 0)
    assert summary.format == "journal-short"
    truth = pl.read_csv(f"{base}_structured.csv", infer_schema=False)
    host, ident, pid, content = COLUMNS[name]
    events = result.events
    assert events["line"].to_list() == truth["LineId"].cast(pl.UInt32).to_list()
    assert events["host"].to_list() == truth[host].to_list()
    expected_ident = truth[ident].to_list() if ident else ["sshd"] * truth.height
    assert events["ident"].to_list() == expected_ident
    assert events["pid"].cast(pl.String).to_list() == truth[pid].to_list()
    # The CSV drops the trailing space some messages keep before the CRLF.
    assert events["message"].str.strip_chars().to_list() == truth[content].to_list()
