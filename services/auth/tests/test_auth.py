"""The auth service: tokens, the verify webhook, and db services trusting them."""

from __future__ import annotations

import contextlib

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from platform_core.entities import entities
from platform_core.models import UserClaims
from platform_core.testing import platform_client
from tests.databases import fresh_database
from tests.integration.conftest import configured_db_service

SECRET = "the-auth-service-signing-secret-0123456789"
RULE = """
[[authorization.rules]]
role = "user"
entity = "note"
find = ["workspaceId = $WORKSPACE_ID"]
"""


@pytest.fixture
def alice(db, monkeypatch):
    monkeypatch.setenv("JOULE_JWT_SECRET", SECRET)
    user = User.objects.create_user("alice", password="wonderland")
    user.groups.add(Group.objects.create(name="user"))
    UserClaims.objects.create(user=user, claims={"WORKSPACE_ID": 1})
    return user


def token_for(client, username="alice", password="wonderland"):
    return client.post("/auth/token", json={"username": username, "password": password})


def test_a_token_carries_roles_and_claims(alice):
    with platform_client() as client:
        answer = token_for(client)
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice" and claims["role"] == "user"
    assert claims["workspace_id"] == 1 and claims["user_id"] == alice.pk
    assert claims["exp"] > 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "alice", "password": "nope"}, 401, "UNAUTHORIZED"),
        ({"username": "alice"}, 400, "INVALID_BODY"),
        ("not json", 400, "INVALID_BODY"),
    ],
)
def test_bad_token_requests_are_json_errors(alice, body, status, code):
    with platform_client() as client:
        if isinstance(body, str):
            answer = client.post("/auth/token", content=body)
        else:
            answer = client.post("/auth/token", json=body)
    assert answer.status_code == status and answer.json()["code"] == code


def test_no_secret_is_a_503(alice, monkeypatch):
    monkeypatch.delenv("JOULE_JWT_SECRET")
    with platform_client() as client:
        assert token_for(client).status_code == 503


def test_verify_answers_claims_of_a_token_or_a_session(alice):
    with platform_client() as client:
        token = token_for(client).json()["token"]
        verified = client.post(
            "/auth/verify", headers={"Authorization": f"Bearer {token}"}
        )
        assert verified.json()["workspace_id"] == 1
        forged = client.post("/auth/verify", headers={"Authorization": "Bearer x.y.z"})
        assert forged.status_code == 401
        assert client.post("/auth/verify").status_code == 401
    browser = Client()
    browser.post("/auth/login", {"username": "alice", "password": "wonderland"})
    assert browser.post("/auth/verify").json()["sub"] == "alice"


@pytest.fixture
def notes(alice, tmp_path, django_db_blocker):
    """Start a db service trusting the auth service one way or the other."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())

        def start(identity: str):
            url = stack.enter_context(fresh_database("sqlite", tmp_path))
            toml = f"[authorization]\n{identity}\n{RULE}"
            table = (
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT,"
                " workspace_id INTEGER)"
            )
            stack.enter_context(
                configured_db_service(tmp_path, url, toml, "notes", [table])
            )
            entities("notes")["note"].insert(
                [
                    {"body": "mine", "workspaceId": 1},
                    {"body": "theirs", "workspaceId": 2},
                ]
            )

        yield start


@pytest.mark.parametrize(
    "identity",
    [
        'webhook = { url = "http://auth.internal/verify" }',
        f'jwt = {{ secret = "{SECRET}" }}',
    ],
    ids=["webhook", "jwt"],
)
def test_db_services_trust_the_auth_service(notes, identity):
    notes(identity)
    with platform_client() as client:
        token = token_for(client).json()["token"]
        rows = client.get("/notes/notes", headers={"Authorization": f"Bearer {token}"})
        assert [row["body"] for row in rows.json()] == ["mine"]
        refused = client.get("/notes/notes", headers={"Authorization": "Bearer bad"})
        assert refused.status_code == 401
