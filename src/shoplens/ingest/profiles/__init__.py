"""Built-in source profiles. Each registers itself through the same public interface a third party uses."""

from shoplens.ingest.profiles import (
    cdnow,
    feedback,
    generic,
    online_retail,
    shopify,
    shopify_customers,
    shopify_products,
    woocommerce,
    woocommerce_orders,
    woocommerce_products,
)

__all__ = [
    "cdnow",
    "feedback",
    "generic",
    "online_retail",
    "shopify",
    "shopify_customers",
    "shopify_products",
    "woocommerce",
    "woocommerce_orders",
    "woocommerce_products",
]
