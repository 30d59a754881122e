"""Serve the Next.js storefront through Joule's proxy and directly; compare.

Joule serves the platform as the README's production section says (gunicorn
+ uvicorn workers); each worker builds (once) and starts the storefront of
proxied_frontends/storefront and proxies /storefront to it. Beside it, one
more `next start` of the same build is hit directly. Both render their pages
from the products service of the same Joule (JOULE_URL), on a SQLite file
seeded with the catalogue. wrk on loopback measures requests/s and p99 of a
page, a product page, an API route and two static assets, through the proxy
and directly, in the same run::

    .venv/bin/python bench/frontend.py [--duration 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
import rest  # noqa: E402

ROOT = rest.ROOT
APP = ROOT / "proxied_frontends" / "storefront"
PREFIX = "/storefront"
CATALOGUE = ROOT / "services" / "products" / "seeds" / "catalogue.json"
TARGET = 0.6  # the goal: through the proxy >= 0.6 of direct
# name, path under the prefix ("{chunk}": a script the home page references).
SCENARIOS = [
    ("page / (lists products)", ""),
    ("product page", "/products/5"),
    ("API route /api/health", "/api/health"),
    ("static /_next/static chunk", "{chunk}"),
    ("public asset /logo.svg", "/logo.svg"),
]


def build_database(path: Path) -> None:
    """Create the products tables and load the catalogue seed."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "JOULE_ROOT": str(ROOT)}
    for args in (["dbmigrate", "products"], ["dbseed", "products", str(CATALOGUE)]):
        command = [sys.executable, str(ROOT / "manage.py"), *args]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=99)


def start_joule(db: Path, workers: int, folder: Path) -> rest.Server:
    """Start gunicorn as the README's production section does; wait for Next."""
    app = "platform_core.asgi:application"
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app]
    cmd += ["-b", "127.0.0.1:{port}", "-w", str(workers)]
    env = {"DATABASE_URL": f"sqlite:///{db}", "JOULE_ROOT": str(ROOT)}
    server = rest.Server("Joule", PREFIX, cmd, env, ROOT, folder / "joule.log")
    # The first start may run npm ci and next build.
    server.wait_ready(f"{PREFIX}/api/health", timeout=300)
    return server


def start_direct(joule: rest.Server, folder: Path) -> rest.Server:
    """Start `next start` of the same build, reading products from Joule."""
    env = {
        "PORT": "{port}",
        "HOST": "127.0.0.1",
        "BASE_PATH": PREFIX,
        "JOULE_URL": joule.url,
        "NODE_ENV": "production",
        "NEXT_TELEMETRY_DISABLED": "1",
        "PATH": f"{APP / 'node_modules' / '.bin'}:{os.environ['PATH']}",
    }
    cmd = ["npm", "run", "start"]
    server = rest.Server("Next.js", PREFIX, cmd, env, APP, folder / "next.log")
    server.wait_ready(f"{PREFIX}/api/health", timeout=60)
    return server


def find_chunk(server: rest.Server) -> str:
    """Return the path (under the prefix) of a script the home page loads."""
    with urllib.request.urlopen(server.url + PREFIX, timeout=10) as response:
        html = response.read().decode()
    chunks = re.findall(rf'src="{PREFIX}(/_next/static/[^"]+\.js)"', html)
    if not chunks:
        raise RuntimeError(f"the home page references no script:\n{html[:500]}")
    return chunks[0]


def measure(args, servers: list[rest.Server], chunk: str) -> tuple[dict, list]:
    """Run every scenario against both servers; return results and notes."""
    results, notes = {}, []
    for name, path in SCENARIOS:
        full = PREFIX + path.replace("{chunk}", chunk)
        for server in servers:
            status = rest.send(server.url + full)
            if status != 200:
                results[name, server.name] = {"failed": f"HTTP {status}"}
                notes.append(f"{server.name}, {name}: HTTP {status}; not measured")
                continue
            rest.wrk(server.url, "GET", full, 0, rest.WARMUP, "w", None)
            result = rest.wrk(server.url, "GET", full, 0, args.duration, "m", None)
            results[name, server.name] = result
            if result["errors"]:
                notes.append(f"{server.name}, {name}: {result['errors']}")
            rps, p99 = result["rps"], result["p99"]
            print(f"  {server.name:8} {name:28} {rps:7.0f} req/s  p99 {p99:6.1f} ms")
    return results, notes


def report(args, servers: list[rest.Server], results: dict, notes: list) -> bool:
    """Print the table, peak memory and notes; return whether all met the target."""
    rows = [
        ("scenario", "Joule proxy req/s", "Joule p99 ms", "direct req/s",
         "direct p99 ms", "ratio (proxy/direct)"),
    ]  # fmt: skip
    met = True
    for name, _ in SCENARIOS:
        joule, direct = results.get((name, "Joule")), results.get((name, "Next.js"))
        ratio = "-"
        if joule and direct and "rps" in joule and "rps" in direct:
            value = joule["rps"] / direct["rps"]
            met = met and value >= TARGET
            ratio = f"{value:.2f}"
        rows.append((name, *rest.cells(joule), *rest.cells(direct), ratio))
    print(
        f"\nwrk -t2 -c32 -d{args.duration}s after a {rest.WARMUP} s warm-up; Joule: "
        f"gunicorn, {args.workers} uvicorn worker(s), each with its own Next.js; "
        "direct: one `next start`\n"
    )
    rest.print_table(rows)
    print()
    rest.print_peaks(servers)
    for note in notes:
        print(f"Note: {note}")
    print(f"Target: ratio >= {TARGET} in every scenario: {'met' if met else 'NOT met'}")
    return met


def benchmark(args: argparse.Namespace, folder: Path, servers: list) -> bool:
    """Run it all; return whether every scenario was measured."""
    for tool in ("wrk", "npm"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing")
    db = folder / "bench.sqlite3"
    build_database(db)
    servers.append(start_joule(db, args.workers, folder))
    servers.append(start_direct(servers[0], folder))
    chunk = find_chunk(servers[0])
    stop = threading.Event()
    sampler = threading.Thread(
        target=rest.sample_memory, args=(servers, stop), daemon=True
    )
    sampler.start()
    try:
        results, notes = measure(args, servers, chunk)
    finally:
        stop.set()
        sampler.join(timeout=5)
    report(args, servers, results, notes)
    return not any("failed" in result for result in results.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--workers", type=int, default=2, help="Joule's workers")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, rest.interrupt)
    sys.stdout.reconfigure(line_buffering=True)
    servers: list[rest.Server] = []
    with tempfile.TemporaryDirectory(prefix="joule-bench-") as tmp:
        try:
            ok = benchmark(args, Path(tmp), servers)
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            return 130
        finally:
            for server in reversed(servers):
                server.stop()
            time.sleep(0.1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
