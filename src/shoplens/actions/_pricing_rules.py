"""Pricing rules: the YAML file a shop writes, validated into typed rules, and which rule wins where they overlap.

A rules file::

    rules:
      - name: summer-apparel
        scope: {category: Apparel}        # or {all: true}, {product_id: P-1}, {segment: Champions}, {channel: web}
        discount_percent: 15              # or discount_amount: 20.00 (off the unit price)
        min_margin_percent: 25            # margin = (price - cost) / price, after the discount
        starts: 2026-06-01                # optional, inclusive
        ends: 2026-08-31                  # optional, inclusive
        priority: 10                      # optional, default 0
        min_quantity: 3                   # optional volume break: only lines of at least 3 units

Precedence where rules overlap on a line: the highest ``priority`` wins; on a tie the most specific scope
(product_id, then category, then segment or channel, then all); then the name, alphabetically. Exactly one rule
prices a line: discounts never stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shoplens.errors import InputError
from shoplens.metrics import SEGMENT_NAMES

ScopeKind = Literal["product_id", "category", "segment", "channel", "all"]
# Lower is more specific; segment and channel are equally specific (each narrows the customers, not the goods).
SPECIFICITY: dict[str, int] = {"product_id": 0, "category": 1, "segment": 2, "channel": 2, "all": 3}
PRECEDENCE_RULE = (
    "highest priority wins; on a tie the most specific scope (product_id, then category, then segment or "
    "channel, then all); then the rule name alphabetically; one rule prices a line, discounts never stack"
)


class Scope(BaseModel):
    """Which lines a rule reaches: exactly one of ``all: true``, ``category``, ``product_id``, ``segment``,
    ``channel``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: Literal[True] | None = None
    category: str | None = Field(default=None, min_length=1)
    product_id: str | None = Field(default=None, min_length=1)
    segment: str | None = Field(default=None, min_length=1)
    channel: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Scope:
        given = [name for name in SPECIFICITY if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of all: true, category, product_id, segment, channel")
        if self.segment is not None and self.segment not in SEGMENT_NAMES:
            raise ValueError(f"unknown RFM segment {self.segment!r}; choose one of: {', '.join(SEGMENT_NAMES)}")
        return self

    @property
    def kind(self) -> ScopeKind:
        for name in ("product_id", "category", "segment", "channel"):
            if getattr(self, name) is not None:
                return name
        return "all"

    @property
    def value(self) -> str | None:
        kind = self.kind
        return None if kind == "all" else getattr(self, kind)

    def describe(self) -> str:
        return "all products" if self.kind == "all" else f"{self.kind} {self.value}"


class PricingRule(BaseModel):
    """One discount with the margin it must keep."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    scope: Scope
    discount_percent: Decimal | None = Field(default=None, gt=0, lt=100, decimal_places=2)
    discount_amount: Decimal | None = Field(default=None, gt=0)
    min_margin_percent: Decimal = Field(ge=0, lt=100)
    starts: date | None = None
    ends: date | None = None
    event: str | None = Field(default=None, min_length=1)  # a special event of the calendar: its dates
    priority: int = 0
    min_quantity: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_discount_and_a_window(self) -> PricingRule:
        if (self.discount_percent is None) == (self.discount_amount is None):
            raise ValueError("give exactly one of discount_percent and discount_amount")
        if self.starts is not None and self.ends is not None and self.ends < self.starts:
            raise ValueError(f"ends {self.ends} is before starts {self.starts}")
        if self.event is not None and (self.starts is not None or self.ends is not None):
            raise ValueError("give either event or starts/ends: an event's dates come from the events calendar")
        return self

    def precedence(self) -> tuple[int, int, str]:
        """Sort key: the rule that sorts first wins a line several rules reach."""
        return (-self.priority, SPECIFICITY[self.scope.kind], self.name)

    def sale_price(self, price: Decimal) -> Decimal:
        """``price`` after this rule's discount, to the cent (never below zero)."""
        if self.discount_percent is not None:
            discounted = price * (Decimal(100) - self.discount_percent) / Decimal(100)
        else:
            assert self.discount_amount is not None
            discounted = price - self.discount_amount
        return max(discounted, Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def covers(self, other: PricingRule, category: str | None) -> bool:
        """True when this rule outranks ``other`` on every line of a product in ``category`` that ``other``
        reaches: it wins the overlap, reaches the product whoever buys, needs no more units, and is in force
        whenever ``other`` is. ``other`` then never prices that product."""
        if self.precedence() >= other.precedence() or self.min_quantity > other.min_quantity:
            return False
        kind = self.scope.kind
        if kind in ("segment", "channel"):
            reaches = other.scope.kind == kind and other.scope.value == self.scope.value
        else:
            reaches = kind in ("all", "product_id") or self.scope.value == category
        starts_in = self.starts is None or (other.starts is not None and self.starts <= other.starts)
        ends_in = self.ends is None or (other.ends is not None and other.ends <= self.ends)
        return reaches and starts_in and ends_in

    def active_on(self, day: date) -> bool:
        return (self.starts is None or self.starts <= day) and (self.ends is None or day <= self.ends)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[PricingRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; names must be unique")
            seen.add(rule.name)
        return self

    def by_precedence(self) -> list[PricingRule]:
        """The rules, the one that wins an overlap first."""
        return sorted(self.rules, key=PricingRule.precedence)


def winning_rule(
    rules: RuleSet,
    *,
    product_id: str,
    category: str | None = None,
    segment: str | None = None,
    channel: str | None = None,
    quantity: int = 1,
    day: date | None = None,
) -> PricingRule | None:
    """The rule that prices one line (``None``: no rule reaches it). ``day=None`` ignores the rules' dates."""
    context = {"product_id": product_id, "category": category, "segment": segment, "channel": channel}
    for rule in rules.by_precedence():
        kind = rule.scope.kind
        if kind != "all" and context[kind] != rule.scope.value:
            continue
        if quantity < rule.min_quantity or (day is not None and not rule.active_on(day)):
            continue
        return rule
    return None


def dated_by_calendar(rules: RuleSet, calendar: Sequence[tuple[date, str]], *, today: date) -> RuleSet:
    """The rules with each ``event`` turned into its dates: the occurrence of that event in the calendar (days named
    so, case ignored, one run of consecutive days) that is on now or comes next, else the latest one. A name the
    calendar does not hold is an InputError naming the rule."""
    days: dict[str, list[date]] = {}
    for day, name in calendar:
        days.setdefault(" ".join(name.casefold().split()), []).append(day)
    dated = []
    for rule in rules.rules:
        if rule.event is None:
            dated.append(rule)
            continue
        found = sorted(set(days.get(" ".join(rule.event.casefold().split()), [])))
        if not found:
            raise InputError(
                f"rule {rule.name!r}: event {rule.event!r} is not in the events calendar (see shoplens events list)"
            )
        runs: list[list[date]] = [[found[0]]]
        for day in found[1:]:
            if (day - runs[-1][-1]).days == 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        chosen = next((run for run in runs if run[-1] >= today), runs[-1])
        dated.append(rule.model_copy(update={"starts": chosen[0], "ends": chosen[-1], "event": None}))
    return RuleSet(rules=dated)


def _where(error: Any, raw: Any) -> str:
    """``rule 'name': field`` (or ``rules[3]: field`` when the rule has no usable name) for a pydantic error."""
    location = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
        index = location[1]
        rule = raw["rules"][index] if isinstance(raw, dict) and isinstance(raw.get("rules"), list) else None
        name = rule.get("name") if isinstance(rule, dict) else None
        label = f"rule {name!r}" if isinstance(name, str) and name else f"rules[{index}]"
        field = ".".join(str(part) for part in location[2:])
        return f"{label}: {field}" if field else label
    return ".".join(str(part) for part in location) or "rules"


def parse_rules(raw: Any, source: str = "rules") -> RuleSet:
    """A validated :class:`RuleSet`; any problem is one :class:`InputError` line naming the rule and field."""
    if not isinstance(raw, dict) or "rules" not in raw:
        raise InputError(f"{source}: expected a mapping with a 'rules:' list at the top")
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(f"{source}: {_where(error, raw)}: {message}") from None


def load_rules(path: Path) -> RuleSet:
    """Read and validate a rules file (YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such rules file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the rules file ({type(exc).__name__})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(f"{path.name}: not valid YAML{where}: {problem}") from None
    return parse_rules(raw, path.name)
