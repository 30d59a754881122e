"""Serve the products GraphQL API with Joule and Platformatic; compare.

The same SQLite file as bench/rest.py (10,000 products, 20,000 orders) is
served by Joule (gunicorn + uvicorn workers) and Platformatic DB (Watt 3.x,
GraphQL at /graphql) with equal workers. wrk on loopback POSTs GraphQL
bodies: a 10-row list with each product's category, a get by random id with
its category, and a ``saveProduct`` mutation with a unique sku per request;
it prints requests/s, p99 latency, the ratio and Joule's SQL queries per
request. Then ``--subscribers`` websocket clients (graphql-transport-ws)
subscribe to ``productSaved`` on a one-worker server of each, ``--events``
REST inserts are written, and events/s written, deliveries/s and the latency
from sending an insert to its delivery are printed::

    .venv/bin/python bench/graphql.py [--duration 10] [--workers 2]
        [--skip-platformatic] [--subscribers 100] [--events 2000]
        [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
import rest  # noqa: E402

# This file is named like the graphql package: never let it shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

ROOT = rest.ROOT
PROTOCOL = "graphql-transport-ws"
# Where each server answers GraphQL and REST inserts of products.
GRAPHQL = {"Joule": "/products/graphql", "Platformatic": "/graphql"}
INSERT = {"Joule": "/products/products", "Platformatic": "/api/products"}
WRITERS = 8  # concurrent REST writers of the subscription run
SUBSCRIBERS_PER_PROCESS = 50
SUBSCRIPTION = "subscription { productSaved { id title } }"

# name, GraphQL document, highest random $ID$ (0: none). $ID$ becomes a
# random id, $SKU$ a sku unique per run, thread and request, $PRICE$ the
# price literal of the server's ProductInput (a string on both).
RELATION = "id title price category { name }"
SCENARIOS = [
    ("list (10 rows + category)", f"{{ products(limit: 10) {{ {RELATION} }} }}", 0),
    (
        "get by id + category",
        f"{{ getProductById(id: $ID$) {{ {RELATION} }} }}",
        rest.PRODUCTS,
    ),
    (
        "mutation (saveProduct)",
        'mutation { saveProduct(input: {sku: "$SKU$", title: "Bench", '
        "price: $PRICE$, stock: 1, categoryId: $ID$}) { id } }",
        rest.CATEGORIES,
    ),
]

# The wrk script of one scenario: args as bench/rest.py's (method, path,
# highest id, tag); the JSON body is this file's, with $ID$ and $SKU$.
WRK_LUA = """
local threads, counter = 0, 0
local method, path, maxid, tag
local body = [==[%s]==]
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  method, path, maxid, tag = args[1], args[2], tonumber(args[3]), args[4]
  math.randomseed(os.time() * 100 + tid)
end
function request()
  counter = counter + 1
  local sku = string.format("%%s-%%d-%%d", tag, tid, counter)
  local b = body:gsub("%%$SKU%%$", sku)
  b = b:gsub("%%$ID%%$", function() return tostring(math.random(1, maxid)) end)
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, b)
end
"""


def body(document: str, price: str = '"9.99"', sku: str = "$SKU$", id_: str = "$ID$"):
    """Return the JSON body of a GraphQL request, placeholders filled or kept."""
    query = document.replace("$PRICE$", price).replace("$SKU$", sku)
    return json.dumps({"query": query.replace("$ID$", id_)})


def post_graphql(url: str, payload: str) -> tuple[int, dict]:
    """POST a GraphQL body; return the status and the decoded answer."""
    import urllib.request

    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, payload.encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        with contextlib.suppress(ValueError):
            return exc.code, json.loads(exc.read() or b"{}")
        return exc.code, {}
    except OSError as exc:
        return 0, {"errors": [{"message": str(exc)}]}


def price_literal(url: str) -> str:
    """Return a price literal of the type ProductInput.price has on this server."""
    query = '{ __type(name: "ProductInput") { inputFields { name type { name } } } }'
    _, answer = post_graphql(url, json.dumps({"query": query}))
    fields = ((answer.get("data") or {}).get("__type") or {}).get("inputFields") or []
    kind = next((f["type"]["name"] for f in fields if f["name"] == "price"), None)
    return "9.99" if kind in ("Float", "Decimal") else '"9.99"'


def first_request(url: str, payload: str) -> tuple[str, str]:
    """Send one request; return its failure and why ('' when a 2xx, no errors)."""
    status, answer = post_graphql(url, payload)
    if not 200 <= status < 300:
        return f"HTTP {status}", json.dumps(answer.get("errors", answer))[:300]
    if answer.get("errors"):
        return "GraphQL errors", json.dumps(answer["errors"])[:300]
    return "", ""


def start_joule(
    db: Path, workers: int, folder: Path, servers: list, env: dict | None = None
) -> rest.Server:
    """Start gunicorn as the README's production section does (and rest.py)."""
    app = "platform_core.asgi:application"
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app]
    cmd += ["-b", "127.0.0.1:{port}", "-w", str(workers)]
    project = rest.db_project(db.parent)
    env = {"DATABASE_URL": f"sqlite:///{db}", "JOULE_ROOT": str(project), **(env or {})}
    env.setdefault("REDIS_URL", "")  # the in-memory layer unless asked
    log = folder / f"joule-{len(servers)}.log"
    servers.append(rest.Server("Joule", "/products", cmd, env, ROOT, log))
    servers[-1].wait_ready("/_joule/ready", timeout=90)
    return servers[-1]


def start_platformatic(db: Path, workers: int, folder: Path, servers: list):
    """Start Watt on bench/platformatic/watt.json (GraphQL is on by default)."""
    rest.start_platformatic(db, argparse.Namespace(workers=workers), folder, servers)
    return servers[-1]


# HTTP scenarios


def measure_http(args, servers: list, folder: Path) -> tuple[dict, list[str]]:
    """Run every scenario against every server; return results and notes."""
    results, notes = {}, []
    for index, (name, document, maxid) in enumerate(SCENARIOS):
        for server in servers:
            url = server.url + GRAPHQL[server.name]
            price = price_literal(url)
            tag = f"g{server.name[0]}{index}"  # unique skus per server and scenario
            failed, why = first_request(url, body(document, price, f"{tag}-pre", "7"))
            if failed:
                results[name, server.name] = {"failed": failed}
                notes.append(f"{server.name}, {name}: {failed} {why}; not measured")
                print(f"  {server.name:12} {name:27} FAILED: {failed} {why}")
                continue
            lua = folder / f"graphql-{server.name}-{index}.lua"
            lua.write_text(WRK_LUA % body(document, price))
            path = GRAPHQL[server.name]
            rest.wrk(server.url, "POST", path, maxid, rest.WARMUP, tag + "w", lua)
            result = rest.wrk(
                server.url, "POST", path, maxid, args.duration, tag + "m", lua
            )
            results[name, server.name] = result
            if result["errors"]:
                notes.append(f"{server.name}, {name}: {result['errors']}")
            rps, p99 = result["rps"], result["p99"]
            print(f"  {server.name:12} {name:27} {rps:6.0f} req/s  p99 {p99:5.1f} ms")
    return results, notes


def count_queries_in_process(db: Path) -> None:
    """Print {scenario: queries} of one request each (after one to warm up)."""
    rest.setup_django(db)
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from platform_core.testing import platform_client

    counts = {}
    with platform_client() as client:
        for name, document, _ in SCENARIOS:
            for attempt in ("warm", "count"):  # the first request loads the schema
                payload = json.loads(body(document, sku=f"q-{attempt}", id_="7"))
                with contextlib.ExitStack() as stack:
                    captured = [
                        stack.enter_context(CaptureQueriesContext(connections[alias]))
                        for alias in connections
                    ]
                    response = client.post(GRAPHQL["Joule"], json=payload)
                counts[name] = str(sum(len(c) for c in captured))
                if response.status_code >= 400 or response.json().get("errors"):
                    counts[name] = f"HTTP {response.status_code}"
                    break
    print(json.dumps(counts))


def report_http(args, servers: list, results: dict, notes: list, queries: dict):
    """Print the HTTP table, peak memory and notes."""
    rows = [
        ("scenario", "Joule req/s", "Joule p99 ms", "Platformatic req/s",
         "Platformatic p99 ms", "ratio (Joule/Platformatic)", "SQL queries/request"),
    ]  # fmt: skip
    for name, *_ in SCENARIOS:
        joule, plt = results.get((name, "Joule")), results.get((name, "Platformatic"))
        ratio = "-"
        if joule and plt and "rps" in joule and "rps" in plt:
            ratio = f"{joule['rps'] / plt['rps']:.2f}"
        row = (*rest.cells(joule), *rest.cells(plt), ratio, queries.get(name, "-"))
        rows.append((name, *row))
    print(
        f"\nGraphQL over HTTP: wrk -t2 -c32 -d{args.duration}s after a "
        f"{rest.WARMUP} s warm-up; {args.workers} worker(s) each\n"
    )
    rest.print_table(rows)
    print()
    rest.print_peaks(servers)
    for note in notes + ([queries["error"]] if "error" in queries else []):
        print(f"Note: {note}")
    for server in servers:
        if any("failed" in r for (_, who), r in results.items() if who == server.name):
            print(f"Last error of {server.name}: {server.last_error()}")


def run_http(args, db: Path, folder: Path, servers: list) -> bool:
    """Measure GraphQL over HTTP; return whether every scenario could be run."""
    queries = rest.count_queries(db, __file__)
    start_joule(db, args.workers, folder, servers)
    if not args.skip_platformatic:
        try:
            start_platformatic(db, args.workers, folder, servers)
        except Exception as exc:  # report it, go on with Joule alone
            print(f"Platformatic not run: {exc}\nContinuing with Joule only.")
            if len(servers) > 1:
                servers.pop().stop()
    stop = threading.Event()
    sampler = threading.Thread(
        target=rest.sample_memory, args=(servers, stop), daemon=True
    )
    sampler.start()
    try:
        results, notes = measure_http(args, servers, folder)
    finally:
        stop.set()
        sampler.join(timeout=5)
    report_http(args, servers, results, notes, queries)
    return not any("failed" in result for result in results.values())


# Subscriptions: subscriber processes


async def open_subscriber(url: str):
    """Connect, init and subscribe; return once the server has the subscription."""
    import websockets

    ws = await websockets.connect(
        url, subprotocols=[PROTOCOL], open_timeout=30, max_queue=None
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    payload = {"query": SUBSCRIPTION, "variables": {}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    # No "subscribed" answer in the protocol: a ping behind the subscribe
    # comes back once the subscribe has been handled.
    await ws.send(json.dumps({"type": "ping"}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("type") == "pong":
            return ws
        if message.get("type") in ("error", "complete"):
            raise RuntimeError(f"subscription refused: {message}")


class Tally:
    """What one subscriber process received: probes per socket, latencies."""

    def __init__(self, sockets: int, expected: int) -> None:
        self.probed = [False] * sockets
        self.counts = [0] * sockets
        self.expected = expected
        self.latencies: list[float] = []
        self.first = self.last = 0.0
        self.all_probed = asyncio.Event()
        self.all_done = asyncio.Event()

    def done(self) -> bool:
        return all(count >= self.expected for count in self.counts)

    def received(self, index: int, title: str, now: float) -> None:
        if title == "probe":
            self.probed[index] = True
            if all(self.probed):
                self.all_probed.set()
            return
        self.latencies.append((now - float(title)) * 1000)
        self.first = self.first or now
        self.last = now
        self.counts[index] += 1
        if self.counts[index] >= self.expected and self.done():
            self.all_done.set()


async def listen(ws, index: int, tally: Tally) -> None:
    """Count one socket's ``next`` messages; answer the server's pings."""
    import orjson

    with contextlib.suppress(Exception):
        async for raw in ws:
            now = time.time()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "next":
                data = message["payload"].get("data") or {}
                tally.received(index, data["productSaved"]["title"], now)
            elif kind == "ping":
                await ws.send('{"type":"pong"}')


async def subscriber_main(url: str, sockets: int, expected: int, conn: Connection):
    """Open the sockets, report ready, probed, then the tally when done/stopped."""
    gate = asyncio.Semaphore(20)

    async def opened(_: int):
        async with gate:
            return await open_subscriber(url)

    try:
        opened_sockets = await asyncio.gather(*map(opened, range(sockets)))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    tally = Tally(sockets, expected)
    tasks = [
        asyncio.create_task(listen(ws, i, tally)) for i, ws in enumerate(opened_sockets)
    ]
    conn.send(("ready", sockets))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(  # the parent's "stop"; a daemon: never waited for
        target=lambda: conn.recv() and loop.call_soon_threadsafe(stop.set),
        daemon=True,
    ).start()
    if await first_of(tally.all_probed, stop):
        conn.send(("probed", sockets))
        await first_of(tally.all_done, stop)
    stats = (sum(tally.counts), tally.latencies, tally.first, tally.last)
    conn.send(("done", stats))
    for ws in opened_sockets:
        await ws.close()
    for task in tasks:
        task.cancel()


async def first_of(wanted: asyncio.Event, stop: asyncio.Event) -> bool:
    """Wait for ``wanted`` or ``stop``; return whether ``wanted`` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in (wanted, stop)]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in waits:
        waiting.cancel()
    return wanted.is_set()


def subscriber_process(url: str, sockets: int, expected: int, conn: Connection):
    """The body of one subscriber process (spawned)."""
    asyncio.run(subscriber_main(url, sockets, expected, conn))


# Subscriptions: the writer and the run


async def write_products(url: str, count: int, prefix: str, title) -> dict:
    """Insert ``count`` products with WRITERS concurrent clients; return timings."""
    import httpx

    left = iter(range(count))
    failures: list[str] = []

    async def writer(client: httpx.AsyncClient) -> None:
        for i in left:
            row = {"sku": f"{prefix}-{i}", "title": title(), "price": "9.99"}
            row |= {"stock": 1, "categoryId": i % rest.CATEGORIES + 1}
            response = await client.post(url, json=row)
            if response.status_code >= 300:
                failures.append(f"HTTP {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.time()
        await asyncio.gather(*(writer(client) for _ in range(WRITERS)))
        return {"started": started, "ended": time.time(), "failures": failures}


def receive_all(
    pipes: list[Connection], kind: str, timeout: float, answers: dict | None = None
) -> list | None:
    """Wait for one ``kind`` message from every pipe (``answers``: those already
    in); return them in order, or None on timeout."""
    deadline, answers = time.monotonic() + timeout, {} if answers is None else answers
    while len(answers) < len(pipes):
        left = deadline - time.monotonic()
        waiting = [p for p in pipes if p not in answers]
        ready = multiprocessing.connection.wait(waiting, timeout=max(left, 0))
        if not ready:
            return None
        for pipe in ready:
            message = pipe.recv()
            if message[0] == "error":
                raise RuntimeError(message[1])
            if message[0] == kind:
                answers[pipe] = message[1]
    return [answers[p] for p in pipes]


def probe(server: rest.Server, pipes: list[Connection]) -> None:
    """Insert probe rows until every subscriber has received one."""
    url, answers = server.url + INSERT[server.name], {}
    for attempt in range(5):
        row = {"sku": f"probe-{uuid.uuid4().hex[:12]}", "title": "probe"}
        row |= {"price": "1.00", "stock": 1, "categoryId": 1}
        status = rest.send(url, "POST", row)
        if not 200 <= status < 300:
            raise RuntimeError(f"probe insert: HTTP {status}")
        if receive_all(pipes, "probed", 2 + attempt * 2, answers) is not None:
            return
    raise RuntimeError("the subscribers did not all receive the probe event")


def measure_subscriptions(args, server: rest.Server, label: str) -> dict:
    """Subscribe, write, count deliveries; return the row of the table."""
    url = server.url.replace("http", "ws") + GRAPHQL[server.name]
    context = multiprocessing.get_context("spawn")
    processes, pipes = [], []
    for start in range(0, args.subscribers, SUBSCRIBERS_PER_PROCESS):
        sockets = min(SUBSCRIBERS_PER_PROCESS, args.subscribers - start)
        here, there = context.Pipe()
        process = context.Process(
            target=subscriber_process, args=(url, sockets, args.events, there)
        )
        process.start()
        processes.append(process)
        pipes.append(here)
    try:
        if receive_all(pipes, "ready", 120) is None:
            raise RuntimeError("the subscribers could not connect in 120 s")
        probe(server, pipes)
        prefix = f"sub-{uuid.uuid4().hex[:8]}"
        insert = server.url + INSERT[server.name]
        writes = asyncio.run(
            write_products(insert, args.events, prefix, lambda: f"{time.time():.6f}")
        )
        wait = max(30.0, args.events / 50)
        stats = receive_all(pipes, "done", wait)
        if stats is None:
            for pipe in pipes:
                pipe.send("stop")
            stats = receive_all(pipes, "done", 30) or []
        return subscription_row(args, label, writes, stats)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def subscription_row(args, label: str, writes: dict, stats: list) -> dict:
    """Return the figures of one subscription run."""
    delivered = sum(count for count, *_ in stats)
    latencies = sorted(ms for _, lats, *_ in stats for ms in lats)
    last = max((end for *_, end in stats if end), default=writes["ended"])
    expected = args.events * args.subscribers
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else []
    return {
        "server": label,
        "written": args.events - len(writes["failures"]),
        "write_rate": args.events / (writes["ended"] - writes["started"]),
        "delivered": delivered,
        "expected": expected,
        "delivery_rate": delivered / max(last - writes["started"], 1e-9),
        "p50": quantiles[49] if quantiles else None,
        "p99": quantiles[98] if quantiles else None,
        "failures": writes["failures"][:3],
    }


def report_subscriptions(args, rows: list[dict], notes: list[str]) -> None:
    """Print the subscription table and its notes."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    table = [
        ("server (workers)", "inserts/s written", "deliveries", "deliveries/s",
         "p50 ms", "p99 ms"),
    ]  # fmt: skip
    for row in rows:
        if "failed" in row:
            table.append((row["server"], row["failed"], "-", "-", "-", "-"))
            continue
        table.append(
            (
                row["server"],
                f"{row['write_rate']:,.0f}",
                f"{row['delivered']:,} of {row['expected']:,}",
                f"{row['delivery_rate']:,.0f}",
                ms(row["p50"]),
                ms(row["p99"]),
            )
        )
        for failure in row["failures"]:
            notes.append(f"{row['server']}: a write failed: {failure}")
    print(
        f"\nSubscriptions: {args.subscribers} graphql-transport-ws subscribers to "
        f"`{SUBSCRIPTION}`, {args.events:,} REST inserts by {WRITERS} concurrent "
        "writers; latency from sending an insert to its delivery\n"
    )
    rest.print_table(table)
    for note in notes:
        print(f"Note: {note}")


def subscription_run(args, label: str, start) -> tuple[dict, list[str]]:
    """Start a server with ``start``, measure, stop it; return its row, notes."""
    servers: list[rest.Server] = []
    try:
        server = start(servers)
        row = measure_subscriptions(args, server, label)
        print(
            f"  {label:28} {row['delivery_rate']:8,.0f} deliveries/s, "
            f"{row['delivered']:,} of {row['expected']:,}"
        )
        notes = []
        if row["delivered"] < row["expected"]:
            notes.append(f"{label}: {row['expected'] - row['delivered']:,} missing")
        return row, notes
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        print(f"  {label:28} FAILED: {error}")
        tail = servers[-1].last_error() if servers else ""
        return {"server": label, "failed": "failed"}, [f"{label}: {error} {tail}"]
    finally:
        for server in servers:
            server.stop()


def run_subscriptions(args, db: Path, folder: Path) -> bool:
    """Measure subscriptions on each server; return whether all could run."""
    runs = [
        ("Joule, in-memory layer (1)", lambda s: start_joule(db, 1, folder, s)),
    ]
    if args.redis:
        redis = {
            "REDIS_URL": args.redis,
            "JOULE_CHANNELS_PREFIX": f"bench{os.getpid()}",
        }
        runs.append(
            (
                f"Joule, Redis layer ({args.workers})",
                lambda s: start_joule(db, args.workers, folder, s, redis),
            )
        )
    if not args.skip_platformatic:
        runs.append(
            ("Platformatic (1)", lambda s: start_platformatic(db, 1, folder, s))
        )
    rows, notes = [], []
    for label, start in runs:
        row, more = subscription_run(args, label, start)
        rows.append(row)
        notes.extend(more)
    report_subscriptions(args, rows, notes)
    return not any("failed" in row for row in rows)


def benchmark(args: argparse.Namespace, folder: Path, servers: list) -> bool:
    """Run it all; return whether every scenario could be measured."""
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    db = folder / "bench.sqlite3"
    started = time.monotonic()
    rest.build_database(db)
    took = time.monotonic() - started
    print(
        f"Database: {rest.PRODUCTS:,} products, {rest.ORDERS:,} orders ({took:.1f} s)"
    )
    print(f"Load average before: {load()}")
    ok = True
    if not args.skip_http:
        ok = run_http(args, db, folder, servers)
        for server in servers:
            server.stop()
        servers.clear()
    if args.subscribers:
        ok = run_subscriptions(args, db, folder) and ok
    print(f"Load average after: {load()}")
    return ok


def load() -> str:
    """Return the 1, 5 and 15 minute load averages (other work on the machine)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="workers per server")
    parser.add_argument("--skip-platformatic", action="store_true")
    parser.add_argument("--skip-http", action="store_true", help="subscriptions only")
    parser.add_argument("--subscribers", type=int, default=100, help="0: none")
    parser.add_argument("--events", type=int, default=2000, help="inserts written")
    parser.add_argument("--redis", help="also run Joule on channels-redis at this URL")
    parser.add_argument("--count-queries", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_queries:
        count_queries_in_process(args.count_queries)
        return 0
    signal.signal(signal.SIGTERM, rest.interrupt)  # leave as Ctrl-C: servers stop
    sys.stdout.reconfigure(line_buffering=True)
    servers: list[rest.Server] = []
    with tempfile.TemporaryDirectory(prefix="joule-bench-") as tmp:
        try:
            ok = benchmark(args, Path(tmp), servers)
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            return 130
        finally:
            for server in servers:
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
