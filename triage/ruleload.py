"""The rule loader: TOML files -> validated `Rule`s, every error of every file at once.

`RuleChecker` validates one file (top-level keys, params and `--set` overrides, steps,
absences, explanation); `load_all` reads the folders (a later folder overrides by id) and
`ordered` puts every rule after the rules that explain it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from triage.errors import Location, RuleError, RuleErrors
from triage.findings import Explain, Severity
from triage.rulecheck import ValueChecker, expected
from triage.rulemodel import (
    COLUMNS,
    DETAIL_FIELDS,
    DURATION,
    SUMMARY_FIELDS,
    Rule,
    Scope,
    Step,
    Without,
    parse_duration,
)

RULE_KEYS = (
    "by", "count_step", "description", "details", "explain", "explained_by", "id", "keep", "params",
    "session", "severity", "steps", "summary", "title", "without",
)  # fmt: skip
STEP_KEYS = ("absent", "count", "merge", "name", "same", "window", "within")
WITHOUT_KEYS = ("between", "name", "report", "scope")
EXPLAIN_KEYS = ("cause", "impact", "references", "workaround")


def load_rule(path: Path, overrides: Mapping[str, str] | None = None) -> Rule:
    """Load one rule file; RuleErrors with every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleErrors(
            [RuleError(f"cannot read rule file: {error}", Location(str(path)))]
        ) from None
    return load_rule_text(text, str(path), overrides)


def load_rule_text(
    text: str, path: str = "<rule>.toml", overrides: Mapping[str, str] | None = None
) -> Rule:
    """Load a rule from TOML text; `path` names it in errors and its stem must be the id."""
    checker = RuleChecker(path, text)
    rule = checker.rule(overrides or {})
    if checker.errors or rule is None:
        raise RuleErrors(sorted(checker.errors, key=_line))
    return rule


def _line(error: RuleError) -> int:
    return (error.location.line if error.location else None) or 0


def load_all(
    folders: Sequence[Path], overrides: Mapping[str, str]
) -> tuple[list[Rule], list[RuleError]]:
    """Load every `*.toml` of the folders in order (a later one overrides by id), all errors."""
    by_id: dict[str, Rule] = {}
    errors: list[RuleError] = []
    for folder in folders:
        if not folder.is_dir():
            errors.append(RuleError("not a folder of rule files (*.toml)", Location(str(folder))))
            continue
        for path in sorted(folder.glob("*.toml")):
            mine = {
                k.split(".", 1)[1]: v for k, v in overrides.items() if k.split(".")[0] == path.stem
            }
            try:
                rule = load_rule(path, mine)
            except RuleErrors as bad:
                errors.extend(bad.errors)
                continue
            by_id[rule.id] = rule  # a later folder overrides an earlier one by id
    errors.extend(check_links(overrides, by_id, errors))
    return list(by_id.values()), errors


def check_links(
    overrides: Mapping[str, str], rules: Mapping[str, Rule], errors: Sequence[RuleError]
) -> list[RuleError]:
    """Errors for `--set` on unknown rules and `explained_by` naming unknown rules."""
    found = []
    broken = {Path(e.location.path).stem for e in errors if e.location}
    for key in sorted(overrides):
        rule_id = key.split(".", 1)[0]
        if rule_id not in rules and rule_id not in broken:
            known = ", ".join(sorted(rules))
            message = f"--set {key}: unknown rule {rule_id!r}; known rules: {known}"
            found.append(RuleError(message, Location("--set")))
    for rule in rules.values():
        for other in rule.explained_by:
            if other not in rules and other not in broken:
                line = RuleChecker(rule.path, Path(rule.path).read_text("utf-8")).line_of(
                    ("explained_by",)
                )
                found.append(
                    RuleError(
                        f"explained_by names unknown rule {other!r}", Location(rule.path, line)
                    )
                )
    return found


def ordered(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """Sort by id, then put every rule after the rules that explain it (cycle-safe)."""
    by_id = {r.id: r for r in sorted(rules, key=lambda r: r.id)}
    done: dict[str, Rule] = {}

    def visit(rule: Rule, stack: tuple[str, ...]) -> None:
        if rule.id in done or rule.id in stack:
            return
        for dep in rule.explained_by:
            if dep in by_id:
                visit(by_id[dep], (*stack, rule.id))
        done[rule.id] = rule

    for rule in by_id.values():
        visit(rule, ())
    return tuple(done.values())


class RuleChecker(ValueChecker):
    """Builds one Rule from TOML text; every problem becomes a RuleError located by key."""

    def rule(self, overrides: Mapping[str, str]) -> Rule | None:
        """Validate the whole file and build the rule, or None if it cannot be built."""
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"\(at line (\d+), column \d+\)", str(error))
            line = int(match.group(1)) if match else 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
            self.errors.append(RuleError(f"invalid TOML: {message}", Location(self.path, line)))
            return None
        self._unknown(data, RULE_KEYS, (), "the rule")
        self.params = self._params(data.get("params", {}), overrides)
        rule_id = self._text(data, "id", ())
        title = self._text(data, "title", ())
        stem = Path(self.path).stem
        if rule_id and rule_id != stem:
            self.error(f"id {rule_id!r} does not match the file name {stem!r}; rename one", ("id",))
        severity = self._severity(data)
        steps = self._steps(data.get("steps"))
        names = [s.name for s in steps]
        captured = {c for s in steps for c in s.captures()}
        known = set(COLUMNS) | captured | {f"{c}_max" for c in captured}
        withouts = self._withouts(data.get("without", []), names)
        explain = self._explain(data.get("explain"))
        by = self._names(data.get("by", "session"), ("by",), known, "by")
        rest = self._extras(data, names, known)
        if self.errors or not (rule_id and title and severity and steps and explain and by):
            return None
        return Rule(
            id=rule_id, title=title, severity=severity, by=by, steps=tuple(steps), explain=explain,
            path=self.path, without=tuple(withouts), params=tuple(self.params.items()), **rest,
        )  # fmt: skip

    def _extras(self, data: dict[str, Any], names: list[str], known: set[str]) -> dict[str, Any]:
        extras: dict[str, Any] = {"description": str(data.get("description", ""))}
        session = data.get("session", [])
        extras["session"] = tuple([session] if isinstance(session, str) else session)
        for template in extras["session"]:
            self._template(template, ("session",), known | {"key"})
        if "summary" in data:
            extras["summary"] = self._template(
                data["summary"], ("summary",), known | set(SUMMARY_FIELDS) | set(self.params)
            )
        extras["details"] = self._names(
            data.get("details", []), ("details",), known | set(DETAIL_FIELDS), "details"
        )
        explained = data.get("explained_by", [])
        if not isinstance(explained, list) or not all(isinstance(x, str) for x in explained):
            self.error("explained_by must be a list of rule ids", ("explained_by",))
            explained = []
        extras["explained_by"] = tuple(explained)
        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(x, str) and x for x in keep):
            self.error("keep must be a list of literal texts", ("keep",))
            keep = []
        extras["keep"] = tuple(keep)
        if self._last_absent:
            extras["count_step"] = len(names) - 2
        if "count_step" in data:
            if data["count_step"] in names:
                extras["count_step"] = names.index(data["count_step"])
            else:
                self.error(
                    f"count_step names unknown step {data['count_step']!r}; steps are: "
                    + ", ".join(names),
                    ("count_step",),
                )
        return extras

    def _severity(self, data: dict[str, Any]) -> Severity | None:
        text = self._text(data, "severity", ())
        if not text:
            return None
        try:
            return Severity.parse(text)
        except ValueError as error:
            self.error(str(error).replace("unknown severity", "bad severity"), ("severity",))
            return None

    def _params(self, table: Any, overrides: Mapping[str, str]) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.error("[params] must be a table of name = value", ("params",))
            return {}
        params = dict(table)
        for name, raw in overrides.items():
            if name not in params:
                known = ", ".join(sorted(params)) or "none"
                self.errors.append(RuleError(
                    f"--set {Path(self.path).stem}.{name}: unknown param {name!r}; params: {known}",
                    Location("--set"),
                ))  # fmt: skip
                continue
            params[name] = self._coerce(params[name], raw, name)
        return params

    def _coerce(self, default: Any, raw: str, name: str) -> Any:
        try:
            if isinstance(default, bool):
                return {"true": True, "false": False}[raw.lower()]
            if isinstance(default, int):
                return int(raw)
            if isinstance(default, float):
                return float(raw)
            if isinstance(default, str) and DURATION.match(default):
                parse_duration(raw)
            return raw
        except (ValueError, KeyError) as error:
            detail = (
                str(error)
                if isinstance(error, ValueError) and "duration" in str(error)
                else (f"expected a {type(default).__name__} like {default!r}")
            )
            self.errors.append(RuleError(
                f"--set {Path(self.path).stem}.{name}={raw}: {detail}", Location("--set")
            ))  # fmt: skip
            return default

    def _steps(self, raw: Any) -> list[Step]:
        if not raw:
            self.error(
                "missing key 'steps' in the rule; add at least one [[steps]] table", ("steps",)
            )
            return []
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            self.error("steps must be [[steps]] tables", ("steps",))
            return []
        steps = [self._step(table, i) for i, table in enumerate(raw, 1)]
        self._last_absent = len(steps) > 1 and steps[-1].absent
        seen: set[str] = set()
        for i, step in enumerate(steps, 1):
            if step.absent and (i != len(steps) or i == 1):
                self.error(
                    "only the last step (after another) can be absent", ("steps", i, "absent")
                )
            if step.name in seen:
                self.error(f"duplicate step name {step.name!r}", ("steps", i, "name"))
            seen.add(step.name)
        return steps

    def _step(self, table: dict[str, Any], index: int) -> Step:
        where = ("steps", index)
        name = self._text(table, "name", where, f"steps[{index}]") or f"step{index}"
        matchers = {k: v for k, v in table.items() if k not in STEP_KEYS}
        matches = self._matches(matchers, where)
        captures = {c for m in matches for c in m.captures()}
        allowed = sorted(set(STEP_KEYS) | set(COLUMNS) | captures)
        for key in matchers:
            if key not in COLUMNS and key not in captures:
                self.error(
                    f"unknown key {key!r} in steps[{index}]; {expected(key, allowed)}",
                    (*where, key),
                )
        if not matches and not self.errors:
            self.error(
                f"steps[{index}] has no field matcher (e.g. message = {{ contains = [...] }})",
                where,
            )
        count = self.resolve(table.get("count", 1), (*where, "count"))
        if count is None:
            count = 1  # the bad reference is already reported
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.error(f"count must be a whole number >= 1, not {count!r}", (*where, "count"))
            count = 1
        same = table.get("same", [])
        return Step(
            name=name,
            matches=tuple(m for m in matches if m.field in COLUMNS or m.field in captures),
            count=count,
            within=self.duration(table.get("within"), (*where, "within")),
            window=self.duration(table.get("window"), (*where, "window")),
            merge=self.duration(table.get("merge"), (*where, "merge")),
            same=tuple([same] if isinstance(same, str) else same),
            absent=bool(table.get("absent", False)),
        )

    def _withouts(self, raw: Any, names: list[str]) -> list[Without]:
        if not isinstance(raw, list):
            self.error("without must be [[without]] tables", ("without",))
            return []
        found = []
        for index, table in enumerate(raw, 1):
            where = ("without", index)
            self._unknown(
                {k: v for k, v in table.items() if k not in COLUMNS},
                WITHOUT_KEYS, where, f"without[{index}]",
            )  # fmt: skip
            between = table.get("between")
            if not (isinstance(between, list) and len(between) == 2):
                self.error(f"without[{index}].between must name two steps", (*where, "between"))
                continue
            idx = []
            for step in between:
                if step not in names:
                    self.error(
                        f"without[{index}].between names unknown step {step!r}; steps are: "
                        + ", ".join(names),
                        (*where, "between"),
                    )
                else:
                    idx.append(names.index(step))
            scope = table.get("scope", "key")
            if scope not in tuple(Scope):
                self.error(f"bad scope {scope!r}; expected key or global", (*where, "scope"))
                continue
            matches = self._matches({k: v for k, v in table.items() if k in COLUMNS}, where)
            if len(idx) == 2:
                name = str(table.get("name", f"without{index}"))
                report = bool(table.get("report", True))
                between_steps = (idx[0], idx[1])
                found.append(Without(name, between_steps, tuple(matches), Scope(scope), report))
        return found

    def _explain(self, raw: Any) -> Explain | None:
        if not isinstance(raw, dict):
            self.error(
                "missing key 'explain' in the rule; add [explain] with cause, impact, workaround",
                ("explain",),
            )
            return None
        self._unknown(raw, EXPLAIN_KEYS, ("explain",), "[explain]")
        parts = [
            self._text(raw, k, ("explain",), "[explain]") for k in ("cause", "impact", "workaround")
        ]
        refs = raw.get("references", [])
        if not isinstance(refs, list):
            self.error("references must be a list of links", ("explain", "references"))
            refs = []
        if not all(parts):
            return None
        return Explain(
            cause=parts[0].strip(),
            impact=parts[1].strip(),
            workaround=parts[2].strip(),
            references=tuple(refs),
        )
