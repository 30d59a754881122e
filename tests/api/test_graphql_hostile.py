"""GraphQL under hostile input: every bad request is a JSON 4xx, never a 500.

Each case runs on a db service's ``/products/graphql`` and on the composed
``/graphql``, through Django's view (``platform_client``) and through the
ASGI application, whose fast routes take valid JSON operations and leave
the rest to the view (``asgi_client``).
"""

from __future__ import annotations

import json

import pytest

from platform_core.testing import asgi_client, platform_client

pytestmark = pytest.mark.django_db

PATHS = ["/products/graphql", "/graphql"]
COUNT = "{ countCategories { total } }"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["django", "asgi"])
def client(request):
    make = platform_client if request.param == "django" else asgi_client
    with make() as client:
        yield client


@pytest.fixture(params=PATHS)
def path(request):
    return request.param


def post(client, path: str, body: bytes | str, headers=JSON):
    return client.post(path, content=body, headers=headers)


def assert_refused(response, status: int, code: str, message: str) -> dict:
    """Assert a JSON refusal: the error body and its ``errors`` for GraphQL."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "Traceback" not in response.text
    assert body["statusCode"] == status and body["code"] == code, body
    assert message in body["message"], body
    (error,) = body["errors"]
    assert message in error["message"]
    assert error["extensions"] == {"code": code, "statusCode": status}
    return body


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"{ countCategories { total } }"', "not a string"),
        ("5", "not a number"),
        ("null", "not null"),
        ('{"query": 5}', '"query" must be a string, not a number'),
        ('{"query": ["{ x }"]}', '"query" must be a string, not an array'),
        ('{"variables": {}}', 'The request has no "query"'),
        ('{"query": ""}', 'The request has no "query"'),
        (json.dumps({"query": COUNT, "variables": "{}"}), '"variables" must be'),
        (json.dumps({"query": COUNT, "variables": [1]}), '"variables" must be'),
        (json.dumps({"query": COUNT, "operationName": 1}), '"operationName" must'),
        (json.dumps({"query": COUNT, "varaibles": {}}), 'Unknown key "varaibles"'),
        ("{nope", "The JSON body is not valid JSON"),
        (b'{"query": "\xff"}', "not valid JSON"),
    ],
    ids=[
        "string",
        "number",
        "null",
        "query-number",
        "query-array",
        "no-query",
        "empty-query",
        "variables-string",
        "variables-array",
        "operation-name-number",
        "typo",
        "malformed",
        "not-utf8",
    ],
)
def test_a_body_that_is_not_one_operation_is_a_400(client, path, body, message):
    assert_refused(post(client, path, body), 400, "INVALID_BODY", message)


def test_batched_operations_are_refused(client, path):
    batch = json.dumps([{"query": COUNT}, {"query": COUNT}])
    assert_refused(
        post(client, path, batch),
        400,
        "INVALID_BODY",
        "Batched operations are not supported",
    )


@pytest.mark.parametrize("depth", [65, 2_000, 10_000])
def test_variables_nested_too_deeply_are_a_400(client, path, depth):
    body = f'{{"query": "{COUNT}", "variables": {{"a": {nested(depth)}}}}}'
    assert_refused(
        post(client, path, body),
        400,
        "INVALID_BODY",
        "The JSON body is nested more than 64 levels deep",
    )


def test_a_deep_typed_input_object_in_variables_is_a_400(client, path):
    where = {"id": {"eq": 1}}
    for _ in range(40):  # 80 levels: {"or": [ ... ]}
        where = {"or": [where]}
    query = "query ($w: CategoryWhere) { categories(where: $w) { id } }"
    body = json.dumps({"query": query, "variables": {"w": where}})
    assert_refused(
        post(client, path, body),
        400,
        "INVALID_BODY",
        "nested more than 64 levels deep",
    )


def test_variables_nested_just_under_the_limit_still_run(client, path):
    where = {"id": {"eq": 1}}
    for _ in range(30):  # 60 levels of where, 63 of body
        where = {"or": [where]}
    query = "query ($w: CategoryWhere) { countCategories(where: $w) { total } }"
    response = client.post(path, json={"query": query, "variables": {"w": where}})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["countCategories"]["total"] >= 0


def test_deep_get_variables_are_a_400(client, path):
    response = client.get(
        path, params={"query": COUNT, "variables": '{"a": ' + nested(10_000) + "}"}
    )
    assert_refused(
        response,
        400,
        "INVALID_BODY",
        'The "variables" parameter is nested more than 64 levels deep',
    )


def test_a_deep_input_value_in_the_query_is_a_400(client, path):
    where = "{id: {eq: 1}}"
    for _ in range(40):  # 80 levels, under the parser's own limit of 200
        where = f"{{or: [{where}]}}"
    query = f"{{ categories(where: {where}) {{ id }} }}"
    response = client.post(path, json={"query": query})
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["message"] == "Values in the query are nested more than 64 levels deep"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            "Cannot spread fragment 'A' within itself via 'B'.",
        ),
        (
            "{ ...A } fragment A on Query { ...A }",
            "Cannot spread fragment 'A' within itself.",
        ),
        ("{ ...Nope }", "Unknown fragment 'Nope'."),
    ],
    ids=["cycle", "self", "unknown"],
)
def test_fragment_cycles_and_unknown_fragments_are_a_400(client, path, query, message):
    response = client.post(path, json={"query": query})
    assert response.status_code == 400, response.text
    messages = [error["message"] for error in response.json()["errors"]]
    assert message in messages


def test_a_long_chain_of_fragments_is_a_400(client, path):
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(299))
    query = (
        "{ ...F0 } " + chain + " fragment F299 on Query { countCategories { total } }"
    )
    response = client.post(path, json={"query": query})
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["message"] == "The query nests fragments too deeply to be validated"


def test_a_chain_of_fragments_under_the_limit_still_runs(client, path):
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(150))
    query = "{ ...F0 } " + chain + f" fragment F150 on Query {COUNT}"
    response = client.post(path, json={"query": query})
    assert response.status_code == 200, response.text
    assert "total" in response.json()["data"]["countCategories"]


FORM = "query=%7B+countCategories+%7B+total+%7D+%7D"
MULTIPART = (
    f'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{COUNT}\r\n--b--\r\n'
)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", FORM),
        ("multipart/form-data; boundary=b", MULTIPART),
        ("text/plain", json.dumps({"query": COUNT})),
        ("application/graphql", COUNT),
        (None, json.dumps({"query": COUNT})),
    ],
    ids=["form", "multipart", "text", "graphql", "none"],
)
def test_a_post_that_is_not_json_is_a_415(client, path, content_type, body):
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post(path, content=body, headers=headers)
    expected = content_type.split(";")[0] if content_type else "no Content-Type"
    assert_refused(
        response,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "A GraphQL POST must be JSON (Content-Type: application/json), not ",
    )
    assert expected in response.json()["message"]


def test_a_json_post_with_a_charset_is_served(client, path):
    response = post(
        client,
        path,
        json.dumps({"query": COUNT}),
        {"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert "countCategories" in response.json()["data"]


def test_other_methods_are_a_405_with_allow(client, path):
    response = client.put(path, json={"query": COUNT})
    assert_refused(response, 405, "METHOD_NOT_ALLOWED", "not PUT")
    assert response.headers["allow"] == "GET, POST"


def test_a_mutation_over_get_is_a_405(client, path):
    mutation = 'mutation { saveCategory(input: {name: "x"}) { id } }'
    response = client.get(path, params={"query": mutation})
    assert_refused(
        response,
        405,
        "METHOD_NOT_ALLOWED",
        "Can only perform a mutation operation from a POST request.",
    )
    assert response.headers["allow"] == "POST"
