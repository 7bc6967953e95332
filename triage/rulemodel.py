"""The rule model: typed, validated values (matchers, steps, absences, rules, rule sets).

`triage.ruleload` builds these from TOML; `triage.predicates` turns the matchers into polars
expressions and `triage.sequences` assembles steps per key. The language is in docs/rules.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from triage.errors import Location, RuleError
from triage.events import EVENT_SCHEMA
from triage.findings import Explain, Severity
from triage.literals import regex_literals

COLUMNS = tuple(EVENT_SCHEMA)
TEXT_COLUMNS = ("message", "error")
"""Columns whose literals appear in the raw entry text, so they can feed the prefilter."""
SUMMARY_FIELDS = ("count", "first", "last", "when", "duration", "key", "held_for", "cleared")
DETAIL_FIELDS = ("held_for", "cleared_by")
DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PARAM_REF = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")

Choose = Callable[[Sequence[tuple[str, ...]]], tuple[str, ...]]
"""Picks one of several literal sets of conditions that all hold on a match: each is enough
for the prefilter, and the rarest in the input keeps the fewest lines."""


def first(options: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """The first set: the rule's own order."""
    return options[0]


class Op(StrEnum):
    """Matcher operators: the one-key tables of a field matcher (`{ regex = "…" }`)."""

    EQUALS = "equals"  # a bare value
    ALL = "all"  # a table with several operators (internal: AND of its parts)
    REGEX = "regex"
    PREFIX = "prefix"
    CONTAINS = "contains"
    IN = "in"
    NOT = "not"
    ANY = "any"
    EQ = "eq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


NUMERIC_OPS = (Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE)
TABLE_OPS = tuple(op for op in Op if op not in (Op.EQUALS, Op.ALL))


class Scope(StrEnum):
    """Where a `without` event is looked for: the same correlation key, or anywhere."""

    KEY = "key"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition on a value; `inner` holds the operands of `not`, `any` and `all`."""

    op: Op
    value: Any = None
    inner: tuple[Cond, ...] = ()

    def literals(self, choose: Choose = first) -> tuple[str, ...] | None:
        """Literal texts one of which must occur when this condition holds, if known (of the
        conditions of an `all`, the set `choose` picks)."""
        if self.op is Op.CONTAINS or self.op is Op.IN:
            return tuple(str(v) for v in self.value)
        if self.op in (Op.PREFIX, Op.EQUALS) and isinstance(self.value, str):
            return (self.value,)
        if self.op is Op.REGEX:
            return regex_literals(self.value)
        if self.op is Op.ALL:
            return _chosen([c.literals(choose) for c in self.inner], choose)
        if self.op is Op.ANY:
            alts = [c.literals(choose) for c in self.inner]
            if all(alts):
                return tuple(sorted({lit for alt in alts for lit in alt or ()}))
        return None

    def __str__(self) -> str:
        if self.op is Op.EQUALS:
            return repr(self.value)
        if self.op is Op.ALL:
            return " and ".join(str(c) for c in self.inner)
        if self.op in (Op.NOT, Op.ANY):
            return f"{self.op}({', '.join(str(c) for c in self.inner)})"
        return f"{self.op} {self.value!r}"


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """All conditions on one column or capture (AND)."""

    field: str
    conds: tuple[Cond, ...]

    def captures(self) -> tuple[str, ...]:
        """Names of the named groups of this matcher's top-level regexes."""
        return tuple(
            name for c in self.conds if c.op is Op.REGEX for name in re.compile(c.value).groupindex
        )

    def literals(self, choose: Choose = first) -> tuple[str, ...] | None:
        """The literals of one of the conditions (one of them occurs on every match)."""
        return _chosen([c.literals(choose) for c in self.conds], choose)

    def __str__(self) -> str:
        return f"{self.field} {' and '.join(str(c) for c in self.conds)}"


@dataclass(frozen=True, slots=True)
class Step:
    """One ordered step: field matchers plus how many hits, how soon, agreeing on what."""

    name: str
    matches: tuple[FieldMatch, ...]
    count: int = 1
    """At least this many occurrences (duplicates excluded, `merge` applied)."""
    within: timedelta | None = None
    """Max gap from the previous step's last hit to this step's first hit (inclusive)."""
    window: timedelta | None = None
    """The `count` occurrences must fall inside this sliding window (inclusive)."""
    merge: timedelta | None = None
    """Hits at most this far from the previous counted hit are the same occurrence."""
    same: tuple[str, ...] = ()
    """Columns or captures whose value must equal the value an earlier hit bound."""
    absent: bool = False
    """The last step only: the rule fires when this does NOT happen within `within`."""
    fire_at_end: bool = True
    """An absence still open when the log ends fires (False: only once `within` has elapsed)."""

    def captures(self) -> tuple[str, ...]:
        """Names captured by this step's top-level regexes."""
        return tuple(n for m in self.matches for n in m.captures())


@dataclass(frozen=True, slots=True)
class Without:
    """Events that must not occur between two steps; one that does breaks the sequence."""

    name: str
    between: tuple[int, int]
    """Step indexes (0-based) of the opening and the closing step."""
    matches: tuple[FieldMatch, ...]
    scope: Scope = Scope.KEY
    report: bool = True
    """Report a sequence broken by this event as a near miss."""


@dataclass(frozen=True, slots=True)
class Count:
    """One kind of event counted around a finding (`[[around.count]]`)."""

    name: str
    plural: str
    matches: tuple[FieldMatch, ...]

    def label(self, count: int) -> str:
        """`1 stalled session`, `2 Discord reconnects`."""
        return f"{count} {self.name if count == 1 else self.plural}"


@dataclass(frozen=True, slots=True)
class Around:
    """Events of the finding's key counted from `before` its first hit to `after` its last."""

    counts: tuple[Count, ...]
    before: timedelta = timedelta()
    after: timedelta = timedelta()
    text: str = "; around: {list}"
    """Renders `{around}` when something was counted (`{list}`: `2 X, 1 Y`); else empty."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule: what to match per key, and how to explain a finding."""

    id: str
    title: str
    severity: Severity
    by: tuple[str, ...]
    """Correlation key: the first non-null of these columns or captures."""
    steps: tuple[Step, ...]
    explain: Explain
    path: str = ""
    description: str = ""
    without: tuple[Without, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    session: tuple[str, ...] = ()
    """Templates for the finding's `session`; the first whose fields are all known wins."""
    summary: str = "{count} occurrence(s) from {first} to {last}"
    details: tuple[str, ...] = ()
    explained_by: tuple[str, ...] = ()
    """Rules whose findings' evidence this rule must not reuse (cause before symptom)."""
    count_step: int = -1
    """Index of the step whose occurrences are the finding's `count` (default: the last)."""
    keep: tuple[str, ...] = ()
    """Extra literals the reader must keep: context lines that lend a key to their neighbours."""
    repeat: int = 1
    """The whole sequence must complete this many times (within `repeat_window`) to fire."""
    repeat_window: timedelta | None = None
    join: timedelta | None = None
    """A step hit without the first `by` field takes it from the nearest hit this close."""
    around: Around | None = None
    also: tuple[Rule, ...] = ()
    """Other sequences (`[[also]]`) that fire this rule too; same id, explanation and params."""
    variant: str = ""
    """The `[[also]]` name of this sequence; empty for the rule's main sequence."""

    def variants(self) -> tuple[Rule, ...]:
        """The main sequence, then each `[[also]]` sequence."""
        return (self, *self.also)

    def literals(self, choose: Choose = first) -> tuple[str, ...] | None:
        """Literals every step and `without` needs, or None if one of them has no literal."""
        found: set[str] = set(self.keep)
        groups = [s.matches for s in self.steps] + [w.matches for w in self.without]
        groups += [c.matches for c in self.around.counts] if self.around else []
        for also in self.also:
            lits = also.literals(choose)
            if lits is None:
                return None
            found.update(lits)
        for matches in groups:
            texts = [m.literals(choose) for m in matches if m.field in TEXT_COLUMNS]
            lits = _chosen(texts, choose)
            if lits is None:
                return None
            found.update(lits)
        return tuple(sorted(found))

    def describe(self) -> str:
        """A human description for `triage explain`."""
        lines = [f"{self.id} ({self.severity}): {self.title}", ""]
        if self.description:
            lines += [self.description.strip(), ""]
        lines.append(f"per {' / '.join(self.by)}; steps in order:")
        lines += self._sequence_lines()
        for also in self.also:
            lines += ["", f"also ({also.variant}), per {' / '.join(also.by)}:"]
            lines += also._sequence_lines()
        if self.around:
            counted = ", ".join(c.plural for c in self.around.counts)
            lines.append(f"counts around each finding: {counted}")
        if self.params:
            lines.append("params: " + ", ".join(f"{k}={v}" for k, v in self.params))
        ex = self.explain
        lines += ["", f"cause: {ex.cause}", f"impact: {ex.impact}", f"workaround: {ex.workaround}"]
        lines += [f"see: {ref}" for ref in ex.references]
        return "\n".join(lines)

    def _sequence_lines(self) -> list[str]:
        lines = []
        for i, step in enumerate(self.steps, 1):
            extra = f" (at least {step.count})" if step.count > 1 else ""
            extra += " (absent)" if step.absent else ""
            lines.append(f"  {i}. {step.name}{extra}: {'; '.join(str(m) for m in step.matches)}")
        for w in self.without:
            a, b = self.steps[w.between[0]].name, self.steps[w.between[1]].name
            lines.append(f"  without {w.name} between {a} and {b} ({w.scope})")
        if self.repeat > 1:
            lines.append(f"  the whole sequence at least {self.repeat} times")
        return lines


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The loaded rules in evaluation order (a rule after the rules that explain it)."""

    rules: tuple[Rule, ...] = field(default=())

    def get(self, rule_id: str) -> Rule:
        """The rule with this id; RuleError naming the known ids otherwise."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        known = ", ".join(sorted(r.id for r in self.rules))
        raise RuleError(f"unknown rule {rule_id!r}; known rules: {known}", Location(rule_id))

    def literals(self, choose: Choose = first) -> tuple[str, ...] | None:
        """Every literal any rule needs (for the reader's prefilter); None if one has none."""
        found: set[str] = set()
        for rule in self.rules:
            lits = rule.literals(choose)
            if lits is None:
                return None
            found.update(lits)
        return tuple(sorted(found))


def _chosen(options: Sequence[tuple[str, ...] | None], choose: Choose) -> tuple[str, ...] | None:
    """`choose`'s pick of the known literal sets of conditions that all hold, or None."""
    known = [lits for lits in options if lits]
    return choose(known) if known else None


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1h30m`, `500ms`, `1d` -> timedelta; ValueError otherwise."""
    if not isinstance(text, str) or not DURATION.match(text.strip()):
        raise ValueError(
            f"bad duration {text!r}; expected a number and a unit (ms, s, m, h, d), "
            "e.g. 90s, 10m, 2h"
        )
    parts = _DURATION_PART.findall(text.strip())
    return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))
