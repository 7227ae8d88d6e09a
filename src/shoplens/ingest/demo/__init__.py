"""A deterministic, realistic demo store: orders, catalogue, web sessions, reviews, spend and calendar.

The store is a Hong Kong online shop selling in HKD. Every random draw comes from numpy's
``Generator(PCG64(...))`` seeded from one ``SeedSequence(seed)``, so the same arguments give
byte-identical files.

Generative model, per customer (vectorised over blocks of customers):

* **Acquisition.** The first order falls on a day drawn with weight *growth x demand*: new-customer
  acquisition grows ~80 % a year, and daily demand multiplies a weekly and a yearly pattern with the
  store's calendar (Chinese New Year run-up and holiday dip, 6.18, Singles' Day, Black Friday,
  Christmas, Boxing Day and a few store sales). The acquisition channel (organic, paid search,
  social, e-mail, referral, marketplace) has its own share, trend and customer quality; customers
  won with a discount code are slightly less loyal.
* **Repeat purchases (BG/NBD-like).** A purchase rate lambda ~ Gamma(r, alpha) per customer; repeat
  purchases follow a Poisson process with that rate on a *demand clock* (time stretched by the daily
  demand, so repeat orders show the same seasonality); after each repeat purchase the customer drops
  out with probability p ~ Beta(a, b). Channel quality scales lambda and b.
* **Spend (Gamma-Gamma-like).** Each customer has nu ~ Gamma(q, gamma); each order's target value is
  Gamma(p, nu). The order gets 1-8 lines whose products are picked near the target price in the
  customer's favourite category (or a category bestseller), so the value distribution is heavy-tailed.
* **Order details.** Time of day follows Hong Kong shopping hours (stored as UTC); device and channel
  mix; ~5 % guest check-outs (any order may be one: no customer id, e-mail, name or phone on it);
  discount codes (welcome codes by channel, sale-day codes, win-back codes); markdowns; shipping
  with a free-shipping threshold per country; destination tax; late deliveries (worse in December
  and around Chinese New Year), sizing problems (apparel, footwear) and damage in transit (fragile
  goods) that drive refunds and reviews.
* **Delivery dates.** Each order has a promised day (its Hong Kong day + 3 days in Hong Kong, + 7
  abroad), ships 2-30 hours after it is placed and arrives by the promised day, or, when late, 1, 2,
  3, ... days after it (geometric, median 2). Cancelled orders never ship; what would ship or
  arrive after the last day has no date yet.
* **Web sessions.** Each order not placed on a marketplace is the end of a converting session
  (views, carts, checkout, a shipping-cost view when shipping was charged, the order); around it the
  same day, Poisson numbers of sessions that stop after viewing, after carting, or at checkout (most
  of those after seeing the shipping cost), so view > cart > checkout > order per day.
* **Reviews** come from customers who ordered the product, more often after a problem; the text is
  built from templates for the recurring themes (late delivery, sizing, packaging, price) or praise,
  and the rating follows the text.

Planted effects (what the analyses should find, and how large each is):

* **Late deliveries cost repeat purchases.** 6 % of orders arrive after the promised day (x1.6 in
  December, x2.5 in the ten days around Chinese New Year, x1.8 abroad; about 7 % overall). After a
  late delivery the customer leaves for good with probability 0.40 (``LEAVES_AFTER_LATE_DELIVERY``),
  on top of the usual dropout, so their 90-day repeat rate is 0.60 x what it would have been: 0.40 x
  the on-time rate lower (``shoplens service``: ``after_late_delivery`` estimates it, matched on
  segment, country and prior purchases; its ``baseline`` is the on-time rate).
* **A channel bringing low-value customers.** Marketplace customers buy least often (purchase rate
  x0.70), drop out soonest (loyalty x0.55) and spend least per order (x0.80) of all channels, so the
  marketplace has the lowest 90-day repeat rate and predicted CLV in ``shoplens acquisition``.
* **Stock-outs.** Stock starts at six weeks of a product's sales and is restocked to that level a lead
  time of 4-11 days after it falls below two weeks of sales, so bestsellers run out now and then
  (``inventory.parquet``; lost sales in ``shoplens service``).

Scale: ``orders.csv`` is written block by block (at most 50,000 customers at a time) and never held
whole in memory. With ``max_order_lines`` the generator keeps adding blocks of customers (in random
order, so cutting a block biases nothing) until exactly that many lines are written; the last order
may then be cut short, and its order-level amounts are computed from the lines it keeps. Files are
sorted by time within a block (and events within chunks of 20,000 orders), ids are unique across blocks.
"""

from shoplens.ingest.demo._feedback import REVIEW_THEMES
from shoplens.ingest.demo._store import DEMO_TIMEZONE, DemoFiles, ProgressCallback, default_end, generate_demo_store

__all__ = ["DEMO_TIMEZONE", "REVIEW_THEMES", "DemoFiles", "ProgressCallback", "default_end", "generate_demo_store"]
