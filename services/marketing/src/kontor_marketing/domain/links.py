"""Signed links in marketing mails: the kit's (``kontor_servicekit.links``), which orders'
privacy request links use too."""

from kontor_servicekit.links import BadLink, LinkSigner

__all__ = ["BadLink", "LinkSigner"]
