"""What analytics's aggregates record when they change (``kontor_servicekit.aggregate``).

Frozen dataclasses; ``application/`` turns each into the contract event it announces.
"""
