"""Support's channel adapters: e-mail in and out, chat, phone and social logging.

Each turns what a channel received into an ``InboundMessage`` for the ticket core
(``application/inbound.py``) and sends what the core queued as ``deliveries``.
"""
