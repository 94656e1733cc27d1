"""Invoice documents a person and a machine can read: EN 16931 CII XML (XRechnung for
buyers with a Leitweg-ID), a PDF with every §14 UStG field and the Factur-X PDF/A-3.

- ``model``: the pure input, :class:`~.model.DocumentData`;
- ``cii``: the XML (drafthorse); ``validation``: XSD, EN 16931 and BR-DE rules (saxonche);
- ``pdf``: weasyprint and factur-x; ``issue``: :func:`~.issue.issue_documents`, which refuses
  an invalid document with :class:`~.errors.DocumentInvalid` (its rule ids);
- ``from_invoice``: billing's stored invoice plus a seller to ``DocumentData``.

The renderers are heavy to import (weasyprint, factur-x: seconds on a busy machine), so
this package imports none of them: the service loads them on the first document.
"""
