"""Rules edited in Django admin, and the admin itself obeying the rules for
users who are not superusers."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import connection as platform_db
from django.test import Client, RequestFactory

from platform_core.admin import build_model_admin
from platform_core.authorization.identity import Credentials
from platform_core.entities import entities
from platform_core.models import AuthorizationRule, UserClaims
from platform_core.testing import platform_client
from tests.databases import fresh_database
from tests.integration.conftest import configured_db_service

USER = {
    "X-JOULE-ADMIN-SECRET": "s3cret",
    "X-JOULE-ROLE": "user",
    "X-JOULE-WORKSPACE-ID": "1",
}


@pytest.fixture
def shop(db, tmp_path, django_db_blocker):
    """A db service with [authorization] and no rules in its file."""
    table = (
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, workspace_id INTEGER)"
    )
    with (
        django_db_blocker.unblock(),
        fresh_database("sqlite", tmp_path) as url,
        configured_db_service(
            tmp_path, url, '[authorization]\nadminSecret = "s3cret"\n', "shop", [table]
        ) as spec,
    ):
        entities("shop")["post"].insert(
            [{"title": "one", "workspaceId": 1}, {"title": "two", "workspaceId": 2}]
        )
        yield spec


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org"))
    return client


def titles(headers=USER):
    with platform_client() as client:
        answer = client.get("/shop/posts", headers=headers)
    if answer.status_code != 200:
        return answer.status_code, answer.json()["code"]
    return 200, [row["title"] for row in answer.json()]


def add_rule(client, **fields):
    data = {
        "service": "shop",
        "position": "0",
        "role": "user",
        "entities": "post",
        "find_rule": "false",
        "save_rule": "false",
        "delete_rule": "false",
        "defaults": "{}",
        "fields": "null",
        **fields,
    }
    return client.post("/admin/platform_core/authorizationrule/add/", data)


def test_a_rule_added_in_the_admin_applies_on_the_next_request(shop, staff_client):
    assert titles()[0] == 403  # no rule yet
    added = add_rule(staff_client, find_rule='["workspaceId = $WORKSPACE_ID"]')
    assert added.status_code == 302, added.content.decode()[:2000]
    assert titles() == (200, ["one"])
    # Another process changing the table is seen on the next request too.
    with platform_db.cursor() as cursor:
        cursor.execute(
            "UPDATE joule_authorization_rule SET find_rule = %s, "
            "updated_at = CURRENT_TIMESTAMP",
            ['["workspaceId = 2"]'],
        )
    assert titles() == (200, ["two"])
    AuthorizationRule.objects.all().delete()
    assert titles()[0] == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"find_rule": '["workspaceid = $X"]'}, "Did you mean &#x27;workspaceId&#x27;"),
        ({"entities": "psot"}, "no entity &#x27;psot&#x27;"),
        ({"find_rule": '"title ~ 1"'}, "is not a condition like"),
        ({"service": "orders"}, "has no [authorization]"),
    ],
)
def test_invalid_admin_rules_are_refused_with_the_reason(
    shop, staff_client, fields, message
):
    answer = add_rule(staff_client, **fields)
    assert answer.status_code == 200  # the form again, with the error
    assert message in answer.content.decode()
    assert not AuthorizationRule.objects.exists()


@pytest.fixture
def post_admin(shop):
    """The admin of ``post`` as the admin site builds it, with the rules."""
    AuthorizationRule.objects.create(
        service="shop",
        role="user",
        entities="post",
        find_rule=["workspaceId = $WORKSPACE_ID"],
        save_rule=["workspaceId = $WORKSPACE_ID"],
    )
    entity = entities("shop")["post"]
    return build_model_admin(entity)(entity.info.model, admin.site)


def staff_request(workspace: int):
    user = User.objects.create_user(f"staff{workspace}", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="user")[0])
    UserClaims.objects.create(user=user, claims={"WORKSPACE_ID": workspace})
    request = RequestFactory().get("/admin/")
    request.user = user
    request.joule_credentials = Credentials({}, user)
    return request


def test_the_admin_shows_a_staff_user_only_the_rows_of_their_rule(post_admin):
    request = staff_request(1)
    rows = post_admin.get_queryset(request)
    assert [row.title for row in rows] == ["one"]
    assert post_admin.has_view_permission(request)
    assert post_admin.has_change_permission(request)
    assert not post_admin.has_delete_permission(request)  # no delete rule


def test_the_admin_refuses_moving_a_row_out_of_the_rule(post_admin):
    request = staff_request(1)
    row = post_admin.get_queryset(request).get(title="one")
    row.workspaceId = 2
    with pytest.raises(PermissionDenied):
        post_admin.save_model(request, row, form=None, change=True)
