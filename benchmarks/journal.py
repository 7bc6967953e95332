"""A fast journalctl text writer: cached per-second stamps, lines buffered as strings.

The generator and the sample builder both write through `Journal`, so every synthetic line has
the exact `short` / `short-iso` layout of LOG-FORMATS.md §1.3-1.4 and, for gateway lines, the
OpenClaw console prefix `<ISO ms time> [<subsystem>] ` of §2.2.
"""

from __future__ import annotations

import time
from enum import StrEnum

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Fmt(StrEnum):
    """The journalctl output modes the generator writes."""

    SHORT = "short"
    SHORT_ISO = "short-iso"


def epoch(iso: str) -> float:
    """Seconds since the epoch for a UTC `YYYY-MM-DDTHH:MM:SS` string."""
    return float(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%S")) - time.timezone)


class Journal:
    """Accumulates journal lines; `t` is the current time (UTC epoch seconds, ms precision)."""

    def __init__(self, fmt: Fmt, host: str, start: float) -> None:
        self.fmt = fmt
        self.host = host
        self.t = start
        self.lines: list[str] = []
        self.count = 0
        self.nbytes = 0
        self._sec = -1
        self._iso = ""
        self._prefix = ""

    def _refresh(self) -> None:
        sec = int(self.t)
        if sec == self._sec:
            return
        self._sec = sec
        g = time.gmtime(sec)
        clock = f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}"
        self._iso = f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T{clock}"
        if self.fmt is Fmt.SHORT_ISO:
            stamp = f"{self._iso}+00:00"
        else:
            stamp = f"{MONTHS[g.tm_mon - 1]} {g.tm_mday:02d} {clock}"
        self._prefix = f"{stamp} {self.host} "

    def line(self, ident: str, text: str) -> int:
        """Append `<stamp> <host> <ident>: <text>` and return its 1-based line number."""
        self._refresh()
        s = f"{self._prefix}{ident}: {text}\n"
        self.lines.append(s)
        self.count += 1
        self.nbytes += len(s)
        return self.count

    def app(self, ident: str, sub: str | None, msg: str) -> int:
        """Append a gateway console line: `<ISO ms time> [<sub>] <msg>` inside the journal line."""
        self._refresh()
        ms = int((self.t - self._sec) * 1000)
        tag = f"[{sub}] " if sub else ""
        return self.line(ident, f"{self._iso}.{ms:03d}+00:00 {tag}{msg}")

    def iso_ms(self) -> str:
        """The current time as the gateway prints it (`2026-05-19T13:43:45.077+00:00`)."""
        self._refresh()
        return f"{self._iso}.{int((self.t - self._sec) * 1000):03d}+00:00"

    def drain(self) -> str:
        """Return the buffered text and empty the buffer (line numbering continues)."""
        text = "".join(self.lines)
        self.lines.clear()
        return text
