"""Production server: gunicorn with uvicorn workers on the ASGI application.

    gunicorn -c deploy/gunicorn.conf.py platform_core.asgi:application

Bind and worker count come from JOULE_BIND / JOULE_WORKERS, else from
[server] of joule.toml; -b and -w on the command line win over both.
Frontends get JOULE_URL, the address gunicorn listens on, unless it is set.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from platform_core.config import env, get_config  # noqa: E402

_server = get_config().server

bind = [env("JOULE_BIND", default=f"{_server.host}:{_server.port}")]
workers = env("JOULE_WORKERS", cast=int, default=_server.workers)
worker_class = "platform_core.runtime.server.Worker"  # uvicorn, one write per response
# Several gunicorns may share a machine (tests, blue/green): no shared socket.
control_socket_disable = True
accesslog = None  # the platform writes its own JSON access log
graceful_timeout = 20


def on_starting(server):
    """Apply pending SQL migrations once, in the master, before workers fork."""
    import django

    django.setup()
    from platform_core.db.migrator import apply_all

    for service_id, applied in apply_all().items():
        for migration in applied:
            server.log.info("%s: applied %s", service_id, migration.do.name)
    from django.db import connections

    connections.close_all()  # never share a connection with forked workers


def when_ready(server):
    """Tell frontends where the platform listens (JOULE_URL), before workers fork."""
    from platform_core.runtime.node import loopback_url

    for listener in server.LISTENERS:
        address = listener.sock.getsockname()
        if isinstance(address, tuple):  # TCP; a unix socket has a path
            os.environ.setdefault("JOULE_URL", loopback_url(*address[:2]))
            return
