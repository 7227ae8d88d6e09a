"""Fixtures for the privacy tests: the real UCI store and a demo store, each imported once, and their packages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from privacy_stores import DEMO_TIMEZONE, UCI_TIMEZONE, runner_over
from tests.conftest import build_demo_store, import_online_retail

from shoplens.reports import SharePackage, share_package

SECRET = b"privacy-tests-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def uci_home(tmp_path_factory: pytest.TempPathFactory, datasets: Path) -> Path:
    return import_online_retail(tmp_path_factory.mktemp("privacy-uci"), SECRET)


@pytest.fixture(scope="session")
def uci_packages(uci_home: Path) -> dict[int, SharePackage]:
    """The UCI package at k=10 (the default) and k=200 (where the product-pair floor is also 200 orders)."""
    with runner_over(uci_home, UCI_TIMEZONE) as runner:
        return {k: share_package(runner, k=k) for k in (10, 200)}


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``shoplens demo --customers 1500 --seed 11 --no-serve``: orders, products, web events and the vault."""
    return build_demo_store(tmp_path_factory.mktemp("privacy-demo") / "home", customers=1500, seed=11)


@pytest.fixture(scope="session")
def demo_packages(demo_home: Path) -> dict[int, SharePackage]:
    with runner_over(demo_home, DEMO_TIMEZONE) as runner:
        return {k: share_package(runner, k=k) for k in (2, 10)}


@pytest.fixture
def demo_copy(demo_home: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store (warehouse, secret and vault key; no app database), for tests writing to it."""
    home = tmp_path / "home"
    home.mkdir()
    for name in ("warehouse.duckdb", "store.secret", "vault.key"):
        shutil.copy2(demo_home / name, home / name)
    return home
