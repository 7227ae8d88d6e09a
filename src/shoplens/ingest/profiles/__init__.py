"""Built-in source profiles. Each registers itself through the same public interface a third party uses."""

from shoplens.ingest.profiles import cdnow, feedback, generic, online_retail, shopify, woocommerce, woocommerce_orders

__all__ = ["cdnow", "feedback", "generic", "online_retail", "shopify", "woocommerce", "woocommerce_orders"]
