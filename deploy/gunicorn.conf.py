"""Production server: gunicorn with uvicorn workers on the ASGI application.

    gunicorn -c deploy/gunicorn.conf.py platform_core.asgi:application

Bind and worker count come from JOULE_BIND / JOULE_WORKERS, else from
[server] of joule.toml; -b and -w on the command line win over both.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from platform_core.config import env, get_config  # noqa: E402

_server = get_config().server

bind = [env("JOULE_BIND", default=f"{_server.host}:{_server.port}")]
workers = env("JOULE_WORKERS", cast=int, default=_server.workers)
worker_class = "uvicorn.workers.UvicornWorker"
# Several gunicorns may share a machine (tests, blue/green): no shared socket.
control_socket_disable = True
accesslog = None  # the platform writes its own JSON access log
graceful_timeout = 20
