"""WSGI entry point: HTTP only, every service but websockets.

Django serves its services; ``wsgi``-kind apps are mounted under their
prefix. Websockets need the ASGI entry point.

    gunicorn platform_core.wsgi:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

from platform_core.gateway.routing.wsgi_mount import PlatformWSGI  # noqa: E402

application = PlatformWSGI(get_wsgi_application())
