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
from triage.rulemodel import Around, Rule
from triage.rulesteps import Section, SequenceChecker

SEQUENCE_KEYS = (
    "by", "count_step", "details", "join", "repeat", "repeat_window", "session", "steps",
    "summary", "without",
)  # fmt: skip
RULE_KEYS = tuple(sorted((
    *SEQUENCE_KEYS, "also", "around", "description", "explain", "explained_by", "id", "keep",
    "params", "severity", "title",
)))  # fmt: skip
ALSO_KEYS = tuple(sorted((*SEQUENCE_KEYS, "name")))
INHERITED = ("by", "details", "session", "summary")
"""Keys an `[[also]]` table takes from the top level unless it sets its own."""


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
    broken: set[str] = set()  # ids of files that failed: no follow-on "unknown rule" errors
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
                broken.add(path.stem)
                continue
            by_id[rule.id] = rule  # a later folder overrides an earlier one by id
    errors.extend(check_links(overrides, by_id, broken))
    return list(by_id.values()), errors


def check_links(
    overrides: Mapping[str, str], rules: Mapping[str, Rule], broken: set[str]
) -> list[RuleError]:
    """Errors for `--set` on unknown rules and `explained_by` naming unknown rules (rules whose
    file failed to load are not unknown: their own errors are already listed)."""
    found = []
    for key in sorted(overrides):
        rule_id = key.split(".", 1)[0]
        if rule_id not in rules and rule_id not in broken:
            known = ", ".join(sorted(rules))
            message = f"{key}: unknown rule {rule_id!r}; known rules: {known}"
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


class RuleChecker(SequenceChecker):
    """Builds one Rule from TOML text; every problem becomes a RuleError located by key."""

    def rule(self, overrides: Mapping[str, str]) -> Rule | None:
        """Validate the whole file and build the rule, or None if it cannot be built."""
        data = self._toml()
        if data is None:
            return None
        self._unknown(data, RULE_KEYS, (), "the rule")
        self.params = self._params(data.get("params", {}), overrides)
        head = self._head(data)
        around = self.around(data.get("around"))
        main = self.sequence(data, Section(), around)
        also = self._also(data, around)
        if self.errors or head is None or main is None or None in also:
            return None
        variants = tuple(
            Rule(**head, **fields, around=around, variant=name)
            for name, fields in also
            if fields is not None
        )
        return Rule(**head, **main, around=around, also=variants)

    def _toml(self) -> dict[str, Any] | None:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            match = re.search(r"\(at line (\d+), column \d+\)", str(error))
            line = int(match.group(1)) if match else 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
            self.errors.append(RuleError(f"invalid TOML: {message}", Location(self.path, line)))
            return None

    def _head(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """The fields every sequence of the rule shares: id, title, severity, explanation."""
        rule_id = self._text(data, "id", ())
        title = self._text(data, "title", ())
        stem = Path(self.path).stem
        if rule_id and rule_id != stem:
            self.error(f"id {rule_id!r} does not match the file name {stem!r}; rename one", ("id",))
        severity = self._severity(data)
        explain = self._explain(data.get("explain"))
        explained = data.get("explained_by", [])
        if not isinstance(explained, list) or not all(isinstance(x, str) for x in explained):
            self.error("explained_by must be a list of rule ids", ("explained_by",))
            explained = []
        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(x, str) and x for x in keep):
            self.error("keep must be a list of literal texts", ("keep",))
            keep = []
        if not (rule_id and title and severity and explain):
            return None
        return {
            "id": rule_id, "title": title, "severity": severity, "explain": explain,
            "path": self.path, "description": str(data.get("description", "")),
            "params": tuple(self.params.items()), "explained_by": tuple(explained),
            "keep": tuple(keep),
        }  # fmt: skip

    def _also(
        self, data: dict[str, Any], around: Around | None
    ) -> list[tuple[str, dict[str, Any] | None]]:
        """Each `[[also]]` table as (name, sequence fields), inheriting `INHERITED` keys."""
        raw = data.get("also", [])
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.error("also must be [[also]] tables", ("also",))
            return []
        found: list[tuple[str, dict[str, Any] | None]] = []
        steps_before = withouts_before = 0
        for index, table in enumerate(raw, 1):
            where = ("also", index)
            self._unknown(table, ALSO_KEYS, where, f"also[{index}]")
            sec = Section(f"also[{index}].", "also.", where, steps_before, withouts_before)
            merged = {k: data[k] for k in INHERITED if k in data} | table
            name = str(table.get("name", f"also{index}"))
            found.append((name, self.sequence(merged, sec, around)))
            steps_before += len(table.get("steps", []) or [])
            withouts_before += len(table.get("without", []) or [])
        return found
