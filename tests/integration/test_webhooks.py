"""Outgoing webhooks against a real local HTTP receiver: body, signature,
retries with backoff, giving up, and the events each webhook asks for."""

import dataclasses
import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections

from platform_core.config.reader import TableReader
from platform_core.config.services import Webhook, read_db_options
from platform_core.db.connections import alias_for
from platform_core.entities import entities
from platform_core.exceptions import ConfigError
from platform_core.testing import register_temporarily
from tests.databases import connection_alias, fresh_database
from tests.integration.conftest import make_db_service


class Receiver:
    """An HTTP server that records POSTs and answers the statuses it is given."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.arrived:
                    receiver.requests.append((dict(self.headers), body, status))
                    receiver.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count, timeout=10):
        with self.arrived:
            assert self.arrived.wait_for(
                lambda: len(self.requests) >= count, timeout
            ), f"{len(self.requests)} of {count} deliveries arrived"
        return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def shop(tmp_path, django_db_blocker):
    """Start a db service with ``posts`` and the given webhooks; return entities."""
    with django_db_blocker.unblock(), fresh_database("sqlite", tmp_path) as url:
        stack = []

        def start(*hooks):
            spec = make_db_service(tmp_path / "shop", url)
            spec = dataclasses.replace(
                spec, options=dataclasses.replace(spec.options, webhooks=hooks)
            )
            alias = connection_alias(alias_for(spec), url, tmp_path)
            alias.__enter__()
            stack.append(alias)
            with connections[alias_for(spec)].cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL)"
                )
            registered = register_temporarily(spec)
            registered.__enter__()
            stack.append(registered)
            return entities("shop")["post"]

        yield start
        for context in reversed(stack):
            context.__exit__(None, None, None)


def test_each_write_is_posted_as_json_with_a_signature(receiver, shop):
    posts = shop(Webhook("post", receiver.url, secret="s3cret"))
    row = posts.insert([{"title": "Dog"}])[0]
    posts.delete(where={"id": {"eq": row["id"]}})
    # Deliveries run on a thread pool: they may arrive in either order.
    by_event = {h["X-JOULE-EVENT"]: (h, body) for h, body, _ in receiver.wait_for(2)}
    assert sorted(by_event) == ["shop.post.deleted", "shop.post.saved"]
    headers, body = by_event["shop.post.saved"]
    assert json.loads(body) == {
        "event": "shop.post.saved",
        "service": "shop",
        "entity": "post",
        "action": "saved",
        "row": {"id": row["id"], "title": "Dog"},
    }
    deleted_headers, deleted = by_event["shop.post.deleted"]
    assert json.loads(deleted)["event"] == "shop.post.deleted"
    assert deleted_headers["X-JOULE-DELIVERY"] != headers["X-JOULE-DELIVERY"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-JOULE-EVENT"] == "shop.post.saved"
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-JOULE-SIGNATURE"] == f"sha256={expected}"


def test_failed_deliveries_are_retried_with_backoff(receiver, shop, caplog):
    receiver.statuses = [500, 503]
    posts = shop(Webhook("*", receiver.url, backoff=0.05))
    with caplog.at_level(logging.WARNING, logger="joule.webhooks"):
        posts.insert([{"title": "Cat"}])
        attempts = receiver.wait_for(3)
    assert [status for _, _, status in attempts] == [500, 503, 200]
    deliveries = {headers["X-JOULE-DELIVERY"] for headers, _, _ in attempts}
    assert len(deliveries) == 1  # one event, retried under one delivery id
    assert len({body for _, body, _ in attempts}) == 1
    warnings = [r.getMessage() for r in caplog.records]
    assert any("HTTP 500" in m and "attempt 1" in m for m in warnings), warnings
    assert any("HTTP 503" in m and "attempt 2" in m for m in warnings), warnings


def test_an_unreachable_receiver_never_blocks_the_write(receiver, shop, caplog):
    url = receiver.url
    receiver.close()  # nothing listens there any more
    posts = shop(Webhook("post", url, retries=2, backoff=0.01, timeout=1))
    with caplog.at_level(logging.WARNING, logger="joule.webhooks"):
        started = time.monotonic()
        assert posts.insert([{"title": "Owl"}])[0]["title"] == "Owl"
        assert time.monotonic() - started < 1  # the write did not wait
        deadline = time.monotonic() + 10
        while not any("gave up" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "no 'gave up' error was logged"
            time.sleep(0.02)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "after 3 attempts" in errors[0].getMessage()


def test_only_the_events_a_webhook_names_are_sent(receiver, shop):
    posts = shop(
        Webhook("post", receiver.url, events=("deleted",)),
        Webhook("other", receiver.url + "/never"),
    )
    row = posts.insert([{"title": "kept"}])[0]
    posts.delete(where={"id": {"eq": row["id"]}})
    (_, body, _), *_ = receiver.wait_for(1)
    assert json.loads(body)["event"] == "shop.post.deleted"
    time.sleep(0.2)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"entity": "post", "url": "ftp://x"},
            "webhooks[0].url: 'ftp://x' must start with http:// or https://",
        ),
        (
            {"entity": "post", "url": "http://x", "events": ["created"]},
            'webhooks[0].events: [\'created\'] must list "saved" and/or "deleted"',
        ),
        (
            {"entity": "post", "url": "http://x", "retries": -1},
            "retries and backoff must be 0 or more",
        ),
        ({"url": "http://x"}, "webhooks[0].entity"),
        ({"entity": "post", "url": "http://x", "retry": 1}, "unknown key"),
    ],
)
def test_webhook_config_errors_name_the_key(table, message):
    reader = TableReader({"webhooks": [table]}, "services/shop/service.toml")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        read_db_options(reader, "shop")


def test_a_webhook_on_an_unknown_entity_fails_with_did_you_mean(
    receiver, shop, django_db_blocker
):
    from platform_core.gateway.routing.urlconfs import urlconf_for
    from platform_core.registry import services

    shop(Webhook("psot", receiver.url))
    with django_db_blocker.unblock(), pytest.raises(ConfigError) as error:
        _ = urlconf_for(services.get("shop")).urlpatterns
    assert "webhooks[0].entity: no entity 'psot'" in str(error.value)
    assert "Did you mean 'post'?" in str(error.value)


def test_shutdown_delivers_the_retries_that_are_due(receiver, shop):
    from platform_core.events.webhooks import webhooks

    receiver.statuses = [500]  # the first attempt fails, the retry is due soon
    posts = shop(Webhook("post", receiver.url, backoff=0.2))
    posts.insert([{"title": "Due"}])
    assert receiver.wait_for(1)
    assert webhooks.drain(5.0) == 0
    assert [status for _, _, status in receiver.wait_for(2)] == [500, 200]


def test_shutdown_logs_each_delivery_it_drops(receiver, shop, caplog):
    from platform_core.events.webhooks import webhooks

    receiver.statuses = [500]  # the retry falls after the drain's budget
    posts = shop(Webhook("post", receiver.url, backoff=30))
    with caplog.at_level(logging.ERROR, logger="joule.webhooks"):
        posts.insert([{"title": "Late"}])
        assert receiver.wait_for(1)
        deadline = time.monotonic() + 5
        while webhooks.drain(0.2) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the failed attempt is not scheduled yet
    dropped = [r.getMessage() for r in caplog.records]
    assert any("not delivered (shutdown before attempt 2)" in m for m in dropped)
