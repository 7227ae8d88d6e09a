"""Fixtures for the web app: a demo store built once per session, accounts of every role, clients."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import build_demo_store, free_port

from shoplens.appdb import ROLES, AppDatabase
from shoplens.config import Settings
from shoplens.web import _dashboard, add_user, create_app, create_token


@pytest.fixture(autouse=True)
def pages_wait_for_their_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page waits a few seconds before it shows "still computing"; on a busy test machine an analysis can take
    longer, so page tests wait for the answer. Tests of the "still computing" page set a short wait themselves."""
    monkeypatch.setattr(_dashboard, "PAGE_WAIT_SECONDS", 300.0)


PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Store:
    home: Path
    tokens: dict[str, str]

    def email(self, role: str) -> str:
        return f"{role}@shop.example"


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """``shoplens demo --customers 500 --no-serve`` into a fresh home, with one user and one token per role."""
    home = build_demo_store(tmp_path_factory.mktemp("web") / "home", customers=500, seed=11)
    database = AppDatabase(Settings(home=home).app_database_url)
    tokens = {}
    for role in ROLES:
        add_user(database, f"{role}@shop.example", PASSWORD, role)
        tokens[role], _ = create_token(database, role)
    database.close()
    return Store(home, tokens)


@pytest.fixture
def store_app(demo_store: Store) -> FastAPI:
    return create_app(Settings(home=demo_store.home))


def logged_in(app: FastAPI, store: Store, role: str) -> TestClient:
    """A browser-like client signed in as ``role`` through the login form (session cookie, CSRF token)."""
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    data = {"email": store.email(role), "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return client


@pytest.fixture
def as_role(store_app: FastAPI, demo_store: Store) -> Callable[[str], TestClient]:
    """A client that sends the API token of ``role``."""

    def client(role: str) -> TestClient:
        return TestClient(store_app, headers={"Authorization": f"Bearer {demo_store.tokens[role]}"})

    return client


@pytest.fixture
def own_store(demo_store: Store, tmp_path: Path) -> Path:
    """A copy of the demo store that a test may change."""
    home = tmp_path / "home"
    shutil.copytree(demo_store.home, home, ignore=shutil.ignore_patterns("cache", "demo-export"))
    return home


def _table_body(page: str, table_id: str) -> str:
    found = re.search(rf'<table id="{re.escape(table_id)}"[^>]*>(.*?)</table>', page, re.S)
    assert found, f"the page has the table {table_id}"
    return found.group(1)


def table_columns(page: str, table_id: str) -> list[str]:
    """The result fields a page's table shows, in order (its headers' ``data-column``)."""
    return re.findall(r'<th[^>]*data-column="([^"]+)"', _table_body(page, table_id))


_LINKED = r'(?:<a href="[^"]*">)?([^<]*)(?:</a>)?'  # a cell's text, inside the link some cells are


def table_values(page: str, table_id: str) -> list[list[str]]:
    """Each row's cells as the API gives them (their ``data-value``; the text shown where a cell has none)."""
    body = _table_body(page, table_id).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            html.unescape(raw if raw else text)
            for raw, text in re.findall(rf'<td[^>]*?(?:data-value="([^"]*)")?>{_LINKED}</td>', row)
        ]
        for row in rows
    ]


def table_texts(page: str, table_id: str) -> list[list[str]]:
    """Each row's cells as a person reads them."""
    body = _table_body(page, table_id).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[html.unescape(text) for text in re.findall(rf"<td[^>]*>{_LINKED}</td>", row)] for row in rows]


def table_links(page: str, table_id: str) -> list[list[str | None]]:
    """Each row's cells as the pages they link to (None for a cell without a link)."""
    body = _table_body(page, table_id).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [html.unescape(link) if link else None for link in re.findall(r'<td[^>]*>(?:<a href="([^"]*)">)?[^<]*', row)]
        for row in rows
    ]


SERVER_START_SECONDS = 120  # a busy machine may take a while to import everything


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """``shoplens serve`` for the store at ``home`` on a free localhost port, in its own process; its address.
    Stopped on leaving; a server that does not start fails with the end of what it wrote on stderr."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"SHOPLENS_API_TOKEN", "SHOPLENS_SECRET_KEY"}}
    process = subprocess.Popen(
        [sys.executable, "-m", "shoplens", "--home", str(home), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # reading the stderr of a server that is still running would wait for ever, so it is stopped first
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()
                _, errors = process.communicate(timeout=60)
                raise RuntimeError(f"the server did not start: {errors.decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
