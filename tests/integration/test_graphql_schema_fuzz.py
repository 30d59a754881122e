"""hypothesis-graphql over every root field of the example db services.

``products`` and ``orders`` run on a fresh SQLite and a fresh PostgreSQL
database each (``tests/example_services.py``), served by a real ASGI server
in this process. For each root query and mutation field of each service's
schema (fetched by introspection, as a client would), documents valid
against the schema (positive) and documents breaking it in one place
(negative) are POSTed to ``/<prefix>/graphql``. No answer may be a server
error, each must be the JSON a GraphQL client reads, and:

- a valid document answers ``data`` for its field, or errors that are the
  client's (``extensions.statusCode`` 4xx: a NOT NULL column, a missing
  row), never a validation error;
- an invalid document answers 400 with errors and no data.

The rows are seeded again before each field, and generation is
derandomized: a failure reproduces. Run it alone with ``-m fuzz``.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Callable, Iterator

import graphql
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis_graphql import Mode, mutations, queries

from tests.example_services import (
    ENGINES,
    FUZZ,
    MODES,
    ExampleServices,
    running_examples,
)

pytestmark = pytest.mark.fuzz
ROOT_FIELDS = {
    "products": {
        "query": (
            "products", "categories", "getProductById", "getCategoryById",
            "countProducts", "countCategories",
        ),
        "mutation": (
            "saveProduct", "saveCategory", "insertProducts", "insertCategories",
            "deleteProducts", "deleteCategories",
        ),
    },
    "orders": {
        "query": (
            "customers", "orders", "orderItems", "getCustomerById", "getOrderById",
            "getOrderItemByOrderIdAndProductId", "countCustomers", "countOrders",
            "countOrderItems",
        ),
        "mutation": (
            "saveCustomer", "saveOrder", "saveOrderItem", "insertCustomers",
            "insertOrders", "insertOrderItems", "deleteCustomers", "deleteOrders",
            "deleteOrderItems",
        ),
    },
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class KnownBug:
    """An API bug found here, in code owned elsewhere, by its answers.

    A generated document whose answer ``matches`` is set aside; the test
    then xfails with ``reason`` (a reproduction), and every other document
    is checked as usual. Drop the entry once the bug is fixed.
    """

    reason: str
    matches: Callable[[str, object], bool]  # (document, response) -> bool


KNOWN_BUGS: tuple[KnownBug, ...] = ()


def _string(values: st.SearchStrategy) -> st.SearchStrategy:
    return values.map(lambda value: graphql.StringValueNode(value=str(value)))


def _int(low: int, high: int) -> st.SearchStrategy:
    return st.integers(low, high).map(lambda n: graphql.IntValueNode(value=str(n)))


# Value nodes for the custom scalars: values of the scalar's own form. What
# the column cannot hold (too many digits, a year 0) is the API's 400.
SCALARS = {
    "BigInt": _int(-(2**63), 2**63 - 1),
    "Decimal": _string(st.decimals(-(10**6), 10**6, places=2, allow_nan=False)),
    "DateTime": _string(
        st.datetimes(
            min_value=datetime.datetime(1900, 1, 1),
            timezones=st.just(datetime.UTC),
        ).map(datetime.datetime.isoformat)
    ),
    "Date": _string(st.dates().map(datetime.date.isoformat)),
    "Time": _string(st.times().map(datetime.time.isoformat)),
    "UUID": _string(st.uuids()),
    "JSONString": _string(st.just("{}")),
    "GenericScalar": _int(-100, 100),
    "Base64": _string(st.just("AAE=")),
}
STRATEGIES = {"query": queries, "mutation": mutations}


@pytest.fixture(scope="module")
def example_services(tmp_path_factory, django_db_blocker) -> Iterator[ExampleServices]:
    with (
        django_db_blocker.unblock(),
        running_examples(tmp_path_factory.mktemp("graphql")) as fleet,
    ):
        yield fleet


@pytest.fixture(scope="module")
def schemas() -> dict:
    """Introspected schemas by service copy, each fetched once."""
    return {}


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def endpoint(fleet: ExampleServices, service: str, engine: str) -> str:
    return f"{fleet.base_url()}{fleet.get(service, engine).prefix}/graphql"


def client_schema(url: str, schemas: dict, http) -> graphql.GraphQLSchema:
    """Return the schema at ``url`` as its introspection answers it."""
    if url not in schemas:
        query = graphql.get_introspection_query()
        answer = http.post(url, json={"query": query}, timeout=30)
        assert answer.status_code == 200, answer.text
        schemas[url] = graphql.build_client_schema(answer.json()["data"])
    return schemas[url]


def root_fields(schema: graphql.GraphQLSchema) -> dict[str, set[str]]:
    return {
        "query": set(schema.query_type.fields),
        "mutation": set(schema.mutation_type.fields if schema.mutation_type else ()),
    }


def check_answer(response, field: str, valid: bool) -> None:
    """Check one answer: JSON, no server error, errors that fit the document."""
    document = response.request.body
    assert response.status_code < 500, (document, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    errors = body.get("errors") or []
    assert "data" in body or errors, (document, body)
    for error in errors:
        assert isinstance(error.get("message"), str) and error["message"], error
        status = (error.get("extensions") or {}).get("statusCode", 400)
        assert 400 <= status < 500, (document, error)
    if not valid:
        assert response.status_code == 400 and errors, (document, body)
        assert body.get("data") is None, (document, body)
    elif response.status_code != 200 or body.get("data") is None:
        # A valid document reaches its resolver: errors come from there.
        assert all("extensions" in error for error in errors), (document, body)
    else:
        assert set(body["data"]) == {field} or errors, (document, body)


def fields_to_fuzz() -> list[object]:
    return [
        pytest.param(*key, id="-".join(key))
        for service, kinds in ROOT_FIELDS.items()
        for engine in ENGINES
        for kind, names in kinds.items()
        for key in itertools.product([service], [engine], [kind], names, MODES)
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("service", list(ROOT_FIELDS))
def test_every_root_field_is_fuzzed(
    example_services, schemas, http, django_db_blocker, service, engine
):
    with django_db_blocker.unblock():
        url = endpoint(example_services, service, engine)
        schema = client_schema(url, schemas, http)
    expected = {kind: set(names) for kind, names in ROOT_FIELDS[service].items()}
    assert root_fields(schema) == expected
    custom = {
        name
        for name, named in schema.type_map.items()
        if isinstance(named, graphql.GraphQLScalarType)
        and name not in graphql.specified_scalar_types
        and not name.startswith("__")
    }
    assert custom <= set(SCALARS), f"no strategy for {custom - set(SCALARS)}"


@pytest.mark.parametrize(
    ("service", "engine", "kind", "field", "mode"), fields_to_fuzz()
)
def test_root_field_answers_as_its_schema_says(
    example_services, schemas, http, django_db_blocker,
    service, engine, kind, field, mode,
):  # fmt: skip
    with django_db_blocker.unblock():
        url = endpoint(example_services, service, engine)
        schema = client_schema(url, schemas, http)
        example_services.seed(example_services.get(service, engine))
        strategy = STRATEGIES[kind](
            schema,
            fields=[field],
            custom_scalars=SCALARS,
            mode=Mode.POSITIVE if mode == "positive" else Mode.NEGATIVE,
        )

        bugs = set()

        @FUZZ
        @given(document=strategy)
        def run(document: str) -> None:
            response = http.post(url, json={"query": document}, timeout=30)
            bug = next((b for b in KNOWN_BUGS if b.matches(document, response)), None)
            if bug is None:
                check_answer(response, field, valid=mode == "positive")
            else:
                bugs.add(bug.reason)

        try:
            run()
        except InvalidArgument as exc:
            if "Cannot generate invalid queries" not in str(exc):
                raise
            pytest.skip(f"{field} has no argument hypothesis-graphql can break")
    if bugs:
        pytest.xfail(" | ".join(sorted(bugs)))
