"""Analytics's subscriptions: contract event -> use case, built in ``main.py``."""
