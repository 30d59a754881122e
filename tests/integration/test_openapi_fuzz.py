"""Schemathesis over every operation of the example db services' OpenAPI.

``products`` and ``orders`` run on a fresh SQLite and a fresh PostgreSQL
database each (their own migrations, seeded from ``seeds/``), served by a
real ASGI server in this process. Every operation of each service's
``/<prefix>/openapi.json`` gets generated requests, valid (positive) and
invalid (negative), and each answer is checked against the document: no
server error, a documented status, content type, headers and body, invalid
input refused with a 4xx and valid input accepted. The rows are seeded
again before each operation, so a run is reproducible (``derandomize``).

What OpenAPI 3.0 cannot state is kept out of the valid requests (cursors
come from earlier answers, offset excludes cursor pagination, bulk PUT and
DELETE need a filter, a key in a PUT body is the path's); CHECK constraints
are the one 400 a valid request may get. Known API bugs are set aside by
their answers and xfail the test, naming the bug (``KNOWN_BUGS``).

Run it alone with ``python3 dev.py test -m fuzz`` (with
``test_graphql_schema_fuzz.py``); about 80 s of CPU, 25 requests per
operation and mode.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterator

import pytest
import requests
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode

from tests.example_services import (
    ENGINES,
    FUZZ,
    MODES,
    ExampleServices,
    running_examples,
)

pytestmark = pytest.mark.fuzz
COLLECTION, ITEM = ("GET", "POST", "PUT", "DELETE"), ("GET", "PUT", "PATCH", "DELETE")
ROUTES = {
    "products": {
        "/categories": COLLECTION,
        "/categories/{id}": ITEM,
        "/categories/{id}/products": ("GET",),
        "/products": COLLECTION,
        "/products/{id}": ITEM,
        "/products/{id}/category": ("GET",),
    },
    "orders": {
        "/customers": COLLECTION,
        "/customers/{id}": ITEM,
        "/customers/{id}/orders": ("GET",),
        "/orders": COLLECTION,
        "/orders/{id}": ITEM,
        "/orders/{id}/customer": ("GET",),
        "/orders/{id}/orderItems": ("GET",),
        "/orderItems": COLLECTION,
        "/orderItems/order/{orderId}/productId/{productId}": ITEM,
        "/orderItems/order/{orderId}/productId/{productId}/order": ("GET",),
    },
}


@dataclasses.dataclass(frozen=True)
class KnownBug:
    """An API bug found here, in code owned elsewhere, by its answers.

    A generated request of ``mode`` whose answer ``matches`` is set aside;
    the test then xfails with ``reason`` (a reproduction), and every other
    request is checked as usual. Drop the entry once the bug is fixed.
    """

    mode: str
    reason: str
    matches: Callable[[object, object], bool]  # (case, response) -> bool


def _message(response) -> str:
    try:
        return str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        return ""


def _bulk_update_of_nothing(case, response) -> bool:
    """Tell a bulk PUT whose body alone is invalid, answered 200 []."""
    components = case.meta.components if case.meta else {}
    broken = {
        str(place.value) for place, info in components.items() if info.mode.is_negative
    }
    collection = "{" not in case.operation.path
    return (
        case.method == "PUT"
        and collection
        and broken == {"body"}
        and response.text.strip() == "[]"
    )


KNOWN_BUGS = (
    KnownBug(
        "positive",
        "Document gap: a date-time that leaves years 1-9999 once taken in UTC "
        "(0001-01-01T00:00:00+02:00) is refused with 400 INVALID_VALUE, which "
        "OpenAPI's date-time format cannot state",
        lambda case, response: (
            response.status_code == 400
            and "expected a date-time" in _message(response)
            and "0001-01-01T" in _message(response)
        ),
    ),
    KnownBug(
        "negative",
        "API bug: PUT /<plural>?where... checks the body only when a row "
        'matches: PUT /categories?where.name.eq=zzz {"name": null} -> 200 [] '
        "(with where.id.eq=1: 400 NOT_NULL_VIOLATION); likewise an out-of-range "
        "customerId on /orders",
        _bulk_update_of_nothing,
    ),
)


@pytest.fixture(scope="module")
def example_services(tmp_path_factory, django_db_blocker) -> Iterator[ExampleServices]:
    with (
        django_db_blocker.unblock(),
        running_examples(tmp_path_factory.mktemp("openapi")) as fleet,
    ):
        yield fleet


@pytest.fixture(scope="module")
def documents(example_services) -> dict:
    """Loaded OpenAPI documents by (service, engine), each loaded once."""
    return {}


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def first_eq_filter(operation) -> str:
    """Return the first ``where.<field>.eq`` parameter of ``operation``."""
    names = [p["name"] for p in operation.definition.raw.get("parameters", [])]
    return next(n for n in names if n.startswith("where.") and n.endswith(".eq"))


def within_cross_parameter_rules(case):
    """Make a valid request follow the rules OpenAPI 3.0 cannot state.

    A cursor comes from an earlier answer's header; offset and cursor
    pagination exclude each other; bulk PUT and DELETE need a filter.
    Negative cases keep breaking them.
    """
    query = case.query if isinstance(case.query, dict) else {}
    for name in ("startAfter", "endBefore"):
        query.pop(name, None)
    if str(query.get("cursor")).lower() == "true":
        query.pop("offset", None)
    collection = "{" not in case.operation.path
    if collection and case.method in ("PUT", "DELETE"):
        if not any(name.startswith("where.") for name in query):
            query[first_eq_filter(case.operation)] = 1
    case.query = query
    if case.method == "PUT" and isinstance(case.body, dict):
        for name, value in (case.path_parameters or {}).items():
            if name in case.body:  # a key in the body must be the path's
                case.body[name] = value
    return case


@schemathesis.check
def valid_data_accepted(ctx, response, case):
    """positive_data_acceptance, but for CHECK constraints.

    No document states a table's CHECK constraints (``quantity > 0``); the
    API refuses what breaks one with a 400, as DESIGN.md says.
    """
    if response.status_code == 400 and response.json()["message"].startswith(
        "Check constraint failed"
    ):
        return None
    return schemathesis.checks.positive_data_acceptance(ctx, response, case)


# What the issue asks of the API: no server error, no answer that contradicts
# the document, bad input refused and good input taken.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    valid_data_accepted,
]


def operations() -> list[object]:
    return [
        pytest.param(
            service,
            engine,
            method,
            path,
            mode,
            id=f"{service}-{engine}-{method}-{path}-{mode}",
        )
        for service, routes in ROUTES.items()
        for engine in ENGINES
        for path, methods in routes.items()
        for method, mode in itertools.product(methods, MODES)
    ]


def openapi_schema(fleet: ExampleServices, documents: dict, service: str, engine: str):
    """Return the schemathesis schema of ``service`` on ``engine``, loaded once."""
    spec = fleet.get(service, engine)
    if spec.id not in documents:
        url = f"{fleet.base_url()}{spec.prefix}/openapi.json"
        documents[spec.id] = schemathesis.openapi.from_url(url)
    return documents[spec.id]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("service", list(ROUTES))
def test_every_documented_operation_is_fuzzed(
    example_services, documents, django_db_blocker, service, engine
):
    with django_db_blocker.unblock():
        schema = openapi_schema(example_services, documents, service, engine)
    documented = {
        (path, method.upper())
        for path, item in schema.raw_schema["paths"].items()
        for method in item
    }
    listed = {
        (path, method)
        for path, methods in ROUTES[service].items()
        for method in methods
    }
    assert documented == listed


@pytest.mark.parametrize(("service", "engine", "method", "path", "mode"), operations())
def test_operation_conforms_to_its_openapi_document(
    example_services, documents, http, django_db_blocker,
    service, engine, method, path, mode,
):  # fmt: skip
    with django_db_blocker.unblock():
        schema = openapi_schema(example_services, documents, service, engine)
        example_services.seed(example_services.get(service, engine))
        strategy = schema[path][method].as_strategy(
            generation_mode=GenerationMode(mode)
        )
        if mode == "positive":
            strategy = strategy.map(within_cross_parameter_rules)

        bugs = set()

        @FUZZ
        @given(case=strategy)
        def run(case) -> None:
            response = case.call(session=http)
            bug = next(
                (b for b in KNOWN_BUGS if b.mode == mode and b.matches(case, response)),
                None,
            )
            if bug is None:
                case.validate_response(response, checks=CHECKS)
            else:
                bugs.add(bug.reason)

        run()
    if bugs:
        pytest.xfail(" | ".join(sorted(bugs)))


def test_documented_limits_are_the_ones_the_api_enforces(
    example_services, documents, http, django_db_blocker
):
    """Each constraint the document gained while fuzzing, against the API."""
    with django_db_blocker.unblock():
        schema = openapi_schema(example_services, documents, "products", "sqlite")
        base = f"{example_services.base_url()}/products-sqlite"
        example_services.seed(example_services.get("products", "sqlite"))
    paths = schema.raw_schema["paths"]
    params = {p["name"]: p for p in paths["/products"]["get"]["parameters"]}
    components = schema.raw_schema["components"]["schemas"]

    def answer(method: str, path: str, **kwargs) -> tuple[int, str, str]:
        response = http.request(method, base + path, timeout=30, **kwargs)
        body = response.json()
        if not isinstance(body, dict):  # a list of rows
            return response.status_code, "", ""
        return response.status_code, body.get("code", ""), body.get("message", "")

    offset = params["offset"]["schema"]["maximum"]
    assert answer("GET", f"/products?offset={offset}")[0] == 200
    assert answer("GET", f"/products?offset={offset + 1}") == (
        400,
        "INVALID_LIMIT",
        f"\"offset\" must be a whole number between 0 and {offset}, not '{offset + 1}'",
    )
    assert params["fields"]["schema"]["items"]["enum"] == list(
        components["Product"]["properties"]
    )
    assert answer("GET", "/products?fields=nope")[:2] == (400, "UNKNOWN_FIELD")
    where_or = params["where.or"]["schema"]["pattern"]
    assert re.fullmatch(where_or, "(title.eq=Dog|stock.gte=40)")
    assert answer("GET", "/products?where.or=(title.eq=Dog|stock.gte=40)")[0] == 200
    assert not re.fullmatch(where_or, "(stock.gte=many)")
    assert answer("GET", "/products?where.or=(stock.gte=many)")[:2] == (
        400,
        "INVALID_VALUE",
    )
    ids = params["where.id.in"]["schema"]["pattern"]
    assert re.fullmatch(ids, "1,2")
    assert answer("GET", "/products?where.id.in=1,2")[0] == 200
    assert not re.fullmatch(ids, "1,,2")
    assert answer("GET", "/products?where.id.in=1,,2")[:2] == (400, "INVALID_VALUE")
    post = paths["/categories"]["post"]["requestBody"]["content"]["application/json"]
    assert post["schema"]["oneOf"][1]["minItems"] == 1
    assert answer("POST", "/categories", json=[]) == (
        400,
        "INVALID_BODY",
        "The body is an empty array; give at least one row",
    )
    name = components["CategoryInput"]["properties"]["name"]
    assert not re.fullmatch(name["pattern"], "a\x00b")
    assert answer("POST", "/categories", json={"name": "a\x00b"})[0] == 400
    key = components["CategoryInput"]["properties"]["id"]
    too_big = {"id": key["maximum"] + 1, "name": "Cups"}
    assert answer("POST", "/categories", json=too_big)[:2] == (400, "INVALID_VALUE")
    assert answer("GET", f"/categories/{key['maximum']}")[0] == 404
