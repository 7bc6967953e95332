"""Redact secrets and personal data with stable pseudonyms (modelled on Drain3's masking)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from triage.findings import (
    Evidence,
    Finding,
    InputSummary,
    NearMiss,
    Report,
    SessionSummary,
)


@dataclass(frozen=True, slots=True)
class MaskingRule:
    """One pattern and the pseudonym kind its `value` group is replaced with."""

    kind: str
    """Pseudonym stem: `token` gives `<token-1>`, `<token-2>`..."""
    pattern: re.Pattern[str]
    """Must have a named group `value`: only that part of a match is replaced."""
    hints: tuple[str, ...]
    """Lower-case substrings one of which every match contains: a text holding none of them
    is skipped without running the pattern (most log lines hold no secret)."""


def _rule(kind: str, hints: tuple[str, ...], pattern: str, flags: int = 0) -> MaskingRule:
    return MaskingRule(kind, re.compile(pattern, flags), hints)


# `key=value`, `key="value"` or JSON `"key": "value"`; a bare `key: value` is prose too often.
_SEP = r"(?:=\"?|\"\s*:\s*\")"

# Applied in order: specific token shapes first, so `sk-ant-…` is not half-eaten by `sk-…`
# and a JWT after `Bearer` is one token. Values already in `<…>` form (a pseudonym, or a
# placeholder the reporter typed) are never matched again.
RULES: tuple[MaskingRule, ...] = (
    _rule("token", ("sk-ant-",), r"(?<![\w-])(?P<value>sk-ant-[A-Za-z0-9_-]{8,})"),
    _rule("token", ("sk-",), r"(?<![\w-])(?P<value>sk-(?:proj-)?[A-Za-z0-9_-]{16,})"),
    _rule("token", ("xox",), r"(?<![\w-])(?P<value>xox[abpr]-[A-Za-z0-9-]{8,})"),
    _rule(
        "token",
        ("_",),
        r"(?<!\w)(?P<value>gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
    ),
    _rule(
        "token", ("akia", "asia"), r"(?<![A-Z0-9])(?P<value>(?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Z0-9])"
    ),
    _rule(
        "token",
        ("eyj",),
        r"(?<![\w-])(?P<value>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[\w-]*)",
    ),
    _rule("token", ("bearer",), r"\bBearer\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE),
    _rule(
        "token",
        ("token", "api", "secret"),
        r"\b[\w-]*(?:token|api[_-]?key|secret)" + _SEP + r"(?P<value>[^\s\"'&,;<>]{4,})",
        re.IGNORECASE,
    ),
    _rule(
        "password",
        ("passw", "pwd"),
        r"\b(?:password|passwd|pwd)" + _SEP + r"(?P<value>[^\s\"'&,;<>]+)",
        re.IGNORECASE,
    ),
    _rule(
        "email",
        ("@",),
        r"(?<![\w.+-])(?P<value>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b",
    ),
    # E.164 (`+16175551234`) or grouped (`+1 617-555-0123`); a leading `+` is required so that
    # pids, durations, Discord ids and epoch stamps stay, and `+00:00` offsets have a colon.
    _rule(
        "phone", ("+",), r"(?<![\w+])(?P<value>\+\d{8,15}|\+\d{1,3}(?:[ .-]\d{2,5}){2,4})(?![\w:])"
    ),
    _rule(
        "user",
        ("/home/", "/users/", "\\users\\"),
        r"(?:/home/|/Users/|[A-Za-z]:\\Users\\)(?P<value>[^/\\\s<>\"':]+)",
    ),
)


@dataclass
class Redactor:
    """Replaces secrets with pseudonyms; one value always maps to one pseudonym."""

    rules: tuple[MaskingRule, ...] = RULES
    _seen: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _done: dict[str, str] = field(default_factory=dict)
    """Texts already redacted (a value keeps its pseudonym, so the result never changes)."""

    def pseudonym(self, kind: str, value: str) -> str:
        """The stable placeholder for `value`, e.g. `<email-1>`."""
        key = (kind, value)
        if key not in self._seen:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._seen[key] = f"<{kind}-{self._counts[kind]}>"
        return self._seen[key]

    def text(self, s: str) -> str:
        """Return `s` with every secret replaced by its pseudonym."""
        done = self._done.get(s)
        if done is not None:
            return done
        out, low = s, s.lower()
        for rule in self.rules:
            for hint in rule.hints:  # a loop, not any(): most texts hold no hint of any rule
                if hint in low:
                    out = rule.pattern.sub(functools.partial(self._mask, rule.kind), out)
                    low = out.lower()
                    break
        self._done[s] = out
        return out

    def _mask(self, kind: str, match: re.Match[str]) -> str:
        value = match.group("value")
        start, end = match.span("value")
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + self.pseudonym(kind, value) + whole[end - offset :]

    def optional(self, s: str | None) -> str | None:
        """Like `text`, passing None through."""
        return None if s is None else self.text(s)


def redact_report(report: Report, redactor: Redactor | None = None) -> Report:
    """Return a copy of `report` with every free-text field redacted by one `Redactor`.

    Fields are visited in a fixed order (inputs, sessions, findings, near misses, spans), so
    pseudonym numbers are deterministic; rule ids and times are left alone.
    """
    r = redactor or Redactor()
    inputs = tuple(_input(r, i) for i in report.inputs)
    sessions = tuple(_session(r, s) for s in report.sessions)
    findings = tuple(_finding(r, f) for f in report.findings)
    near = tuple(_near_miss(r, n) for n in report.near_misses)
    spans = tuple(replace(s, lane=r.text(s.lane), label=r.text(s.label)) for s in report.spans)
    return replace(
        report,
        inputs=inputs,
        sessions=sessions,
        findings=findings,
        near_misses=near,
        spans=spans,
    )


def _input(r: Redactor, i: InputSummary) -> InputSummary:
    return replace(i, path=r.text(i.path), notes=tuple(r.text(n) for n in i.notes))


def _session(r: Redactor, s: SessionSummary) -> SessionSummary:
    return replace(s, key=r.text(s.key), ids=tuple(r.text(i) for i in s.ids))


def _evidence(r: Redactor, e: Evidence) -> Evidence:
    return replace(e, path=r.text(e.path), text=r.text(e.text))


def _finding(r: Redactor, f: Finding) -> Finding:
    return replace(
        f,
        session=r.text(f.session),
        title=r.text(f.title),
        summary=r.text(f.summary),
        evidence=tuple(_evidence(r, e) for e in f.evidence),
        details=tuple((name, r.text(value)) for name, value in f.details),
    )


def _near_miss(r: Redactor, n: NearMiss) -> NearMiss:
    return replace(
        n,
        session=r.text(n.session),
        reason=r.text(n.reason),
        evidence=tuple(_evidence(r, e) for e in n.evidence),
    )
