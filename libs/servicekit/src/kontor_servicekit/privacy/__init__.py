"""Privacy by design (issue 13): keys per person, sealing, and the request protocol.

- :mod:`.keys`: the master key, pseudonyms and subject ids, data keys and their store;
- :mod:`.seal`: ``seal``/``unseal`` of an event payload's personal fields;
- :mod:`.participant`: how a service answers export and erasure requests;
- :mod:`.setup`: the key store and pseudonyms a service gets from its settings.

ADR 0034 (keys and sealing) and ADR 0035 (the request flow); ``docs/privacy.md``.
"""
