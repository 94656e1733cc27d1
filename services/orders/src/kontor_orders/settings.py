from kontor_servicekit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    """Orders settings: ``KONTOR_ORDERS_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "orders"
    default_http_port = 8002

    max_body_bytes: int = 6 * 1024 * 1024
    """Complaint photos are up to 5 MiB; JSON bodies stay far below."""

    cart_abandon_after_s: float = 2 * 60 * 60
    """A cart in checkout with no activity for this long is abandoned (CartAbandoned)."""
    checkout_price_lock_s: float = 30 * 60
    """How long checkout fixes the prices the customer saw (shown as
    ``prices_locked_until``); an order from the cart within it charges them."""
    cart_sweep_interval_s: float = 60.0
    """How often the service looks for abandoned carts."""
    withdrawal_rate_limit: int = 10
    """Public withdrawal requests per client address and minute (then 429)."""
