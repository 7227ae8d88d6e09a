"""The data dictionary of the share package: what each dataset and column means, the k rule, who counts as a person.

It travels in the zip as data_dictionary.md, so a vendor reads the same words as the code that computes the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from shoplens.errors import InputError

DATASETS: tuple[str, ...] = ("funnel_dropoffs", "segment_preferences", "product_affinity", "response_times")
MIN_PAIR_SUPPORT = 0.01  # a pair is considered from 1% of orders together (as `shoplens basket`), and k orders

Column = tuple[str, str, str]  # name, unit, meaning and how it is computed

COLUMNS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "funnel_dropoffs": (
        "Where web shoppers stop: one row per landing page (the page of a session's first event), device and "
        "funnel step (view → cart → checkout → order). A session reaches a step when it has an event of that "
        "type no earlier than the first event of the step before (as in `shoplens funnel`).",
        (
            ("landing_page", "page path", "page of the session's first event; (unknown) when the export has none"),
            ("device", "text", "device of the session's first event; (unknown) when the export has none"),
            ("step", "text", "funnel step: view, cart, checkout or order (a purchase)"),
            ("step_index", "integer", "0 for view, 1 cart, 2 checkout, 3 order"),
            ("sessions", "sessions", "sessions of this landing page and device that reached the step"),
            ("people", "people", "people behind those sessions (see 'Who counts as a person')"),
            (
                "continued_sessions",
                "sessions",
                "of those sessions, how many reached the next step: the next step's row. Empty for order (the last "
                "step) and when the next step's row was suppressed, since giving it here would reveal that row",
            ),
            ("continued_people", "people", "people behind continued_sessions; empty when continued_sessions is"),
            (
                "drop_off_rate",
                "share 0-1",
                "1 - continued_sessions / sessions: the share of sessions that stopped at this step",
            ),
        ),
    ),
    "segment_preferences": (
        "What each RFM segment buys. Every customer with an order is counted once, under the segment `shoplens rfm` "
        "gives them and their favourite product category (the category of most of their merchandise spend; ties "
        "go to the first category by name). Guest orders belong to no segment and are left out.",
        (
            ("segment", "text", "RFM segment (see `shoplens rfm` for the rule of each)"),
            ("category", "text", "favourite product category; (no category) when products carry none"),
            ("people", "people", "customers of the segment whose favourite category this is"),
            ("orders", "orders", "all orders those customers placed"),
            ("units", "units", "all units in those orders (order line quantities)"),
            ("spend", "store currency, 2 decimals", "net merchandise sales of those orders (orders.net)"),
            (
                "share_of_segment_spend",
                "share 0-1",
                "spend / the spend of the segment's released rows (suppressed rows are not in the total)",
            ),
            (
                "favourite_category_share",
                "share 0-1",
                "line amounts in the favourite category / all line amounts of those customers",
            ),
        ),
    ),
    "product_affinity": (
        "Products bought in the same order, one row per pair (product_a < product_b). A pair is considered when "
        "bought together in at least `min_pair_orders` orders (see the manifest: the larger of k and "
        f"{MIN_PAIR_SUPPORT:.1%} of orders), and released when at least k people bought both.",
        (
            ("product_a", "product id", "the first product of the pair (ids sort a before b)"),
            ("product_a_name", "text", "its name in the product catalogue"),
            ("product_b", "product id", "the second product of the pair"),
            ("product_b_name", "text", "its name in the product catalogue"),
            ("orders_together", "orders", "orders containing both products"),
            ("people", "people", "people who bought both in one order"),
            ("support", "share 0-1", "orders_together / all orders with a product line"),
            ("confidence_a_to_b", "share 0-1", "orders_together / orders containing product_a"),
            ("confidence_b_to_a", "share 0-1", "orders_together / orders containing product_b"),
            (
                "lift",
                "ratio",
                "orders_together x all orders / (orders with a x orders with b): above 1, buying one makes the other "
                "more likely than it is anyway",
            ),
        ),
    ),
    "response_times": (
        "How long shoppers take from the start of a session (its first event) to reaching the cart, the checkout "
        "and the order, by device. Measured over the sessions of released funnel_dropoffs rows only, so the "
        "counts here are sums of released funnel cells. No minimum or maximum is given: they describe one person.",
        (
            ("device", "text", "device of the session's first event"),
            ("step", "text", "cart, checkout or order (a purchase)"),
            ("sessions", "sessions", "sessions that reached the step (in released funnel rows)"),
            ("people", "people", "people behind those sessions"),
            ("q1_minutes", "minutes", "first quartile (continuous) of the minutes from session start to the step"),
            ("median_minutes", "minutes", "median of the same"),
            ("q3_minutes", "minutes", "third quartile of the same"),
        ),
    ),
}

PEOPLE_RULE = (
    "A known customer counts once however many sessions or orders they have (distinct pseudonymous customer keys, "
    "which are never shared). A guest session or guest order cannot be linked to any other, so each counts as one "
    "person: a guest who visits twice counts as two, which can only overstate `people` for guests."
)


def _k_rule(k: int) -> str:
    return (
        f"Every released row stands for at least k = {k} people; rows with fewer are suppressed (left out), and the "
        "manifest counts them per dataset (`suppressed_cells` rows, `suppressed_people` = the sum of their "
        "`people`, so a person in two suppressed rows counts twice). Totals and shares are computed from released "
        "rows only, so no suppressed row can be recovered by subtraction."
    )


def dataset_descriptions() -> dict[str, str]:
    """Each dataset's one-paragraph description from the data dictionary, in package order."""
    return {name: COLUMNS[name][0] for name in DATASETS}


def check_share_datasets(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` without repeats, in the order given, when each is a dataset of the package; an InputError naming
    the first that is not."""
    chosen: list[str] = []
    for name in names:
        if name not in DATASETS:
            raise InputError(f"unknown dataset {name[:60]!r}; the share package's datasets are: {', '.join(DATASETS)}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def data_dictionary(k: int, min_pair_orders: int, datasets: Iterable[str] = DATASETS) -> str:
    """The data dictionary as Markdown: the rules, then every column of each of ``datasets`` (all four by
    default)."""
    shown = [name for name in DATASETS if name in set(datasets)]
    parts = [
        "# Data dictionary",
        "",
        "Aggregates of the store's data for vendors and web designers. Nothing here identifies a person: there are "
        "no customer keys, order ids, names, e-mail addresses, free text, or minima and maxima of individual values.",
        "",
        "## The k rule",
        "",
        _k_rule(k),
        "",
        "## Who counts as a person",
        "",
        PEOPLE_RULE,
    ]
    if "product_affinity" in shown:
        parts += ["", f"Product pairs are considered from {min_pair_orders} orders together upwards (min_pair_orders)."]
    for name in shown:
        meaning, columns = COLUMNS[name]
        parts += ["", f"## {name}", "", meaning, "", "| column | unit | meaning |", "|---|---|---|"]
        parts += [f"| {column} | {unit} | {text} |" for column, unit, text in columns]
    return "\n".join(parts) + "\n"
