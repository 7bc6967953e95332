"""Sequence assembly per correlation key: ordered steps, counts, windows and absences.

A short Python loop over one rule's candidate hits (never over every line), feeding each key's
hits in time order through `Scan`. The semantics are documented in docs/rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from triage.episode import build_finding, session_label
from triage.findings import Finding, NearMiss
from triage.hits import Hit, human, occurrences, time_gap
from triage.rules import Rule, Scope, Without


@dataclass(slots=True)
class _Run:
    """A sequence in progress for one key."""

    hits: list[list[Hit]]
    cur: int = 0
    bound: dict[str, Any] = field(default_factory=dict)


def match_rule(rule: Rule, hits: list[Hit]) -> tuple[list[Finding], list[NearMiss], set[int]]:
    """Findings, near misses and the evidence rows of one rule over its candidate hits."""
    global_rows = [
        h for h in hits if any(rule.without[w].scope is Scope.GLOBAL for w in h.withouts)
    ]
    keyed: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.key is not None:
            keyed.setdefault(hit.key, []).append(hit)
    findings: list[Finding] = []
    misses: list[NearMiss] = []
    rows: set[int] = set()
    for key in sorted(keyed):
        stream = _merge_global(keyed[key], global_rows, key)
        scan = _Scan(rule, key)
        for hit in stream:
            scan.feed(hit)
        scan.finish()
        findings += scan.findings
        misses += scan.misses
        rows |= scan.used
    return findings, misses, rows


def _merge_global(own: list[Hit], global_rows: list[Hit], key: str) -> list[Hit]:
    foreign = [
        Hit(
            h.row,
            h.order,
            h.ts,
            h.file,
            h.line,
            h.text,
            h.duplicate,
            h.key,
            frozenset(),
            h.withouts,
        )
        for h in global_rows
        if h.key != key
    ]
    return sorted(own + foreign, key=lambda h: h.order)


class _Scan:
    """Feeds one key's hits in time order through the rule's steps (see docs/rules.md)."""

    def __init__(self, rule: Rule, key: str) -> None:
        self.rule = rule
        self.key = key
        self.steps = rule.steps
        self.run: _Run | None = None
        self.findings: list[Finding] = []
        self.misses: list[NearMiss] = []
        self.used: set[int] = set()

    def feed(self, hit: Hit) -> None:
        """Advance the sequence with one hit."""
        if self.run is not None and self._absence_elapsed(self.run, hit):
            self._emit(self.run, None, None)
            self.run = None
        if self.run is not None:
            breaker = self._breaker(self.run, hit)
            if breaker is not None:
                self._close(self.run, hit, breaker)
                self.run = None
        if not hit.steps:
            return
        if self.run is None:
            self._start(hit)
        else:
            self._advance(self.run, hit)

    def finish(self) -> None:
        """End of the log: a complete sequence becomes a finding."""
        if self.run is not None and (self._complete(self.run) or self._awaiting_absence(self.run)):
            self._emit(self.run, None, None)  # an absence holds until the end of the log
        self.run = None

    def _awaiting_absence(self, run: _Run) -> bool:
        last = len(self.steps) - 1
        return self.steps[last].absent and run.cur == last - 1 and self._done(run, run.cur)

    def _absence_elapsed(self, run: _Run, hit: Hit) -> bool:
        limit = self.steps[-1].within
        if limit is None or not self._awaiting_absence(run):
            return False
        gap = time_gap(run.hits[run.cur][-1], hit)
        return gap is not None and gap > limit

    def _start(self, hit: Hit) -> None:
        if 0 in hit.steps:
            self.run = _Run(hits=[[] for _ in self.steps])
            self._add(self.run, 0, hit)

    def _advance(self, run: _Run, hit: Hit) -> None:
        i, nxt = run.cur, run.cur + 1
        if self._awaiting_absence(run) and nxt in hit.steps and self._same(run, nxt, hit):
            self.run = None  # what must be absent happened in time: no finding
            return
        if (
            nxt < len(self.steps)
            and nxt in hit.steps
            and self._done(run, i)
            and self._same(run, nxt, hit)
        ):
            gap = time_gap(run.hits[i][-1], hit)
            limit = self.steps[nxt].within
            if limit is None or gap is None or gap <= limit:
                run.cur = nxt
                self._add(run, nxt, hit)
                return
            late = f"'{self.steps[nxt].name}' came {human(gap)} after '{self.steps[i].name}'"
            self._miss(run, f"{late} at {hit.where()}, beyond {human(limit)}")
            self.run = None
            self._start(hit)
        elif i in hit.steps and self._same(run, i, hit):
            window = self.steps[i].window
            if (
                self._complete(run)
                and window is not None
                and (time_gap(run.hits[i][-1], hit) or timedelta()) > window
            ):
                self._emit(run, None, None)
                self.run = None
                self._start(hit)
                return
            self._add(run, i, hit)

    def _add(self, run: _Run, index: int, hit: Hit) -> None:
        step = self.steps[index]
        if step.window is not None and not self._done(run, index):
            window = step.window  # not complete yet: only hits inside the window can count
            run.hits[index] = [
                h for h in run.hits[index] if (time_gap(h, hit) or timedelta()) <= window
            ]
        run.hits[index].append(hit)
        for name in (n for s in self.steps for n in s.same):
            if name not in run.bound and name in hit.values:
                run.bound[name] = hit.values[name]

    def _same(self, run: _Run, index: int, hit: Hit) -> bool:
        return all(
            run.bound.get(n) is None or hit.values.get(n) is None or run.bound[n] == hit.values[n]
            for n in self.steps[index].same
        )

    def _done(self, run: _Run, index: int) -> bool:
        step = self.steps[index]
        return occurrences(run.hits[index], step.merge) >= step.count

    def _complete(self, run: _Run) -> bool:
        return run.cur == len(self.steps) - 1 and self._done(run, run.cur)

    def _matched(self, run: _Run) -> int:
        return sum(1 for i in range(len(self.steps)) if run.hits[i] and self._done(run, i))

    def _breaker(self, run: _Run, hit: Hit) -> Without | None:
        last = len(self.steps) - 1
        for w_index in sorted(hit.withouts):
            w = self.rule.without[w_index]
            if w.scope is Scope.KEY and hit.key != self.key:
                continue
            opened = run.cur > w.between[0] or (
                run.cur == w.between[0] and self._done(run, run.cur)
            )
            still = run.cur < w.between[1] or w.between[1] == last
            if opened and still and hit.row not in {h.row for hs in run.hits for h in hs}:
                return w
        return None

    def _close(self, run: _Run, hit: Hit, breaker: Without) -> None:
        if self._complete(run):
            self._emit(run, hit, breaker)
        elif breaker.report and self._matched(run) >= 1:
            self._miss(run, f"broken by {breaker.name} at {hit.where()}")

    def _miss(self, run: _Run, reason: str) -> None:
        hits = _flatten(run)
        self.misses.append(NearMiss(
            rule=self.rule.id, session=session_label(self.rule, self.key, hits),
            matched_steps=self._matched(run), total_steps=len(self.steps), reason=reason,
            first=hits[0].ts if hits else None,
            evidence=tuple(h.evidence(self._step_name(h)) for h in hits),
        ))  # fmt: skip

    def _step_name(self, hit: Hit) -> str:
        return next((self.steps[i].name for i in sorted(hit.steps)), "")

    def _emit(self, run: _Run, closer: Hit | None, breaker: Without | None) -> None:
        hits = _flatten(run)
        self.used.update(h.row for h in hits)
        self.findings.append(build_finding(self.rule, self.key, run.hits, hits, closer, breaker))


def _flatten(run: _Run) -> list[Hit]:
    seen: dict[int, Hit] = {}
    for hits in run.hits:
        for h in hits:
            seen.setdefault(h.row, h)
    return sorted(seen.values(), key=lambda h: h.order)
