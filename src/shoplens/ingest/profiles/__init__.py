"""Built-in source profiles. Each registers itself through the same public interface a third party uses."""

from shoplens.ingest.profiles import (
    ads,
    cdnow,
    feedback,
    generic,
    online_retail,
    service,
    shopify,
    shopify_customers,
    shopify_products,
    woocommerce,
    woocommerce_orders,
    woocommerce_products,
)

__all__ = [
    "ads",
    "cdnow",
    "feedback",
    "generic",
    "online_retail",
    "service",
    "shopify",
    "shopify_customers",
    "shopify_products",
    "woocommerce",
    "woocommerce_orders",
    "woocommerce_products",
]
