"""The production server's gunicorn settings: uvicorn workers on the ASGI app.

``manage.py start`` runs gunicorn with this module; a deployment may also
run it directly::

    gunicorn -c python:platform_core.runtime.gunicorn_conf \
        platform_core.asgi:application

Bind and worker count come from JOULE_BIND / JOULE_WORKERS, else from
[server] of joule.toml; -b and -w on the command line win over both. The
master applies pending SQL migrations before workers fork, unless
``manage.py start`` already did (JOULE_MIGRATED=1), and owns the one process
that runs the frontends' Node processes for every worker
(``runtime.supervisor``). Frontends get JOULE_URL, the address gunicorn
listens on, unless it is set.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from platform_core.config import env, get_config  # noqa: E402
from platform_core.observability.logs import server_logging  # noqa: E402

_server = get_config().server

bind = [env("JOULE_BIND", default=f"{_server.host}:{_server.port}")]
workers = env("JOULE_WORKERS", cast=int, default=_server.workers)
worker_class = "platform_core.runtime.server.Worker"  # uvicorn, one write per response
# [server] trusted_proxies: whose X-Forwarded-For/-Proto is believed (else
# loopback only, gunicorn's default).
forwarded_allow_ips = _server.forwarded_allow_ips
# Several gunicorns may share a machine (tests, blue/green): no shared socket.
control_socket_disable = True
accesslog = None  # the platform writes its own JSON access log
# The master's and workers' lines in the platform's format (JSON lines).
logconfig_dict = server_logging(get_config().logging)
graceful_timeout = 20


def on_starting(server):
    """Apply pending SQL migrations once, in the master, before workers fork."""
    import django

    django.setup()
    if env("JOULE_MIGRATED", cast=bool, default=False):
        return
    from django.db import connections

    from platform_core.runtime.start import apply_sql_migrations

    try:
        apply_sql_migrations(server.log.info)
    finally:
        connections.close_all()  # never share a connection with forked workers


def when_ready(server):
    """Before workers fork: tell frontends where the platform listens
    (JOULE_URL), then start the one supervisor of the host's frontends."""
    from platform_core.runtime import supervisor
    from platform_core.runtime.node import loopback_url

    for listener in server.LISTENERS:
        address = listener.sock.getsockname()
        if isinstance(address, tuple):  # TCP; a unix socket has a path
            os.environ.setdefault("JOULE_URL", loopback_url(*address[:2]))
            break
    server.joule_supervisor = supervisor.spawn("production")


def on_exit(server):
    """Stop the frontends' supervisor (and so their Node processes)."""
    from platform_core.runtime import supervisor

    supervisor.stop(getattr(server, "joule_supervisor", None))
