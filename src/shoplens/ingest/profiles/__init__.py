"""Built-in source profiles. Each registers itself through the same public interface a third party uses."""

from shoplens.ingest.profiles import (
    ads,
    cdnow,
    feedback,
    ga4,
    generic,
    online_retail,
    service,
    shopify,
    shopify_customers,
    shopify_products,
    shoppers_sessions,
    web_events,
    woocommerce,
    woocommerce_orders,
    woocommerce_products,
)

__all__ = [
    "ads",
    "cdnow",
    "feedback",
    "ga4",
    "generic",
    "online_retail",
    "service",
    "shopify",
    "shopify_customers",
    "shopify_products",
    "shoppers_sessions",
    "web_events",
    "woocommerce",
    "woocommerce_orders",
    "woocommerce_products",
]
