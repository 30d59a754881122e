"""GraphQL writes under hostile requests, on a service with authorization rules.

A session cookie is what a page of another site can make a browser send:
a form-encoded, multipart or ``text/plain`` POST carrying a mutation must
change nothing (415), on the service's ``/graphql`` and the composed one.
``save<Entity>`` outside the save rule answers the REST status and code.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest

from platform_core.entities import entities
from platform_core.testing import platform_client
from tests.integration.conftest import configured_db_service

KEY = {
    "sqlite": "INTEGER PRIMARY KEY",
    "postgresql": "SERIAL PRIMARY KEY",
    "mariadb": "INTEGER AUTO_INCREMENT PRIMARY KEY",
}
SCHEMA = (
    "CREATE TABLE posts (id {key}, title VARCHAR(50) NOT NULL, "
    "owner_id INTEGER, workspace_id INTEGER)"
)
TOML = """
[authorization]
adminSecret = "s3cret"

[[authorization.rules]]
role = "user"
entity = "post"
find = ["workspaceId = $WORKSPACE_ID"]
save = ["workspaceId = $WORKSPACE_ID", "ownerId = $USER_ID"]
defaults = { workspaceId = "$WORKSPACE_ID", ownerId = "$USER_ID" }

[[authorization.rules]]
role = "anonymous"
entity = "post"
find = false
"""
POSTS = [
    {"title": "A", "ownerId": 1, "workspaceId": 1},  # alice's
    {"title": "B", "ownerId": 2, "workspaceId": 1},  # bob's, alice sees it
    {"title": "C", "ownerId": 3, "workspaceId": 2},  # hidden from alice
]
MUTATION = 'mutation { savePost(input: {title: "csrf"}) { id title } }'
PATHS = ["/shop/graphql", "/graphql"]


def session_cookie(claims: dict) -> dict:
    """Return the Cookie header of a logged-in Django user in group "user"."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    from platform_core.models import UserClaims

    user = User.objects.create_user(f"alice-{uuid.uuid4().hex[:8]}")
    user.groups.add(Group.objects.get_or_create(name="user")[0])
    UserClaims.objects.create(user=user, claims=claims)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"Cookie": f"sessionid={session.session_key}"}


@pytest.fixture
def shop(engine, database_url, tmp_path, django_db_blocker, db):
    """The rules service, seeded; yields alice's session cookie header."""
    statement = SCHEMA.format(key=KEY[engine])
    with (
        django_db_blocker.unblock(),
        configured_db_service(tmp_path, database_url, TOML, statements=[statement]),
    ):
        entities("shop")["post"].insert(POSTS)  # no request: the platform itself
        yield session_cookie({"USER_ID": 1, "WORKSPACE_ID": 1})


def titles() -> list[str]:
    return sorted(row["title"] for row in entities("shop")["post"].find(limit=100))


def form_bodies(query: str) -> dict[str, tuple[str, str]]:
    """Content type and body of each form a page of another site can post."""
    return {
        "form": (
            "application/x-www-form-urlencoded",
            urllib.parse.urlencode({"query": query}),
        ),
        "multipart": (
            "multipart/form-data; boundary=xx",
            '--xx\r\nContent-Disposition: form-data; name="query"\r\n\r\n'
            f"{query}\r\n--xx--\r\n",
        ),
        "text": ("text/plain", json.dumps({"query": query})),
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", ["form", "multipart", "text"])
def test_a_cross_site_form_cannot_write_with_the_session_cookie(shop, path, kind):
    content_type, body = form_bodies(MUTATION)[kind]
    with platform_client() as client:
        response = client.post(
            path, content=body, headers={**shop, "Content-Type": content_type}
        )
        assert response.status_code == 415, response.text
        answer = response.json()
        assert answer["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert answer["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert answer["message"].startswith(
            "A GraphQL POST must be JSON (Content-Type: application/json)"
        )
        assert "csrf" not in titles()
        # The same cookie does write with a JSON body (no cross-site form can
        # send one without a CORS preflight).
        written = client.post(path, json={"query": MUTATION}, headers=shop)
    assert written.status_code == 200, written.text
    assert written.json()["data"]["savePost"]["title"] == "csrf"
    assert titles().count("csrf") == 1


@pytest.mark.parametrize("path", PATHS)
def test_a_mutation_over_get_with_the_session_cookie_writes_nothing(shop, path):
    with platform_client() as client:
        response = client.get(path, params={"query": MUTATION}, headers=shop)
    assert response.status_code == 405, response.text
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert "csrf" not in titles()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("key", "status", "code", "message"),
    [
        (2, 403, "FORBIDDEN", "Not allowed to change this row"),
        (3, 404, "NOT_FOUND", "No post with that key"),
    ],
    ids=["visible-not-hers", "hidden"],
)
def test_save_outside_the_save_rule_is_the_rest_error(
    shop, path, key, status, code, message
):
    mutation = f'mutation {{ savePost(input: {{id: {key}, title: "taken"}}) {{ id }} }}'
    with platform_client() as client:
        graphql = client.post(path, json={"query": mutation}, headers=shop)
        rest = client.patch(f"/shop/posts/{key}", json={"title": "taken"}, headers=shop)
    assert graphql.status_code == 200, graphql.text
    answer = graphql.json()
    assert answer["data"] == {"savePost": None}
    (error,) = answer["errors"]
    assert error["message"] == message
    assert error["extensions"] == {"code": code, "statusCode": status}
    assert error["path"] == ["savePost"]
    assert rest.status_code == status and rest.json()["code"] == code
    assert rest.json()["message"] == message
    assert "taken" not in titles()


@pytest.mark.parametrize("path", PATHS)
def test_save_inside_the_save_rule_still_updates(shop, path):
    mutation = 'mutation { savePost(input: {id: 1, title: "A2"}) { id title } }'
    with platform_client() as client:
        response = client.post(path, json={"query": mutation}, headers=shop)
    assert response.json() == {"data": {"savePost": {"id": 1, "title": "A2"}}}
    assert titles() == ["A2", "B", "C"]


@pytest.fixture
def live(transactional_db, shop):
    from platform_core.testing import live_server

    with live_server() as url:
        yield url


def mutate_over_websocket(url: str, cookie: dict, origin: str) -> dict:
    """Run MUTATION on a socket opened with ``cookie`` from ``origin``."""
    from websockets.sync.client import connect

    with connect(
        url.replace("http", "ws") + "/shop/graphql",
        subprotocols=["graphql-transport-ws"],
        additional_headers={**cookie, "Origin": origin},
    ) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        ws.send(
            json.dumps({"id": "m", "type": "subscribe", "payload": {"query": MUTATION}})
        )
        answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] == "next", answer
    return answer["payload"]


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_socket_opened_by_another_site_does_not_act_with_the_cookie(shop, live):
    payload = mutate_over_websocket(live, shop, "http://evil.example")
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN", payload
    assert "csrf" not in titles()
    # From the site itself, the same cookie is the user's session.
    payload = mutate_over_websocket(live, shop, live)
    assert payload["data"]["savePost"]["title"] == "csrf", payload
    assert titles().count("csrf") == 1
