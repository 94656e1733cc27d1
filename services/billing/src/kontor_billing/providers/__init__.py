"""Billing's calls to systems outside Kontor (the card/wallet provider)."""
