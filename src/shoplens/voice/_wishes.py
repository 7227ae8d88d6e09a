"""Service-upgrade wishes: what customers ask to have, kept apart from what they complain about.

A sentence is a wish when it has a wish marker ("I wish…", "would love…", "please add…", "if only…", "wish it
came in…") and names one of the upgrades below. Upgrades are a different signal from complaints: the customer
is not unhappy with what she got, she wants more — faster delivery, more sizes, other ways to pay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shoplens.voice._customers import total_spend
from shoplens.voice._text import any_of_words, quote, split_sentences

_WISH_MARKER = re.compile(
    r"\b(wish(ed|es)?|i'?d love|would love|would be (so )?(nice|great|good|helpful|better)|would like|"
    r"would prefer|hope (you|they|the)|please (add|offer|make|bring|stock|consider|do)|should (offer|make|add|"
    r"come|carry|stock)|if only|could you|can you (add|offer|make)|needs? to (offer|have|add|come)|"
    r"it'?d be (nice|great)|wish (it|they|this|these) (came|come|were|was|had)|make (it|this|them|these) in|"
    r"bring (it|this|them) (back )?in|more options?|would buy (it|this|them|another) (if|in))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class UpgradeClass:
    name: str
    pattern: re.Pattern[str]


UPGRADE_CLASSES: tuple[UpgradeClass, ...] = (
    UpgradeClass(
        "faster delivery",
        any_of_words(
            r"express",
            r"next[- ]day",
            r"same[- ]day",
            r"(faster|quicker|speedier|shorter) (delivery|shipping|dispatch)",
            r"(ship|deliver|dispatch)(ed)? (faster|quicker|sooner)",
            r"arrived? sooner",
            r"expedited",
        ),
    ),
    UpgradeClass(
        "more sizes",
        any_of_words(
            r"petites?",
            r"plus[- ]sizes?",
            r"tall sizes?",
            r"(more|larger|bigger|smaller|extended|wider range of|half) sizes?",
            r"size range",
            r"xxs",
            r"xxl",
            r"xxxl",
            r"\d?x{1,3}l",
            r"in (a )?(petite|tall|plus|larger|smaller|bigger) (size|version|length)?",
        ),
    ),
    UpgradeClass(
        "payment methods",
        any_of_words(
            r"paypal",
            r"apple pay",
            r"google pay",
            r"klarna",
            r"afterpay",
            r"pay later",
            r"instal?l?ments?",
            r"alipay",
            r"wechat pay",
            r"payme",
            r"octopus",
            r"cash on delivery",
            r"bank transfer",
            r"(more|other|different) (payment|ways to pay)( options| methods)?",
        ),
    ),
    UpgradeClass(
        "more colours and styles",
        any_of_words(
            r"(more|other|different|another|additional) (colou?rs?|prints?|patterns?|styles?|shades?)",
            r"in (a )?(black|white|navy|blue|red|green|pink|grey|gray|brown|beige|neutral) (colou?r|version)?",
        ),
    ),
    UpgradeClass(
        "easier returns",
        any_of_words(r"free returns?", r"(easier|simpler|free) (returns?|exchanges?)", r"return label", r"drop[- ]off"),
    ),
)


@dataclass
class UpgradeWish:
    name: str
    texts: int
    customers: int
    value: float  # spend of the customers asking
    quotes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "texts": self.texts,
            "customers": self.customers,
            "value": self.value,
            "quotes": self.quotes,
        }


def wish_classes(sentence: str) -> list[str]:
    """The upgrade classes a sentence wishes for (empty when it is no wish)."""
    if not _WISH_MARKER.search(sentence):
        return []
    return [c.name for c in UPGRADE_CLASSES if c.pattern.search(sentence)]


def upgrade_wishes(
    texts: Sequence[str],
    customer_keys: Sequence[str | None],
    *,
    spend: Mapping[str, Decimal] | None = None,
    max_quotes: int = 3,
) -> list[UpgradeWish]:
    """One entry per upgrade class with at least one wish, most asked-for first."""
    spend = spend or {}
    found: dict[str, tuple[set[int], list[str]]] = {}
    for index, text in enumerate(texts):
        for sentence in split_sentences(text):
            for name in wish_classes(sentence):
                owners, quotes = found.setdefault(name, (set(), []))
                owners.add(index)
                shown = quote(sentence)
                if len(quotes) < max_quotes and shown not in quotes:
                    quotes.append(shown)
    wishes = []
    for upgrade in UPGRADE_CLASSES:
        if upgrade.name not in found:
            continue
        owners, quotes = found[upgrade.name]
        customers = {customer_keys[i] for i in owners if customer_keys[i]}
        wishes.append(
            UpgradeWish(
                upgrade.name,
                texts=len(owners),
                customers=len(customers),
                value=total_spend(spend, customers),
                quotes=quotes,
            )
        )
    return sorted(wishes, key=lambda w: (-w.texts, w.name))
