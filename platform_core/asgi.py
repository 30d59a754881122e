"""ASGI entry point: HTTP and websockets for every service.

gunicorn -c deploy/gunicorn.conf.py platform_core.asgi:application
daphne platform_core.asgi:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from platform_core.gateway.routing.asgi import platform_application  # noqa: E402

application = platform_application()
