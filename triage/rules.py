"""Rules: the model and the public API (load, check, find the built-ins).

The language is documented in docs/rules.md. The values live in `triage.rulemodel`, the TOML
loader and its located validation in `triage.ruleload` / `triage.rulecheck`; this module is the
one place the pipeline, the CLI and the tests import them from. `triage.engine` runs the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from triage.errors import RuleError, RuleErrors
from triage.ruleload import load_all, load_rule, load_rule_text, ordered
from triage.rulemodel import (
    COLUMNS,
    DETAIL_FIELDS,
    NUMERIC_OPS,
    SUMMARY_FIELDS,
    TABLE_OPS,
    TEXT_COLUMNS,
    Cond,
    FieldMatch,
    Op,
    Rule,
    RuleSet,
    Scope,
    Step,
    Without,
    parse_duration,
)

__all__ = [
    "COLUMNS",
    "DETAIL_FIELDS",
    "NUMERIC_OPS",
    "SUMMARY_FIELDS",
    "TABLE_OPS",
    "TEXT_COLUMNS",
    "Cond",
    "FieldMatch",
    "Op",
    "Rule",
    "RuleSet",
    "Scope",
    "Step",
    "Without",
    "builtin_rules_dir",
    "check_rules",
    "load_rule",
    "load_rule_text",
    "load_rules",
    "parse_duration",
]


def builtin_rules_dir() -> Path:
    """The checkout's `rules/` folder, else the packaged `triage.builtin_rules` data."""
    checkout = Path(__file__).resolve().parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    # Installed: `rules/` ships as the data folder triage/builtin_rules (see pyproject.toml). It
    # has no __init__.py, so importlib.resources would hand back a namespace MultiplexedPath.
    return Path(__file__).resolve().parent / "builtin_rules"


def load_rules(
    dirs: Sequence[Path] = (),
    *,
    builtin: bool = True,
    overrides: Mapping[str, str] | None = None,
) -> RuleSet:
    """Load built-ins, then each dir (adds or overrides by id); RuleErrors lists every error."""
    rules, errors = load_all(_folders(dirs, builtin), overrides or {})
    if errors:
        raise RuleErrors(errors)
    return RuleSet(ordered(rules))


def check_rules(dirs: Sequence[Path] = (), *, builtin: bool = True) -> list[RuleError]:
    """Every error in the rule files, in path order; empty when all rules are valid."""
    return load_all(_folders(dirs, builtin), {})[1]


def _folders(dirs: Sequence[Path], builtin: bool) -> list[Path]:
    return ([builtin_rules_dir()] if builtin else []) + [Path(d) for d in dirs]
