"""A complete sequence (an episode) as a Finding: session label, facts, summary, details.

Also the `{around}` text: events counted near the episode (`[around]` in docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triage.findings import Finding
from triage.hits import Hit, clock, human, iso, occurrences, span
from triage.rules import Rule, Without


def session_label(rule: Rule, key: str, hits: Sequence[Hit]) -> str:
    """The first `session` template whose fields the hits all know, else the key."""
    values: dict[str, Any] = {}
    for hit in hits:
        for name, value in hit.values.items():
            values.setdefault(name, value)
    values["key"] = key
    for template in rule.session:
        try:
            return template.format_map(values)
        except KeyError:
            continue
    return key


@dataclass(frozen=True, slots=True)
class Episode:
    """One complete sequence of one key (or `repeat` of them), ready to become a Finding."""

    key: str
    by_step: list[list[Hit]]
    hits: list[Hit]
    """Every hit once, in time order."""
    closer: Hit | None = None
    breaker: Without | None = None
    count: int | None = None
    """The finding's count when not the count step's occurrences (`repeat`: the sequences)."""
    around: str = ""
    """The rendered `{around}` text."""


def build_finding(rule: Rule, episode: Episode) -> Finding:
    """Build the finding of one episode, its summary and details."""
    hits = episode.hits
    stamps = [h.ts for h in hits if h.ts is not None]
    first, last = (min(stamps), max(stamps)) if stamps else (None, None)
    facts = _facts(rule, episode, first, last)
    details = []
    for name in rule.details:
        closer = episode.closer
        if name == "cleared_by" and closer is not None:
            details.append((name, f"{iso(closer.ts)} {closer.file}:{closer.line}"))
        elif name != "cleared_by" and name in facts and facts[name] != "?":
            details.append((name, str(facts[name])))
    names = {i: s.name for i, s in enumerate(rule.steps)}
    return Finding(
        rule=rule.id, severity=rule.severity, title=rule.title,
        session=session_label(rule, episode.key, hits), first=first, last=last,
        count=int(facts["count"]), summary=_render(rule.summary, facts), explain=rule.explain,
        details=tuple(details),
        evidence=tuple(h.evidence(next((names[i] for i in sorted(h.steps)), "")) for h in hits),
    )  # fmt: skip


class Counted(int):
    """The finding's count in a template: `{count}` is `3`, `{count:turn}` is `3 turns` (`1 turn`),
    `{count:reply|replies}` names an irregular plural."""

    def __format__(self, spec: str) -> str:
        if not spec or not spec[0].isalpha():
            return format(int(self), spec)
        one, _, many = spec.partition("|")
        return f"{int(self)} {one if self == 1 else many or one + 's'}"


def _facts(
    rule: Rule, episode: Episode, first: datetime | None, last: datetime | None
) -> dict[str, Any]:
    """Params, then the hits' values (first known, and `<name>_max`), then the summary fields."""
    count = episode.count
    if count is None:
        count_step = rule.steps[rule.count_step]
        count = occurrences(episode.by_step[rule.count_step], count_step.merge)
    held = _held_for(episode.hits, first, last)
    closer, breaker = episode.closer, episode.breaker
    cleared = (
        f"cleared by {breaker.name} at {closer.where()}"
        if closer and breaker
        else "not cleared within the log"
    )
    facts: dict[str, Any] = dict(rule.params)
    for hit in episode.hits:
        for name, value in hit.values.items():
            facts.setdefault(name, value)
            number = _number(value)
            if number is not None and (facts.get(f"{name}_max") or -1.0) < number:
                facts[f"{name}_max"] = number
    counted = [h.ts for h in episode.by_step[rule.count_step] if h.ts is not None]
    facts.update(
        count=Counted(count), when=span(counted), first=clock(first), last=clock(last),
        key=episode.key, cleared=cleared,
        duration=human(last - first) if first and last else "?",
        held_for=human(held) if held is not None else "?", around=episode.around,
    )  # fmt: skip
    return facts


def around_text(rule: Rule, evidence: Sequence[Hit], nearby: Sequence[Hit]) -> str:
    """`{around}`: the `[[around.count]]` events of the key near the evidence, or empty."""
    around = rule.around
    times = [h.order[1] for h in evidence if h.order[0]]
    if around is None or not times:
        return ""
    start, end = min(times) - around.before, max(times) + around.after
    own = {h.row for h in evidence}
    counts = [0] * len(around.counts)
    for hit in nearby:
        if hit.duplicate or hit.row in own or not hit.order[0]:
            continue
        if start <= hit.order[1] <= end:
            for index in hit.around:
                counts[index] += 1
    parts = [c.label(n) for c, n in zip(around.counts, counts, strict=True) if n]
    return around.text.format(list=", ".join(parts)) if parts else ""


def _held_for(hits: list[Hit], first: datetime | None, last: datetime | None) -> timedelta | None:
    """From the first hit (or the lock's age where a hit reports `age_ms`) to the last hit."""
    if first is None or last is None:
        return None
    since = first
    for hit in hits:
        age = hit.values.get("age_ms")
        if hit.ts is not None and age is not None:
            try:
                since = min(since, hit.ts - timedelta(milliseconds=float(age)))
            except ValueError:
                continue
    return last - since


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


class _Missing(dict[str, Any]):
    """Facts where an unknown name reads `?`."""

    def __missing__(self, name: str) -> str:
        return "?"


def _render(template: str, facts: dict[str, Any]) -> str:
    return template.format_map(_Missing(facts))
