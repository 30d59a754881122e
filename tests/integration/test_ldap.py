"""LDAP logins against a real slapd: groups become roles, attributes claims,
and the rules of a db service apply to the logged-in session."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from platform_core.authorization.ldap import ldap_settings
from platform_core.config.types import LdapConfig
from platform_core.entities import entities
from platform_core.models import UserClaims
from platform_core.testing import skip_or_fail
from tests.databases import fresh_database
from tests.integration.conftest import configured_db_service

SUFFIX = "dc=example,dc=org"
SEED = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
mail: alice@example.org
departmentNumber: 1
userPassword: wonderland

dn: uid=bob,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Builder
departmentNumber: 2
userPassword: canwefixit

dn: cn=user,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: user
member: uid=alice,ou=people,{SUFFIX}
member: uid=bob,ou=people,{SUFFIX}
"""
RULES = """
[authorization]
adminSecret = "s3cret"
[[authorization.rules]]
role = "user"
entity = "note"
find = ["workspaceId = $WORKSPACE_ID"]
"""


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """A real OpenLDAP server on a free port, seeded with people and a group."""
    if shutil.which("slapd") is None and not os.path.exists("/usr/sbin/slapd"):
        skip_or_fail("slapd is not installed (Debian packages slapd ldap-utils)")
    os.environ["TMP"] = str(tmp_path_factory.mktemp("slapd"))
    from slapdtest import SlapdObject

    class Server(SlapdObject):
        suffix = SUFFIX
        root_cn = "admin"
        root_pw = "adminpw"
        openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")

    server = Server()
    server.start()
    server.ldapadd(SEED)
    yield server
    server.stop()


@pytest.fixture
def ldap_login(slapd, settings):
    """LDAP logins on, configured as ``[ldap]`` of joule.toml would."""
    config = LdapConfig(
        server=slapd.ldap_uri,
        bind_dn=slapd.root_dn,
        bind_password=slapd.root_pw,
        user_search=f"ou=people,{SUFFIX}",
        group_search=f"ou=groups,{SUFFIX}",
        claims=(("WORKSPACE_ID", "departmentNumber"),),
    )
    for name, value in ldap_settings(config).items():
        setattr(settings, name, value)


def test_ldap_users_get_groups_as_roles_and_attributes_as_claims(db, ldap_login):
    alice = authenticate(username="alice", password="wonderland")
    assert alice is not None and alice.email == "alice@example.org"
    assert list(alice.groups.values_list("name", flat=True)) == ["user"]
    assert UserClaims.objects.get(user=alice).claims == {"WORKSPACE_ID": "1"}
    assert authenticate(username="alice", password="wrong") is None
    assert authenticate(username="nobody", password="x") is None


@pytest.fixture
def notes(db, tmp_path, django_db_blocker):
    """A db service whose rule shows each workspace its own notes."""
    table = (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, workspace_id INTEGER)"
    )
    with (
        django_db_blocker.unblock(),
        fresh_database("sqlite", tmp_path) as url,
        configured_db_service(tmp_path, url, RULES, "notes", [table]) as spec,
    ):
        entities("notes")["note"].insert(
            [{"body": "one", "workspaceId": 1}, {"body": "two", "workspaceId": 2}]
        )
        yield spec


@pytest.mark.parametrize(
    ("user", "password", "bodies"),
    [("alice", "wonderland", ["one"]), ("bob", "canwefixit", ["two"])],
)
def test_login_page_then_rules_follow_the_ldap_session(
    ldap_login, notes, user, password, bodies
):
    client = Client()
    assert client.get("/notes/notes").status_code == 403  # anonymous: no rule
    page = client.get("/_joule/login")
    assert page.status_code == 200 and b"Log in" in page.content
    logged = client.post(
        "/_joule/login", {"username": user, "password": password, "next": "/_joule/"}
    )
    assert logged.status_code == 302 and logged["Location"] == "/_joule/"
    rows = client.get("/notes/notes").json()
    assert [row["body"] for row in rows] == bodies
    client.post("/_joule/logout")
    assert client.get("/notes/notes").status_code == 403


def test_a_wrong_password_stays_on_the_login_page(ldap_login, db):
    client = Client()
    page = client.post("/_joule/login", {"username": "alice", "password": "no"})
    assert page.status_code == 200 and b"Wrong user name or password" in page.content


def test_the_auth_service_issues_tokens_to_ldap_users(ldap_login, db, monkeypatch):
    import jwt

    secret = "ldap-token-signing-secret-0123456789abcdef"
    monkeypatch.setenv("JOULE_JWT_SECRET", secret)
    client = Client()
    answer = client.post(
        "/auth/token",
        {"username": "bob", "password": "canwefixit"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    claims = jwt.decode(answer.json()["token"], secret, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["workspace_id"]) == (
        "bob",
        "user",
        "2",
    )
