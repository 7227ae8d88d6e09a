"""Settings: the home's settings file, environment variables above it, arguments above both; the value checks."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shoplens.config import (
    SETTINGS_FILE,
    STORE_SETTING_KEYS,
    Settings,
    StoreSettingsFile,
    currency_code,
    locale_name,
    masked_url,
    store_name_text,
    warehouse_address,
)
from shoplens.errors import ConfigError, InputError

DEFAULTS = {"timezone": "UTC", "currency": "USD", "store_name": "My shop", "locale": "en_US", "warehouse_url": None}


def exactly(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern that matches ``message`` and nothing longer."""
    return f"^{re.escape(message)}$"


@pytest.fixture(autouse=True)
def _no_store_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in STORE_SETTING_KEYS:
        monkeypatch.delenv(f"SHOPLENS_{key.upper()}", raising=False)
    monkeypatch.delenv("SHOPLENS_STORE_TIMEZONE", raising=False)


def test_a_fresh_home_has_the_defaults(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    assert settings.store_settings() == DEFAULTS
    assert not (tmp_path / "home").exists(), "reading settings creates nothing"


def test_arguments_beat_the_environment_which_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    StoreSettingsFile(home).set("timezone", "Asia/Hong_Kong")
    StoreSettingsFile(home).set("currency", "HKD")
    assert (Settings(home=home).timezone, Settings(home=home).currency) == ("Asia/Hong_Kong", "HKD")
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "Europe/London")
    assert (Settings(home=home).timezone, Settings(home=home).currency) == ("Europe/London", "HKD")
    assert Settings(home=home, timezone="America/New_York").timezone == "America/New_York"


def test_the_home_named_in_the_environment_is_the_one_whose_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    StoreSettingsFile(tmp_path / "one").set("store_name", "Shop one")
    StoreSettingsFile(tmp_path / "two").set("store_name", "Shop two")
    monkeypatch.setenv("SHOPLENS_HOME", str(tmp_path / "two"))
    assert Settings().store_name == "Shop two"
    assert Settings(home=tmp_path / "one").store_name == "Shop one"


def test_the_old_time_zone_variable_still_works_below_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    StoreSettingsFile(home).set("timezone", "Asia/Hong_Kong")
    monkeypatch.setenv("SHOPLENS_STORE_TIMEZONE", "Asia/Tokyo")
    assert Settings(home=home).timezone == "Asia/Tokyo"
    assert StoreSettingsFile(home).origins()["timezone"] == "environment (SHOPLENS_STORE_TIMEZONE, deprecated)"
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "Europe/Berlin")
    assert Settings(home=home).timezone == "Europe/Berlin"
    assert StoreSettingsFile(home).origins()["timezone"] == "environment (SHOPLENS_TIMEZONE)"


def test_a_bad_value_in_the_environment_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLENS_CURRENCY", "EURO")
    with pytest.raises(ValidationError, match="currency must be an ISO 4217 code of three letters"):
        Settings(home=tmp_path)


def test_the_file_is_private_written_whole_and_keeps_only_what_was_set(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings_file = StoreSettingsFile(home)
    settings_file.set("warehouse_url", "postgresql://shop:s3cret@db.example:5432/shop")
    settings_file.set("locale", "en-gb")
    path = home / SETTINGS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "locale": "en_GB",
        "warehouse_url": "postgresql://shop:s3cret@db.example:5432/shop",
    }
    assert sorted(p.name for p in home.iterdir()) == [SETTINGS_FILE], "no temporary file is left behind"
    assert settings_file.unset("locale") is True
    assert settings_file.unset("locale") is False
    assert json.loads(path.read_text()) == {"warehouse_url": "postgresql://shop:s3cret@db.example:5432/shop"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_bad_value_is_not_kept(tmp_path: Path) -> None:
    settings_file = StoreSettingsFile(tmp_path)
    settings_file.set("timezone", "Europe/Paris")
    with pytest.raises(InputError, match=exactly("unknown time zone 'Europe/Pariss'")):
        settings_file.set("timezone", "Europe/Pariss")
    message = "unknown setting 'zone'; the settings are: timezone, currency, store_name, locale, warehouse_url"
    with pytest.raises(InputError, match=exactly(message)):
        settings_file.set("zone", "UTC")
    assert settings_file.read() == {"timezone": "Europe/Paris"}


def test_settings_kept_together_are_all_kept_or_none(tmp_path: Path) -> None:
    settings_file = StoreSettingsFile(tmp_path)
    message = (
        "unknown time zone 'Mars/Base'; currency must be an ISO 4217 code of three letters such as USD or EUR, "
        "not 'XXXX'"
    )
    with pytest.raises(InputError, match=exactly(message)):
        settings_file.set_many({"store_name": "Tea & Co", "timezone": "Mars/Base", "currency": "XXXX"})
    assert settings_file.read() == {}
    kept = settings_file.set_many({"store_name": " Tea & Co ", "currency": "hkd", "locale": "zh-hk"})
    assert kept == {"store_name": "Tea & Co", "currency": "HKD", "locale": "zh_HK"}
    assert settings_file.read() == kept


def test_a_locale_of_no_known_language_is_refused() -> None:
    message = (
        "locale must be a language and region such as en_GB or zh_HK, not 'zz_ZZ': 'zz' is not a language code the "
        "system's locale table knows"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        locale_name("zz_ZZ")
    assert [locale_name(name) for name in ("yue_HK", "fil_PH", "sr_Latn_RS")] == ["yue_HK", "fil_PH", "sr_Latn_RS"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", f"{SETTINGS_FILE} is not valid JSON (line 1); fix it or delete it"),
        ('["UTC"]', f"{SETTINGS_FILE} must hold one JSON object of text values; fix it or delete it"),
        ('{"timezone": 8}', f"{SETTINGS_FILE} must hold one JSON object of text values; fix it or delete it"),
    ],
)
def test_a_damaged_file_says_which_file(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / SETTINGS_FILE).write_text(text)
    with pytest.raises(ConfigError) as caught:
        Settings(home=tmp_path)
    assert str(caught.value) == f"{tmp_path}/{problem}"


@pytest.mark.parametrize(
    ("given_value", "kept"),
    [("usd", "USD"), (" EUR ", "EUR"), ("HKD", "HKD")],
)
def test_currency_codes_are_three_letters_in_capitals(given_value: str, kept: str) -> None:
    assert currency_code(given_value) == kept


@pytest.mark.parametrize("bad", ["US$", "EURO", "E1R", "", "€"])
def test_currency_of_another_shape_is_refused(bad: str) -> None:
    message = f"currency must be an ISO 4217 code of three letters such as USD or EUR, not {bad!r}"
    with pytest.raises(ValueError, match=exactly(message)):
        currency_code(bad)


@pytest.mark.parametrize(
    ("given_value", "kept"),
    [("en_GB", "en_GB"), ("en-gb", "en_GB"), ("zh_HK", "zh_HK"), ("zh_hant_hk", "zh_Hant_HK"), ("es_419", "es_419")],
)
def test_locales_are_language_script_and_region(given_value: str, kept: str) -> None:
    assert locale_name(given_value) == kept


@pytest.mark.parametrize("bad", ["english", "en_GBR", "e_GB", "en_G", "", "en_GB.UTF-8"])
def test_locale_of_another_shape_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="locale must be a language and region such as en_GB or zh_HK"):
        locale_name(bad)


def test_store_names_are_one_line_of_text() -> None:
    assert store_name_text("  Tea & Co ") == "Tea & Co"
    assert store_name_text("茶莊") == "茶莊"
    for bad, message in [
        ("   ", "store_name must not be empty"),
        ("Tea\nCo", "store_name must be one line of at most 200 printable characters"),
        ("x" * 201, "store_name must be one line of at most 200 printable characters"),
    ]:
        with pytest.raises(ValueError, match=exactly(message)):
            store_name_text(bad)


@pytest.mark.parametrize(
    "url", ["postgresql://shop@db:5432/shop", "postgresql+psycopg://db/shop", "spark://local", "sc://spark:15002"]
)
def test_warehouse_addresses_shoplens_can_use(url: str) -> None:
    assert warehouse_address(url) == url


def test_another_warehouse_address_is_refused_without_showing_its_password() -> None:
    message = (
        "warehouse_url must start with postgresql://, postgresql+psycopg://, spark:// or sc:// and name a server, "
        "not 'mysql://shop:***@db/shop'"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        warehouse_address("mysql://shop:s3cret@db/shop")
    with pytest.raises(ValueError, match="and name a server"):
        warehouse_address("postgresql://")


_PASSWORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@given(password=_PASSWORDS)
def test_a_password_in_the_address_is_never_shown(password: str) -> None:
    quoted = quote(password, safe="")
    assert (
        masked_url(f"postgresql://shop:{quoted}@db.example:5432/shop") == "postgresql://shop:***@db.example:5432/shop"
    )
    assert (
        masked_url(f"postgresql://db.example/shop?sslmode=require&password={quoted}")
        == "postgresql://db.example/shop?sslmode=require&password=***"
    )


def test_a_spark_connect_token_is_never_shown() -> None:
    assert masked_url("sc://spark:15002/;token=abc123;user_id=shop") == "sc://spark:15002/;token=***;user_id=shop"
    assert masked_url("spark://local") == "spark://local"
