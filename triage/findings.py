"""Value types at the findings boundary: what the engine found and what the reports render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum


class Severity(IntEnum):
    """Finding severity; an IntEnum so that `--fail-on high` compares by rank."""

    INFO = 10
    LOW = 20
    MEDIUM = 30
    HIGH = 40
    CRITICAL = 50

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity from its lowercase name (`high`); raise ValueError otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(str(s) for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of: {names}") from None


@dataclass(frozen=True, slots=True)
class Explain:
    """A rule's explanation block, shown with every finding of the rule."""

    cause: str
    """Root cause in one or two sentences."""
    impact: str
    """What the user sees."""
    workaround: str
    """What to do now."""
    references: tuple[str, ...] = ()
    """Upstream issues or documentation links."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One log entry that supports a finding, citable as `path:line`."""

    path: str
    line: int
    ts: datetime | None
    text: str
    """The entry's text as read (all physical lines joined with a newline)."""
    step: str = ""
    """Which rule step this entry matched (its name), empty when not from a step."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fired for one correlation key (session, unit or gateway process)."""

    rule: str
    severity: Severity
    title: str
    session: str
    """Session key when known, else session id; unit name for unit rules; `gateway:<pid>`."""
    first: datetime | None
    last: datetime | None
    count: int
    """How many times the symptom occurred (failed turns, restarts, kills...)."""
    summary: str
    """One sentence with the numbers."""
    evidence: tuple[Evidence, ...]
    explain: Explain
    caused_by: str | None = None
    """Rule id of the finding in the same session that explains this one (root-cause chain)."""
    details: tuple[tuple[str, str], ...] = ()
    """Extra facts as ordered (name, value) pairs: `held_for`, `cleared_by`, `lock_path`."""

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from first to last, when both are known."""
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).total_seconds()


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule whose sequence started but did not complete: shown at info level."""

    rule: str
    session: str
    matched_steps: int
    total_steps: int
    reason: str
    """Why the sequence broke, e.g. `broken by gateway restart at 13:54:20 (journal.txt:57)`."""
    first: datetime | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One correlation key seen in the input, with its root cause when a finding names it."""

    key: str
    ids: tuple[str, ...]
    """Other identities of the same session (session ids, lock paths)."""
    first: datetime | None
    last: datetime | None
    events: int
    root_cause: str | None


@dataclass(frozen=True, slots=True)
class InputSummary:
    """Accounting for one input: every physical line lands in exactly one class."""

    path: str
    format: str
    """Detected (or forced) format, e.g. `journal-short-iso`, `gateway-console`."""
    lines: int
    events: int
    """Entries parsed (an entry may span several physical lines)."""
    continuations: int
    """Physical lines joined to the entry before them."""
    noise: int
    """Recognised non-entries: boot separators, headers, status blocks, prompts, blank lines."""
    unparsed: int
    """Lines that are none of the above; never dropped silently, always reported."""
    notes: tuple[str, ...] = ()
    """Things the reader noticed: inferred year, clock jumps, truncated last line."""


@dataclass(frozen=True, slots=True)
class Span:
    """A state over time on one timeline lane (lock held, compaction running, gateway down)."""

    lane: str
    kind: str
    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one analysis produced; reporters render it, nothing else."""

    tool_version: str
    generated_at: datetime
    inputs: tuple[InputSummary, ...]
    findings: tuple[Finding, ...]
    near_misses: tuple[NearMiss, ...]
    sessions: tuple[SessionSummary, ...]
    spans: tuple[Span, ...] = field(default=())
    rules: tuple[str, ...] = field(default=())
    """Ids of the rules that ran, sorted (so JUnit and SARIF can show the quiet ones too)."""

    def worst(self) -> Severity | None:
        """The highest severity among findings, or None when nothing fired."""
        return max((f.severity for f in self.findings), default=None)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Deterministic order: severity descending, then first time, rule id, session."""
    far = datetime.max.replace(tzinfo=None)

    def key(f: Finding) -> tuple[int, str, str, str]:
        first = f.first.isoformat() if f.first else far.isoformat()
        return (-int(f.severity), first, f.rule, f.session)

    return sorted(findings, key=key)
