"""JUnit XML for CI: a failing test case per finding, a passing one per quiet rule and input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from triage.findings import Finding, Report
from triage.reports.common import one_line
from triage.reports.json_report import iso

EVIDENCE_LINES = 50
# Characters XML 1.0 cannot carry at all, even escaped; a log line can contain any of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(report: Report) -> str:
    """The report as a JUnit XML document (one `testsuite` named triage)."""
    cases = [_failure(f) for f in report.findings]
    cases += [_passing(rule) for rule in _quiet_rules(report)]
    cases += [_input_case(report, i) for i in range(len(report.inputs))]
    failures = len(report.findings)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": "triage", **counts, "time": "0"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "triage", **counts, "time": "0", "timestamp": iso(report.generated_at) or ""},
    )
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _clean(text: str) -> str:
    return _NOT_XML.sub("?", text)


def _case(classname: str, name: str) -> ET.Element:
    return ET.Element(
        "testcase", {"classname": _clean(classname), "name": _clean(name), "time": "0"}
    )


def _failure(f: Finding) -> ET.Element:
    case = _case(f"triage.{f.rule}", f.session)
    failure = ET.SubElement(
        case, "failure", {"message": _clean(one_line(f.summary, 500)), "type": str(f.severity)}
    )
    lines = [f"{f.title} [{f.rule}] severity={f.severity} count={f.count}"]
    lines.append(f"first={iso(f.first) or '-'} last={iso(f.last) or '-'}")
    if f.caused_by:
        lines.append(f"caused by: {f.caused_by}")
    lines += [f"{e.path}:{e.line}  {one_line(e.text, 500)}" for e in f.evidence[:EVIDENCE_LINES]]
    if len(f.evidence) > EVIDENCE_LINES:
        lines.append(f"... {len(f.evidence) - EVIDENCE_LINES} more evidence lines")
    if f.explain.workaround:
        lines.append(f"workaround: {f.explain.workaround}")
    failure.text = _clean("\n".join(lines))
    return case


def _quiet_rules(report: Report) -> list[str]:
    """Rules that ran without firing (a report loaded from old JSON may not list the rules that
    ran: then those with a near miss are the ones known to have run)."""
    fired = {f.rule for f in report.findings}
    ran = set(report.rules) or {n.rule for n in report.near_misses}
    return sorted(ran - fired)


def _passing(rule: str) -> ET.Element:
    return _case(f"triage.{rule}", "no finding")


def _input_case(report: Report, index: int) -> ET.Element:
    i = report.inputs[index]
    case = _case("triage.inputs", i.path)
    out = ET.SubElement(case, "system-out")
    out.text = _clean(
        f"format={i.format} lines={i.lines} events={i.events} continuations={i.continuations} "
        f"noise={i.noise} unparsed={i.unparsed}"
    )
    return case
