"""The whole API against its own OpenAPI document, with schemathesis: no input makes the server fail.

Every operation gets a bounded, deterministic number of generated requests (valid and invalid parameters and
bodies) on the local app over a small seeded demo store, sent with the owner's token so every route is reached;
no network. Each answer is below 500, and every error answer has the one JSON error shape. Hand-written hostile
inputs (SQL and HTML injection strings, path traversal, over-long integers, a 100 MB body) are checked too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from tests.conftest import build_demo_store
from tests.web.conftest import Store

from shoplens.appdb import AppDatabase
from shoplens.config import Settings
from shoplens.web import create_app, create_token

EXAMPLES_PER_OPERATION = 10
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A seeded demo store of 120 customers (every analysis answers in a moment) with an owner token."""
    home = build_demo_store(tmp_path_factory.mktemp("schema") / "home", customers=120, seed=5)
    database = AppDatabase(Settings(home=home).app_database_url)
    token, _ = create_token(database, "owner")
    database.close()
    return Store(home, {"owner": token})


@pytest.fixture(scope="module")
def schema_app(small_store: Store) -> FastAPI:
    return create_app(Settings(home=small_store.home))


def _openapi() -> Any:
    """The app's OpenAPI document (the same for every store), read once when the tests are collected."""
    with tempfile.TemporaryDirectory() as home:
        app = create_app(Settings(home=Path(home)))
        document = app.openapi()
        app.state.app_database.close()
    return document


schema = schemathesis.openapi.from_dict(_openapi())


def _is_error_shape(body: object) -> bool:
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return False
    error = body["error"]
    return set(error) == {"code", "message"} and all(isinstance(error[key], str) for key in error)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_makes_a_server_error(case: Any, schema_app: FastAPI, small_store: Store) -> None:
    response = case.call(app=schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})
    where = f"{case.method} {case.formatted_path} {case.query!r}"
    assert response.status_code < 500, f"{where} answered {response.status_code}: {response.text[:300]}"
    if response.status_code >= 400 and response.status_code != 401:
        assert _is_error_shape(response.json()), f"{where}: {response.text[:300]}"


HOSTILE_TEXTS = [
    "' OR 1=1 --",
    "1; DROP TABLE orders; --",
    '"><script>alert(1)</script>',
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "\x00",
    "é" * 5000,
]
HOSTILE_ROUTES = [
    ("/api/v1/customers", "segment"),
    ("/api/v1/customers", "lifecycle"),
    ("/api/v1/voice/themes", "source"),
    ("/api/v1/kpis", "start"),
    ("/api/v1/kpis", "by"),
    ("/api/v1/products", "grain"),
    ("/api/v1/cohorts", "discount_code"),
    ("/api/v1/cohorts", "first_category"),
]


@pytest.mark.parametrize(("path", "name"), HOSTILE_ROUTES)
@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_hostile_text_parameters_answer_4xx_in_the_error_shape_or_json(
    schema_app: FastAPI, small_store: Store, path: str, name: str, text: str
) -> None:
    client = TestClient(schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})
    response = client.get(path, params={name: text})
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert _is_error_shape(response.json()), response.text[:300]
    else:  # accepted as a value (nothing matches it): echoed only inside JSON, which no browser runs as a page
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/api/v1/../../etc/passwd", "/api/v1/%2e%2e/%2e%2e/etc/passwd", "/static/../app.db"])
def test_path_traversal_answers_404_in_the_error_shape(schema_app: FastAPI, small_store: Store, path: str) -> None:
    client = TestClient(schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})
    response = client.get(path)
    assert response.status_code == 404
    assert _is_error_shape(response.json())


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/customers", "offset"), ("/api/v1/customers", "limit"), ("/api/v1/voice/themes", "seed")],
)
@pytest.mark.parametrize("value", [str(2**64), str(-(2**63) - 1), "9" * 400, "-1"])
def test_out_of_range_integers_answer_422(
    schema_app: FastAPI, small_store: Store, path: str, name: str, value: str
) -> None:
    client = TestClient(schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})
    response = client.get(path, params={name: value})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["code"] == "invalid_request"
    assert name in response.json()["error"]["message"]


def test_a_100_mb_body_answers_413_without_being_read(schema_app: FastAPI, small_store: Store) -> None:
    client = TestClient(schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})
    body = b"{" + b" " * (100 * 1024 * 1024) + b"}"
    response = client.post("/api/v1/voice/sentiment", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {
        "error": {"code": "payload_too_large", "message": f"the request body is larger than {16 * 1024 * 1024} bytes"}
    }


def test_a_streamed_body_over_the_limit_answers_413(schema_app: FastAPI, small_store: Store) -> None:
    client = TestClient(schema_app, headers={"Authorization": f"Bearer {small_store.tokens['owner']}"})

    def chunks() -> Any:
        for _ in range(20):
            yield b" " * (1024 * 1024)

    response = client.post("/api/v1/voice/sentiment", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
