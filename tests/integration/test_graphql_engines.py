"""The GraphQL API on every engine: relations in batches, mutations, errors."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from platform_core.testing import platform_client

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
SCHEMA = """
CREATE TABLE owners (id {key}, name VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE posts (id {key}, title VARCHAR(50) NOT NULL,
  counter INTEGER NOT NULL DEFAULT 0, owner_id INTEGER NULL,
  FOREIGN KEY (owner_id) REFERENCES owners (id));
"""


@pytest.fixture
def api(db_service, engine):
    connection = connections[f"joule_{db_service.label}"]
    with connection.cursor() as cursor:
        for statement in connection.ops.prepare_sql_script(
            SCHEMA.format(key=KEY[engine])
        ):
            cursor.execute(statement)
    with platform_client() as client:
        yield client, connection


def gql(client, query, variables=None):
    response = client.post(
        "/shop/graphql", json={"query": query, "variables": variables or {}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_mutations_and_nested_queries_on_each_engine(api):
    client, connection = api
    owners = gql(
        client,
        'mutation { insertOwners(inputs: [{name: "Ada"}, '
        '{name: "Grace"}]) { id name } }',
    )["data"]["insertOwners"]
    ada, grace = (owner["id"] for owner in owners)
    posts = [{"title": f"P{i}", "ownerId": ada if i % 2 else grace} for i in range(10)]
    gql(
        client,
        "mutation ($p: [PostInput!]!) { insertPosts(inputs: $p) { id } }",
        {"p": posts},
    )
    query = """{ owners(orderBy: [{field: name}]) { name
        posts(where: {counter: {eq: 0}}, orderBy: [{field: title, direction: DESC}],
              limit: 2) { title owner { name } } } countPosts { total } }"""
    with CaptureQueriesContext(connection) as queries:
        data = gql(client, query)["data"]
    assert data["owners"] == [
        {
            "name": "Ada",
            "posts": [
                {"title": "P9", "owner": {"name": "Ada"}},
                {"title": "P7", "owner": {"name": "Ada"}},
            ],
        },
        {
            "name": "Grace",
            "posts": [
                {"title": "P8", "owner": {"name": "Grace"}},
                {"title": "P6", "owner": {"name": "Grace"}},
            ],
        },
    ]
    assert data["countPosts"] == {"total": 10}
    assert len(queries) == 4  # owners, posts, owners again, count


def test_save_updates_and_errors_on_each_engine(api):
    client, _ = api
    created = gql(client, 'mutation { saveOwner(input: {name: "Ada"}) { id } }')
    owner = created["data"]["saveOwner"]["id"]
    # Keys are BigInt on SQLite (64-bit integers) and Int elsewhere: literals.
    renamed = gql(
        client,
        f'mutation {{ saveOwner(input: {{id: {owner}, name: "Ada L."}}) {{ name }} }}',
    )
    assert renamed["data"]["saveOwner"] == {"name": "Ada L."}
    duplicate = gql(client, 'mutation { saveOwner(input: {name: "Ada L."}) { id } }')
    assert duplicate["errors"][0]["extensions"]["code"] == "CONSTRAINT_VIOLATION"
    dangling = gql(
        client, 'mutation { savePost(input: {title: "x", ownerId: 999}) { id } }'
    )
    assert dangling["errors"][0]["extensions"]["statusCode"] == 409
    deleted = gql(
        client,
        f"mutation {{ deleteOwners(where: {{id: {{eq: {owner}}}}}) {{ name }} }}",
    )
    assert deleted["data"]["deleteOwners"] == [{"name": "Ada L."}]


@pytest.mark.parametrize("engine", ["postgresql"])
def test_array_operators_in_where_inputs(db_service, engine):
    connection = connections[f"joule_{db_service.label}"]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE tagged (id SERIAL PRIMARY KEY, tags TEXT[], scores INTEGER[])"
        )
        cursor.execute(
            "INSERT INTO tagged (tags, scores) VALUES "
            "('{a,b}', '{1,2}'), ('{b,c}', '{3}'), ('{}', '{}')"
        )
    cases = {
        '{tags: {contains: ["b"]}}': [1, 2],
        '{tags: {contained: ["a", "b", "z"]}}': [1, 3],
        '{tags: {overlaps: ["a", "c"]}}': [1, 2],
        '{tags: {any: "c"}}': [2],
        "{scores: {all: 3}}": [2, 3],
        '{scores: {contains: [1, 2]}, tags: {any: "a"}}': [1],
    }
    with platform_client() as client:
        for where, ids in cases.items():
            query = f"{{ taggeds(where: {where}, orderBy: [{{field: id}}]) {{ id }} }}"
            rows = gql(client, query)
            assert "errors" not in rows, (where, rows)
            assert [row["id"] for row in rows["data"]["taggeds"]] == ids, where
        wrong = client.post(
            "/shop/graphql",
            json={"query": '{ taggeds(where: {scores: {any: "x"}}) { id } }'},
        )
        assert wrong.status_code == 400
        assert "Int cannot represent" in wrong.json()["errors"][0]["message"]


@pytest.mark.parametrize("engine", ["postgresql"])
def test_a_database_that_goes_away_is_a_503_without_driver_text(api, database_url):
    from platform_core.testing import asgi_client
    from tests.databases import postgres_down

    name = database_url.rsplit("/", 1)[1]
    query = {"query": "{ posts { id } }"}
    client = asgi_client()  # as servers run it: connections checked per request
    assert client.post("/shop/graphql", json=query).status_code == 200
    with postgres_down(name):
        down = client.post("/shop/graphql", json=query)
        assert down.status_code == 503, down.text
        (error,) = down.json()["errors"]
        assert error["message"] == "The database is unavailable; retry later"
        assert error["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "statusCode": 503,
        }
    assert client.post("/shop/graphql", json=query).status_code == 200
    client.close()


def test_a_database_error_caused_by_the_client_is_its_rest_status(api, engine):
    """A like pattern ending in a backslash: PostgreSQL refuses it (a data
    error, the client's): 400 in extensions, never a 500."""
    client, _ = api
    client.post("/shop/posts", json={"title": "a"})
    answer = gql(client, 'query { posts(where: {title: {like: "\\\\"}}) { id } }')
    if engine != "postgresql":
        assert answer == {"data": {"posts": []}}
        return
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "INVALID_VALUE", "statusCode": 400}
