"""WSGI entry point: HTTP only, every service Django serves.

Services of the ``wsgi`` kind and websockets need the ASGI entry point.

    gunicorn platform_core.wsgi:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_core.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
