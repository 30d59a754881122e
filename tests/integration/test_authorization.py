"""Row-level authorization: each case written once, run under every identity
source (admin-secret impersonation, JWT, webhook) and over REST and GraphQL.

A multi-tenant service: posts and comments belong to a workspace; users see
their workspace, change their own posts, and never see ``secretNote``.
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
import uuid

import jwt
import pytest
from django.db import connections

from platform_core.config.reader import TableReader
from platform_core.config.services import read_db_options
from platform_core.db.connections import alias_for
from platform_core.entities import entities
from platform_core.testing import platform_client, register_temporarily
from tests.databases import connection_alias, fresh_database
from tests.integration.conftest import make_db_service
from tests.servers import JsonServer

KEY = {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "SERIAL PRIMARY KEY"}
SCHEMA = """
CREATE TABLE posts (id {key}, title VARCHAR(50) NOT NULL, owner_id INTEGER,
  workspace_id INTEGER, secret_note VARCHAR(50));
CREATE TABLE comments (id {key}, body VARCHAR(50) NOT NULL,
  post_id INTEGER REFERENCES posts (id), workspace_id INTEGER);
"""
RULES = """
[[authorization.rules]]
role = "user"
entity = "post"
find = ["workspaceId = $WORKSPACE_ID"]
save = ["workspaceId = $WORKSPACE_ID", "ownerId = $USER_ID"]
delete = { checks = { ownerId = "USER_ID", workspaceId = { eq = "WORKSPACE_ID" } } }
defaults = { workspaceId = "$WORKSPACE_ID", ownerId = "$USER_ID" }
fields = ["id", "title", "ownerId", "workspaceId"]

[[authorization.rules]]
role = "user"
entity = "comment"
find = { checks = { workspaceId = "WORKSPACE_ID" } }

[[authorization.rules]]
role = "anonymous"
entities = ["post", "comment"]
find = false
"""
JWT_KEY = "a-test-signing-key-of-at-least-32-bytes"
HEAD = '[authorization]\nadminSecret = "s3cret"\n'
SOURCES = {
    "impersonation": HEAD,
    "jwt": HEAD + f'jwt = {{ secret = "{JWT_KEY}" }}\n',
    "webhook": HEAD + 'webhook = { url = "{url}" }\n',
    "session": HEAD,
}
USERS = {
    "alice": {"role": "user", "user_id": 1, "workspace_id": 1},
    "bob": {"role": "user", "user_id": 2, "workspace_id": 1},
    "carol": {"role": "user", "user_id": 3, "workspace_id": 2},
    # a user without the claim the rules need: denied, never unfiltered
    "nowhere": {"role": "user", "user_id": 4},
}
POSTS = [
    {"title": "A", "ownerId": 1, "workspaceId": 1, "secretNote": "x"},
    {"title": "B", "ownerId": 2, "workspaceId": 1, "secretNote": "y"},
    {"title": "C", "ownerId": 3, "workspaceId": 2, "secretNote": "z"},
]
COMMENTS = [
    {"body": "on B", "postId": 2, "workspaceId": 1},
    {"body": "on C", "postId": 3, "workspaceId": 2},
]


def claims_of_token(method, headers):
    """The auth webhook: ``Bearer <user>`` answers that user's claims; a
    caller with no token is anonymous (the webhook is asked every time)."""
    if "Authorization" not in headers:
        return 200, {"role": "anonymous"}
    claims = USERS.get(headers["Authorization"].removeprefix("Bearer "))
    return (200, claims) if claims else (401, {})


@pytest.fixture(scope="module")
def webhook():
    server = JsonServer(claims_of_token)
    server.url += "/verify"
    yield server
    server.close()


SESSIONS: dict[str, str] = {}


def log_in_users() -> None:
    """Create a Django user per USERS entry, in group "user", with claims."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
    )
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    from platform_core.models import UserClaims

    group, _ = Group.objects.get_or_create(name="user")
    suffix = uuid.uuid4().hex[:8]
    for name, claims in USERS.items():
        user = User.objects.create_user(f"{name}-{suffix}")  # no password: fast
        user.groups.add(group)
        UserClaims.objects.create(
            user=user, claims={k: v for k, v in claims.items() if k != "role"}
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        SESSIONS[name] = session.session_key


def headers_for(source: str, user: str | None) -> dict:
    """Return the headers that make ``user`` the caller under ``source``."""
    if user is None:
        return {}
    claims = USERS[user]
    if source == "session":
        return {"Cookie": f"sessionid={SESSIONS[user]}"}
    if source == "impersonation":
        headers = {"X-JOULE-ADMIN-SECRET": "s3cret", "X-JOULE-ROLE": claims["role"]}
        headers.update(
            {
                f"X-JOULE-{k.upper().replace('_', '-')}": str(v)
                for k, v in claims.items()
            }
        )
        return headers
    if source == "jwt":
        token = jwt.encode(
            {**claims, "exp": int(time.time()) + 60},
            "a-test-signing-key-of-at-least-32-bytes",
            algorithm="HS256",
        )
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": f"Bearer {user}"}


def read_options(text: str):
    reader = TableReader(tomllib.loads(text), "services/shop/service.toml")
    return read_db_options(reader, "shop")


@pytest.fixture(params=sorted(SOURCES))
def source(request):
    return request.param


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    return request.param


@pytest.fixture
def shop(source, engine, webhook, tmp_path, django_db_blocker, db):
    """The shop service with the rules, seeded; yields a request function.

    Users and sessions live in the platform's test database (``db``: rolled
    back after the test; tests served by another thread ask for
    ``transactional_db`` instead).
    """
    if source == "session":
        log_in_users()
    options = read_options(SOURCES[source].replace("{url}", webhook.url) + RULES)
    with (
        django_db_blocker.unblock(),
        fresh_database(engine, tmp_path) as url,
    ):
        spec = make_db_service(tmp_path / "shop", url)
        spec = dataclasses.replace(
            spec, options=dataclasses.replace(options, connection=url)
        )
        with (
            connection_alias(alias_for(spec), url, tmp_path),
            register_temporarily(spec),
        ):
            connection = connections[alias_for(spec)]
            with connection.cursor() as cursor:
                for statement in connection.ops.prepare_sql_script(
                    SCHEMA.format(key=KEY[engine])
                ):
                    cursor.execute(statement)
            shop = entities("shop")
            shop["post"].insert(POSTS)  # no request: the platform itself
            shop["comment"].insert(COMMENTS)
            with platform_client(base_url="http://testserver/shop") as client:

                def call(user, method, path, body=None, headers=None):
                    if headers is None:
                        headers = headers_for(source, user)
                    return client.request(method, path, json=body, headers=headers)

                yield call


def ids(response):
    assert response.status_code == 200, response.text
    return sorted(row["id"] for row in response.json())


# (caller, method, path, body, expected status, expected ids or row subset)
REST_CASES = [
    ("alice", "GET", "/posts", None, 200, [1, 2]),
    ("carol", "GET", "/posts", None, 200, [3]),
    ("nowhere", "GET", "/posts", None, 200, []),
    (None, "GET", "/posts", None, 403, None),
    ("alice", "GET", "/posts/2", None, 200, {"id": 2, "title": "B"}),
    ("alice", "GET", "/posts/3", None, 404, None),
    ("alice", "GET", "/posts?fields=secretNote", None, 403, None),
    ("alice", "GET", "/posts?where.secretNote.eq=z", None, 403, None),
    ("alice", "GET", "/posts?orderby.secretNote=asc", None, 403, None),
    ("alice", "PATCH", "/posts/1", {"title": "A2"}, 200, {"title": "A2"}),
    ("alice", "PATCH", "/posts/2", {"title": "mine"}, 403, None),
    ("alice", "PATCH", "/posts/3", {"title": "mine"}, 404, None),
    ("alice", "PATCH", "/posts/1", {"workspaceId": 2}, 403, None),
    ("alice", "PATCH", "/posts/1", {"ownerId": 2}, 403, None),
    ("alice", "PATCH", "/posts/1", {"secretNote": "w"}, 403, None),
    ("alice", "PUT", "/posts/3", {"title": "taken"}, 404, None),
    ("alice", "DELETE", "/posts/2", None, 403, None),
    ("alice", "DELETE", "/posts/3", None, 404, None),
    ("alice", "DELETE", "/posts/1", None, 200, {"id": 1}),
    (
        "alice",
        "POST",
        "/posts",
        {"title": "new", "ownerId": 2},
        201,
        {"title": "new", "ownerId": 1, "workspaceId": 1},
    ),
    ("nowhere", "POST", "/posts", {"title": "lost"}, 403, None),
    (None, "POST", "/posts", {"title": "anon"}, 403, None),
    ("alice", "GET", "/posts/2/comments", None, 200, [1]),
    ("alice", "GET", "/posts/3/comments", None, 404, None),
    ("alice", "GET", "/comments/1/post", None, 200, {"id": 2}),
    ("alice", "GET", "/comments/2/post", None, 404, None),
    ("carol", "GET", "/comments", None, 200, [2]),
]


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "status", "expected"),
    REST_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4]}" for c in REST_CASES],
)
def test_rest(shop, user, method, path, body, status, expected):
    response = shop(user, method, path, body)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["statusCode"] == status
        return
    if isinstance(expected, list):
        assert ids(response) == expected
        rows = response.json()
        assert all("secretNote" not in row for row in rows if "title" in row)
    else:
        row = response.json()
        assert {k: row[k] for k in expected} == expected
        assert "secretNote" not in row or user is None


def test_counts_and_bulk_writes_stay_inside_the_rule(shop):
    total = shop("alice", "GET", "/posts?totalCount=true&limit=1")
    assert total.headers["X-Total-Count"] == "2"
    updated = shop("alice", "PUT", "/posts?where.id.in=1,2,3", {"title": "bulk"})
    assert ids(updated) == [1]  # only her own post in her workspace
    assert shop("bob", "GET", "/posts/2").json()["title"] == "B"
    deleted = shop("alice", "DELETE", "/posts?where.id.in=1,2,3")
    assert ids(deleted) == [1]
    assert ids(shop("bob", "GET", "/posts")) == [2]
    assert ids(shop("carol", "GET", "/posts")) == [3]


def test_the_admin_secret_alone_is_allowed_everything(shop):
    admin = {"X-JOULE-ADMIN-SECRET": "s3cret"}
    response = shop(None, "GET", "/posts?fields=id,secretNote")
    assert response.status_code == 403
    rows = shop(None, "GET", "/posts?fields=id,secretNote", headers=admin).json()
    assert [row["secretNote"] for row in rows] == ["x", "y", "z"]


GRAPHQL_CASES = [
    ("alice", "{ posts { id } }", {"posts": [{"id": 1}, {"id": 2}]}),
    (
        "carol",
        "{ posts { id comments { body } } }",
        {"posts": [{"id": 3, "comments": [{"body": "on C"}]}]},
    ),
    ("alice", "{ getPostById(id: 3) { id } }", {"getPostById": None}),
    ("alice", "{ countPosts { total } }", {"countPosts": {"total": 2}}),
    ("nowhere", "{ posts { id } }", {"posts": []}),
    (
        "alice",
        "{ comments { body post { title } } }",
        {"comments": [{"body": "on B", "post": {"title": "B"}}]},
    ),
    (
        "alice",
        'mutation { savePost(input: {title: "g", ownerId: 9}) '
        "{ title ownerId workspaceId } }",
        {"savePost": {"title": "g", "ownerId": 1, "workspaceId": 1}},
    ),
    (
        "alice",
        "mutation { deletePosts(where: {id: {in: [1, 2, 3]}}) { id } }",
        {"deletePosts": [{"id": 1}]},
    ),
]


@pytest.mark.parametrize(("user", "query", "data"), GRAPHQL_CASES)
def test_graphql(shop, user, query, data):
    response = shop(user, "POST", "/graphql", {"query": query})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": data}


@pytest.mark.parametrize(
    ("user", "query", "code"),
    [
        (None, "{ posts { id } }", "FORBIDDEN"),
        (
            "alice",
            'mutation { savePost(input: {id: 2, title: "x"}) { id } }',
            "FORBIDDEN",
        ),
        ("alice", "{ posts { secretNote } }", "FORBIDDEN"),
    ],
)
def test_graphql_denials_are_errors_with_codes(shop, user, query, code):
    response = shop(user, "POST", "/graphql", {"query": query})
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == code, errors


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer forged"},
        {"Authorization": "Basic YTpi"},
        {"X-JOULE-ADMIN-SECRET": "wrong", "X-JOULE-ROLE": "user"},
    ],
    ids=["bad-token", "not-bearer", "wrong-secret"],
)
def test_bad_credentials_are_401_on_rest_and_graphql(shop, headers):
    rest = shop(None, "GET", "/posts", headers=headers)
    assert rest.status_code == 401, rest.text
    assert rest.json()["code"] == "UNAUTHORIZED"
    graphql = shop(None, "POST", "/graphql", {"query": "{ posts { id } }"}, headers)
    assert graphql.status_code == 401, graphql.text
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED"


def test_role_headers_without_the_secret_are_ignored(shop):
    forged = {"X-JOULE-ROLE": "user", "X-JOULE-WORKSPACE-ID": "2"}
    assert shop(None, "GET", "/posts", headers=forged).status_code == 403


@pytest.fixture
def live(transactional_db, shop):
    from platform_core.testing import live_server

    with live_server() as url:
        yield url


def subscriber(url: str, source: str, user: str | None, query: str):
    """Open a graphql-transport-ws socket as ``user``; return it subscribed."""
    from websockets.sync.client import connect

    # A browser's session cookie comes with the handshake; tokens and the
    # admin headers come in connection_init's payload.
    headers = headers_for(source, user)
    handshake = headers if source == "session" else {}
    ws = connect(
        url.replace("http", "ws") + "/shop/graphql",
        subprotocols=["graphql-transport-ws"],
        additional_headers=handshake,
    ).__enter__()
    payload = {} if source == "session" else headers
    ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(ws.recv(timeout=10))
    assert ack == {"type": "connection_ack"}, ack
    ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": query}}))
    ws.send(json.dumps({"type": "ping"}))
    answer = json.loads(ws.recv(timeout=10))
    return ws, answer


@pytest.mark.parametrize("engine", ["sqlite"])
def test_subscribers_only_receive_rows_their_rule_allows(shop, live, source):
    query = "subscription { postSaved { id title workspaceId } }"
    alice, pong = subscriber(live, source, "alice", query)
    assert pong == {"type": "pong"}
    carol, _ = subscriber(live, source, "carol", query)
    assert shop("bob", "POST", "/posts", {"title": "ws1"}).status_code == 201
    assert shop("carol", "POST", "/posts", {"title": "ws2"}).status_code == 201
    seen_by_alice = json.loads(alice.recv(timeout=10))["payload"]["data"]
    seen_by_carol = json.loads(carol.recv(timeout=10))["payload"]["data"]
    assert seen_by_alice["postSaved"]["title"] == "ws1"
    # carol's first event is her own workspace's: bob's row never reached her
    assert seen_by_carol["postSaved"] == {
        "id": seen_by_carol["postSaved"]["id"],
        "title": "ws2",
        "workspaceId": 2,
    }
    alice.close()
    carol.close()


@pytest.mark.parametrize("engine", ["sqlite"])
@pytest.mark.parametrize(
    ("user", "query"),
    [
        ("alice", "subscription { postSaved { id secretNote } }"),
        (None, "subscription { postSaved { id } }"),
        ("alice", "subscription { commentSaved { post { secretNote } } }"),
    ],
    ids=["hidden-field", "anonymous", "hidden-nested-field"],
)
def test_subscriptions_outside_the_rules_are_refused(shop, live, source, user, query):
    ws, answer = subscriber(live, source, user, query)
    assert answer["type"] == "error", answer
    assert answer["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    ws.close()


@pytest.mark.parametrize("engine", ["sqlite"])
def test_bad_credentials_in_connection_init_close_with_4403(shop, live, source):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(
        live.replace("http", "ws") + "/shop/graphql",
        subprotocols=["graphql-transport-ws"],
    ) as ws:
        ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": "Bearer forged"},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Forbidden")


@pytest.mark.parametrize("engine", ["sqlite"])
@pytest.mark.parametrize("source", ["impersonation"])
def test_the_entities_api_applies_the_rules_when_given_a_request(shop):
    from django.test import RequestFactory

    posts = entities("shop")["post"]
    request = RequestFactory().get("/", headers=headers_for("impersonation", "carol"))
    assert [row["id"] for row in posts.find(context=request)] == [3]
    assert posts.get({"id": 1}, context=request) is None
    assert len(posts.find()) == 3  # no request: the platform itself


@pytest.mark.parametrize("engine", ["sqlite"])
def test_put_cannot_move_a_row_to_another_workspace(shop):
    moved = shop("alice", "PUT", "/posts/1", {"title": "A", "workspaceId": 2})
    assert moved.status_code == 403
    assert shop("alice", "GET", "/posts/1").json()["workspaceId"] == 1


def test_a_rule_on_an_unknown_field_stops_the_start(tmp_path, django_db_blocker):
    from platform_core.exceptions import ConfigError
    from platform_core.gateway.routing.asgi import warm_up
    from platform_core.registry import ServiceRegistry

    text = (
        '[authorization]\nadminSecret = "x"\n[[authorization.rules]]\nrole = "u"\n'
        'entity = "post"\nfind = ["ownerid = $USER_ID"]\n'
    )
    options = read_options(text)
    with django_db_blocker.unblock(), fresh_database("sqlite", tmp_path) as url:
        spec = make_db_service(tmp_path / "shop", url)
        spec = dataclasses.replace(
            spec, options=dataclasses.replace(options, connection=url)
        )
        registry = ServiceRegistry()
        registry.register(spec)
        with connection_alias(alias_for(spec), url, tmp_path):
            with connections[alias_for(spec)].cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE posts (id INTEGER PRIMARY KEY, owner_id INTEGER)"
                )
            with pytest.raises(ConfigError, match="Did you mean 'ownerId'"):
                warm_up(registry)
