"""Fake but plausible personal data: names, e-mail addresses, mobile numbers and postal addresses by country."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplens.ingest.demo._columns import _join, _texts
from shoplens.ingest.demo._sampling import IntArray, _categorical, _GroupedChoice
from shoplens.ingest.demo._shop import COUNTRIES, HONG_KONG

GIVEN_NAMES = (
    "Ada", "Alan", "Angel", "Ben", "Calvin", "Carmen", "Cindy", "Derek", "Eric", "Esther", "Fiona", "Gary", "Grace",
    "Hazel", "Ivan", "Jacky", "Janice", "Jason", "Karen", "Kelvin", "Ling", "Mandy", "Matthew", "Natalie", "Oscar",
    "Peggy", "Queenie", "Raymond", "Sammi", "Stephanie", "Terence", "Tiffany", "Vivian", "Wing", "Winnie", "Yvonne",
    "Zoe", "Kenneth", "Priscilla", "Edmond",
)  # fmt: skip
SURNAMES = (
    "Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Lam", "Tsang", "Yip", "Chow", "Tang", "Kwok", "Law",
    "Fung", "Mak", "Cheng", "Yeung", "Lo", "Siu", "Tam", "Choi", "Kwan", "Tse", "Lai", "Poon", "Yuen", "Smith",
    "Taylor", "Brown", "Tan", "Lim", "Lin", "Huang",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.com.hk", "outlook.com", "hotmail.com", "icloud.com", "netvigator.com")
EMAIL_DOMAIN_SHARES = (0.42, 0.16, 0.14, 0.12, 0.11, 0.05)
BUILDING_NAMES = ("Kam Fung", "Wing On", "Tai Hing", "Fortune", "Harbour View", "Lok Fu", "Sun Hing", "Po Lam",
                  "Hoi Tat", "Mei Foo", "Sereno", "Grand Pacific")  # fmt: skip
BUILDING_KINDS = ("Court", "Mansion", "Garden", "Tower", "Building", "House", "Centre")


@dataclass(frozen=True)
class _PersonalData:
    region: IntArray  # index into REGION_NAMES
    email: Any  # Arrow string arrays from here on
    name: Any
    phone: Any
    address: Any

    def take(self, indices: IntArray) -> _PersonalData:
        rows = pa.array(indices)
        return _PersonalData(
            self.region[indices], self.email.take(rows), self.name.take(rows), self.phone.take(rows),
            self.address.take(rows),
        )  # fmt: skip


def _choice_within_country(weights_per_country: Sequence[Sequence[float]]) -> _GroupedChoice:
    country_of_item = [index for index, weights in enumerate(weights_per_country) for _ in weights]
    weights = [weight for country_weights in weights_per_country for weight in country_weights]
    return _GroupedChoice.build(np.array(country_of_item, dtype=np.int64), np.array(weights), len(weights_per_country))


REGION_NAMES = tuple(region for country in COUNTRIES for region, _ in country.regions)
REGION_CHOICE = _choice_within_country([[weight for _, weight in country.regions] for country in COUNTRIES])
STREET_NAMES = tuple(street for country in COUNTRIES for street in country.streets)
STREET_CHOICE = _choice_within_country([[1.0] * len(country.streets) for country in COUNTRIES])
MOBILE_FIRST_DIGITS = tuple(digit for country in COUNTRIES for digit in country.mobile_first_digits)
MOBILE_FIRST_DIGIT_CHOICE = _choice_within_country([[1.0] * len(c.mobile_first_digits) for c in COUNTRIES])


def _personal_data(rng: np.random.Generator, country: IntArray, first_customer_number: int) -> _PersonalData:
    """Fake but plausible names, e-mails, phones and addresses, in the customers' order."""
    count = len(country)
    given = _texts(GIVEN_NAMES, rng.integers(0, len(GIVEN_NAMES), count))
    surname = _texts(SURNAMES, rng.integers(0, len(SURNAMES), count))
    # The number makes e-mails unique across the store; it is not the customer id (that follows first-order time).
    email_number = pc.cast(pa.array(first_customer_number + rng.permutation(count), pa.int64()), pa.string())
    domain = _texts(EMAIL_DOMAINS, _categorical(rng, EMAIL_DOMAIN_SHARES, count))
    email = _join(pc.utf8_lower(given), ".", pc.utf8_lower(surname), email_number, "@", domain)

    # Mobile numbers: a country's leading digit and its usual grouping (+852 9123 4567, +886 912 345 678, ...).
    digits = _join(
        _texts(MOBILE_FIRST_DIGITS, MOBILE_FIRST_DIGIT_CHOICE.sample(rng, country)),
        pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10**9, count), pa.int64()), pa.string()), 9, "0"),
    )

    def part(first: int, stop: int) -> Any:
        return pc.utf8_slice_codeunits(digits, first, stop)

    grouped = {8: _join(part(0, 4), part(4, 8), separator=" "),
               9: _join(part(0, 3), part(3, 6), part(6, 9), separator=" "),
               10: _join(part(0, 4), part(4, 10), separator=" ")}  # fmt: skip
    digit_count = np.array([c.mobile_digits for c in COUNTRIES])[country]
    national = pc.if_else(
        pa.array(digit_count == 8), grouped[8], pc.if_else(pa.array(digit_count == 9), grouped[9], grouped[10])
    )
    phone = _join(_texts([c.dialling_code for c in COUNTRIES], country), national, separator=" ")

    region = REGION_CHOICE.sample(rng, country)
    region_name = _texts(REGION_NAMES, region)
    street = _join(
        pc.cast(pa.array(rng.integers(1, 400, count), pa.int64()), pa.string()),
        _texts(STREET_NAMES, STREET_CHOICE.sample(rng, country)),
        separator=" ",
    )
    floor = pc.cast(pa.array(rng.integers(1, 40, count), pa.int64()), pa.string())
    flat = _texts(tuple("ABCDEFGH"), rng.integers(0, 8, count))
    building = _join(
        _texts(BUILDING_NAMES, rng.integers(0, len(BUILDING_NAMES), count)),
        _texts(BUILDING_KINDS, rng.integers(0, len(BUILDING_KINDS), count)),
        separator=" ",
    )
    hong_kong_address = _join(_join("Flat ", flat), _join(floor, "/F"), building, street, region_name, separator=", ")
    other_address = _join(street, _join("Apt ", floor, flat), region_name, separator=", ")
    address = pc.if_else(pa.array(country == HONG_KONG), hong_kong_address, other_address)
    return _PersonalData(region, email, _join(given, surname, separator=" "), phone, address)
