"""Production server: gunicorn with uvicorn workers on the ASGI application.

    python manage.py start                     # what to run (migrates first)
    gunicorn -c deploy/gunicorn.conf.py platform_core.asgi:application

The settings live in the package (platform_core/runtime/gunicorn_conf.py), so
a project made by ``joule create`` has them too; this file keeps the older
command working.
"""

from platform_core.runtime.gunicorn_conf import *  # noqa: F403
from platform_core.runtime.gunicorn_conf import (  # noqa: F401
    on_exit,
    on_starting,
    when_ready,
)
