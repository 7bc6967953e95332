"""Validation of a rule's sequences: steps, absences, `[[also]]` sequences and `[around]` counts.

`SequenceChecker` is the middle layer of `triage.ruleload.RuleChecker`. A sequence is the
top-level `[[steps]]` / `[[without]]` (plus `by`, `session`, `summary`, ...) or one `[[also]]`
table with its own `[[also.steps]]`; a `Section` says where, so errors land on the right line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from triage.rulecheck import ValueChecker, expected
from triage.rulemodel import (
    COLUMNS,
    DETAIL_FIELDS,
    SUMMARY_FIELDS,
    Around,
    Count,
    Scope,
    Step,
    Without,
)

STEP_KEYS = ("absent", "count", "fire_at_end", "merge", "name", "same", "window", "within")
WITHOUT_KEYS = ("between", "name", "report", "scope")
AROUND_KEYS = ("after", "before", "count", "text")
COUNT_KEYS = ("name", "plural")


@dataclass(frozen=True, slots=True)
class Section:
    """Where a sequence sits: the top level, or the n-th `[[also]]` table."""

    label: str = ""
    """Prefix of names in messages: `also[1].`."""
    prefix: str = ""
    """Prefix of array-of-tables headers: `also.` for `[[also.steps]]`."""
    where: tuple[Any, ...] = ()
    """Key path of the sequence's own keys (`("also", 1)`)."""
    steps_before: int = 0
    """`[[also.steps]]` tables of earlier `[[also]]` tables (headers are counted file-wide)."""
    withouts_before: int = 0


class SequenceChecker(ValueChecker):
    """Builds the steps and absences of one sequence, and the `[around]` counts."""

    def sequence(
        self, table: dict[str, Any], sec: Section, around: Around | None
    ) -> dict[str, Any] | None:
        """Rule fields of one sequence (steps, without, by, templates, repeat); None if broken."""
        steps = self._steps(table.get("steps"), sec)
        names = [s.name for s in steps]
        captured = {c for s in steps for c in s.captures()}
        known = set(COLUMNS) | captured | {f"{c}_max" for c in captured}
        fields: dict[str, Any] = {"steps": tuple(steps)}
        fields["without"] = tuple(self._withouts(table.get("without", []), names, sec))
        fields["by"] = self._names(table.get("by", "session"), (*sec.where, "by"), known, "by")
        fields["join"] = self.duration(table.get("join"), (*sec.where, "join"))
        if fields["join"] is not None and len(fields["by"]) < 2:
            self.error(
                "join needs a fallback in by (by = [<field>, <fallback>, ...])",
                (*sec.where, "join"),
            )
        fields |= self._templates(table, sec, known, around)
        fields |= self._counting(table, sec, names)
        return fields if steps and fields["by"] else None

    def _templates(
        self, table: dict[str, Any], sec: Section, known: set[str], around: Around | None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        session = table.get("session", [])
        fields["session"] = tuple([session] if isinstance(session, str) else session)
        for template in fields["session"]:
            self._template(template, (*sec.where, "session"), known | {"key"})
        if "summary" in table:
            summary_known = known | set(SUMMARY_FIELDS) | set(self.params)
            summary_known |= {"around"} if around else set()
            fields["summary"] = self._template(
                table["summary"], (*sec.where, "summary"), summary_known
            )
        fields["details"] = self._names(
            table.get("details", []), (*sec.where, "details"), known | set(DETAIL_FIELDS), "details"
        )
        return fields

    def _counting(self, table: dict[str, Any], sec: Section, names: list[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if len(names) > 1 and self._last_absent:
            fields["count_step"] = len(names) - 2
        if "count_step" in table:
            if table["count_step"] in names:
                fields["count_step"] = names.index(table["count_step"])
            else:
                self.error(
                    f"count_step names unknown step {table['count_step']!r}; steps are: "
                    + ", ".join(names),
                    (*sec.where, "count_step"),
                )
        fields["repeat"] = self.whole(table.get("repeat", 1), (*sec.where, "repeat"), "repeat")
        fields["repeat_window"] = self.duration(
            table.get("repeat_window"), (*sec.where, "repeat_window")
        )
        return fields

    def whole(self, value: Any, where: tuple[Any, ...], what: str) -> int:
        """A whole number >= 1 (or a param holding one); 1 with an error otherwise."""
        number = self.resolve(value, where)
        if number is None:
            return 1  # the bad reference is already reported
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            self.error(f"{what} must be a whole number >= 1, not {number!r}", where)
            return 1
        return number

    def _steps(self, raw: Any, sec: Section) -> list[Step]:
        header = f"[[{sec.prefix}steps]]"
        if not raw:
            what = f"{sec.label.rstrip('.')}" if sec.label else "the rule"
            self.error(
                f"missing key 'steps' in {what}; add at least one {header} table",
                (*sec.where, "steps") if sec.where else ("steps",),
            )
            return []
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            self.error(f"steps must be {header} tables", (*sec.where, "steps"))
            return []
        steps = [self._step(table, i, sec) for i, table in enumerate(raw, 1)]
        self._last_absent = len(steps) > 1 and steps[-1].absent
        seen: set[str] = set()
        for i, step in enumerate(steps, 1):
            where = (f"{sec.prefix}steps", sec.steps_before + i)
            if step.absent and (i != len(steps) or i == 1):
                self.error("only the last step (after another) can be absent", (*where, "absent"))
            if not step.fire_at_end and not step.absent:
                self.error("fire_at_end applies to an absent step only", (*where, "fire_at_end"))
            if step.name in seen:
                self.error(f"duplicate step name {step.name!r}", (*where, "name"))
            seen.add(step.name)
        return steps

    def _step(self, table: dict[str, Any], index: int, sec: Section) -> Step:
        where = (f"{sec.prefix}steps", sec.steps_before + index)
        label = f"{sec.label}steps[{index}]"
        name = self._text(table, "name", where, label) or f"step{index}"
        matches = self._fields(table, STEP_KEYS, where, label)
        if not matches and not self.errors:
            self.error(
                f"{label} has no field matcher (e.g. message = {{ contains = [...] }})", where
            )
        same = table.get("same", [])
        return Step(
            name=name,
            matches=matches,
            count=self.whole(table.get("count", 1), (*where, "count"), "count"),
            within=self.duration(table.get("within"), (*where, "within")),
            window=self.duration(table.get("window"), (*where, "window")),
            merge=self.duration(table.get("merge"), (*where, "merge")),
            same=tuple([same] if isinstance(same, str) else same),
            absent=bool(table.get("absent", False)),
            fire_at_end=bool(table.get("fire_at_end", True)),
        )

    def _fields(
        self, table: dict[str, Any], keys: tuple[str, ...], where: tuple[Any, ...], label: str
    ) -> tuple[Any, ...]:
        """The field matchers of a table whose other keys are `keys`; unknown keys reported."""
        matchers = {k: v for k, v in table.items() if k not in keys}
        matches = self._matches(matchers, where)
        captures = {c for m in matches for c in m.captures()}
        allowed = sorted(set(keys) | set(COLUMNS) | captures)
        for key in matchers:
            if key not in COLUMNS and key not in captures:
                self.error(
                    f"unknown key {key!r} in {label}; {expected(key, allowed)}", (*where, key)
                )
        return tuple(m for m in matches if m.field in COLUMNS or m.field in captures)

    def _withouts(self, raw: Any, names: list[str], sec: Section) -> list[Without]:
        if not isinstance(raw, list):
            self.error(f"without must be [[{sec.prefix}without]] tables", (*sec.where, "without"))
            return []
        found = []
        for index, table in enumerate(raw, 1):
            without = self._without(table, index, names, sec)
            if without is not None:
                found.append(without)
        return found

    def _without(
        self, table: dict[str, Any], index: int, names: list[str], sec: Section
    ) -> Without | None:
        where = (f"{sec.prefix}without", sec.withouts_before + index)
        label = f"{sec.label}without[{index}]"
        others = {k: v for k, v in table.items() if k not in COLUMNS}
        self._unknown(others, WITHOUT_KEYS, where, label)
        between = table.get("between")
        if not (isinstance(between, list) and len(between) == 2):
            self.error(f"{label}.between must name two steps", (*where, "between"))
            return None
        idx = []
        for step in between:
            if step not in names:
                self.error(
                    f"{label}.between names unknown step {step!r}; steps are: " + ", ".join(names),
                    (*where, "between"),
                )
            else:
                idx.append(names.index(step))
        scope = table.get("scope", "key")
        if scope not in tuple(Scope):
            self.error(f"bad scope {scope!r}; expected key or global", (*where, "scope"))
            return None
        matches = self._matches({k: v for k, v in table.items() if k in COLUMNS}, where)
        if len(idx) != 2:
            return None
        name = str(table.get("name", f"without{index}"))
        report = bool(table.get("report", True))
        return Without(name, (idx[0], idx[1]), tuple(matches), Scope(scope), report)

    def around(self, raw: Any) -> Around | None:
        """The `[around]` table: what to count near each finding, and how to say it."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.error("[around] must be a table", ("around",))
            return None
        self._unknown(raw, AROUND_KEYS, ("around",), "[around]")
        tables = raw.get("count", [])
        if not tables or not isinstance(tables, list):
            self.error("[around] needs at least one [[around.count]] table", ("around",))
            return None
        counts = [self._count(t, i) for i, t in enumerate(tables, 1) if isinstance(t, dict)]
        text = raw.get("text", "; around: {list}")
        if not isinstance(text, str) or "{list}" not in text:
            self.error("around.text must be a string with a {list} field", ("around", "text"))
        return Around(
            counts=tuple(counts),
            before=self.duration(raw.get("before", "0s"), ("around", "before")) or timedelta(),
            after=self.duration(raw.get("after", "0s"), ("around", "after")) or timedelta(),
            text=str(text),
        )

    def _count(self, table: dict[str, Any], index: int) -> Count:
        where = ("around.count", index)
        label = f"around.count[{index}]"
        name = self._text(table, "name", where, label) or f"count{index}"
        plural = table.get("plural", f"{name}s")
        matches = self._fields(table, COUNT_KEYS, where, label)
        if not matches and not self.errors:
            self.error(f"{label} has no field matcher", where)
        return Count(name=name, plural=str(plural), matches=matches)
