"""SIGTERM to the production server under load: every request already
accepted is answered, every acknowledged write is in the database."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import httpx
import pytest

from tests.servers import (
    environment,
    free_port,
    production_project,
    spawn_manage,
    wait_for,
)

CLIENTS = 12


@pytest.fixture
def project(tmp_path):
    return production_project(tmp_path)


def test_sigterm_under_load_cuts_no_request_and_loses_no_write(project, tmp_path):
    (project / "services" / "legacy-express").unlink()
    database = tmp_path / "db.sqlite3"
    port = free_port()
    env = environment(
        project,
        f"sqlite:///{database}",
        JOULE_BIND=f"127.0.0.1:{port}",
        JOULE_WORKERS="2",
    )
    server = spawn_manage(project, env, "start", log=tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}"
    wait_for(url, server)
    category = httpx.post(url + "/products/categories", json={"name": "Load"})
    category_id = category.json()["id"]
    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def client(number: int) -> None:
        sequence = 0
        while not stop.is_set():
            sku = f"c{number}-{sequence}"
            sequence += 1
            body = {"sku": sku, "title": sku, "price": 1, "categoryId": category_id}
            try:
                # A new connection each time: a request is either refused
                # (the server no longer accepts) or in flight and answered.
                answer = httpx.post(url + "/products/products", json=body, timeout=30)
            except httpx.ConnectError:
                return  # not accepted: the server is going away
            except httpx.HTTPError as exc:
                failures.append(f"{sku}: {exc!r}")
                return
            if answer.status_code == 201:
                acknowledged.append(sku)
            else:
                failures.append(f"{sku}: HTTP {answer.status_code} {answer.text}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(3)  # under load
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert server.returncode == 0
    assert failures == []
    assert len(acknowledged) > 10  # it was under load when stopped
    with sqlite3.connect(database) as connection:
        stored = {sku for (sku,) in connection.execute("SELECT sku FROM products")}
    assert set(acknowledged) <= stored


def test_sigterm_closes_open_websockets_with_going_away(project, tmp_path):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    (project / "services" / "legacy-express").unlink()
    port = free_port()
    env = environment(
        project,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        JOULE_BIND=f"127.0.0.1:{port}",
        JOULE_WORKERS="1",
    )
    server = spawn_manage(project, env, "start", log=tmp_path / "server.log")
    wait_for(f"http://127.0.0.1:{port}", server)
    with connect(
        f"ws://127.0.0.1:{port}/products/graphql",
        subprotocols=["graphql-transport-ws"],
    ) as socket:
        socket.send('{"type": "connection_init"}')
        assert "connection_ack" in socket.recv(timeout=10)
        server.send_signal(signal.SIGTERM)
        try:
            socket.recv(timeout=20)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1001
        else:
            raise AssertionError("the websocket stayed open")
    server.wait(timeout=30)
    assert server.returncode == 0
