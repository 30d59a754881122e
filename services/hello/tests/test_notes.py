"""django-guardian object permissions in a custom service: shared notes."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def logged_in(name: str) -> Client:
    client = Client()
    client.force_login(User.objects.create_user(name))
    return client


def test_a_note_is_seen_by_its_author_and_who_it_is_shared_with():
    alice, bob, carol = logged_in("alice"), logged_in("bob"), logged_in("carol")
    note = alice.post(
        "/hello/notes", {"text": "secret"}, content_type="application/json"
    )
    assert note.status_code == 201, note.content
    pk = note.json()["id"]
    assert bob.get(f"/hello/notes/{pk}").status_code == 404  # not even its existence
    assert bob.get("/hello/notes").json() == []
    shared = alice.post(
        f"/hello/notes/{pk}/share", {"username": "bob"}, content_type="application/json"
    )
    assert shared.json() == {"shared": pk, "with": "bob"}
    assert bob.get(f"/hello/notes/{pk}").json()["text"] == "secret"
    # bob may view, not change: he cannot share it on
    onward = bob.post(
        f"/hello/notes/{pk}/share",
        {"username": "carol"},
        content_type="application/json",
    )
    assert onward.status_code == 403
    assert carol.get(f"/hello/notes/{pk}").status_code == 404


def test_notes_need_a_login_and_valid_input():
    assert Client().get("/hello/notes").status_code == 403
    alice = logged_in("alice")
    assert (
        alice.post("/hello/notes", {}, content_type="application/json").status_code
        == 400
    )
    pk = alice.post(
        "/hello/notes", {"text": "x"}, content_type="application/json"
    ).json()["id"]
    unknown = alice.post(
        f"/hello/notes/{pk}/share",
        {"username": "nobody"},
        content_type="application/json",
    )
    assert unknown.status_code == 400
