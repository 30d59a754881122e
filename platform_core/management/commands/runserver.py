"""``manage.py runserver``: every service, HTTP and websockets, with reload.

Daphne's development server on the platform's ASGI application; the
default address comes from ``[server]`` of joule.toml (127.0.0.1:8000).
Frontends run their dev command (``[frontend] dev``) in one supervisor
process owned by the command's outer process, so a code reload does not
restart them; they stop with it (Ctrl-C, SIGTERM) and reach the platform
at this server's address (JOULE_URL).
"""

import atexit
import os
import signal
import sys

from daphne.management.commands.runserver import Command as DaphneRunserver
from django.core.management.base import CommandError

from platform_core.config import get_config
from platform_core.db.migrator import apply_all
from platform_core.exceptions import ConfigError
from platform_core.gateway.routing.asgi import start_services, warm_up
from platform_core.management.commands.services import Command as ServicesCommand
from platform_core.runtime import supervisor
from platform_core.runtime.dev_server import DevelopmentServer
from platform_core.runtime.frontends import frontends
from platform_core.runtime.node import loopback_url


class Command(DaphneRunserver):
    help = "Run every service (HTTP and websockets) for development."
    # Daphne, refusing a too large body as soon as its headers are in.
    server_cls = DevelopmentServer

    def handle(self, *args, **options):
        server = get_config().server
        self.default_addr = server.host
        self.default_port = str(server.port)
        super().handle(*args, **options)

    def run(self, **options):
        """In the outer process: start the frontends' supervisor, then serve.

        SIGTERM ends the command as Ctrl-C does: the reloader's child and
        the supervisor (with its Node processes) stop too.
        """
        if os.environ.get("RUN_MAIN") != "true":
            os.environ.setdefault("JOULE_URL", loopback_url(self.addr, int(self.port)))
            running = supervisor.spawn("development")
            atexit.register(supervisor.stop, running)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        super().run(**options)

    def log_action(self, protocol, action, details):
        """Log websocket events only: the platform's own access log has
        every HTTP request, once, in its format."""
        if protocol != "http":
            super().log_action(protocol, action, details)

    def inner_run(self, *args, **options):
        for service_id, applied in apply_all().items():
            for migration in applied:
                self.stdout.write(f"{service_id}: applied {migration.do.name}")
        # Daphne has no lifespan events: frontends start here, in the
        # process that serves (the reloader's child), and stop at its exit.
        frontends.mode = "development"
        try:
            warm_up()  # routes built now: a mistake in a rule stops the start
        except ConfigError as exc:
            raise CommandError(f"Configuration error: {exc}") from None
        os.environ.setdefault("JOULE_URL", loopback_url(self.addr, int(self.port)))
        start_services()
        ServicesCommand(stdout=self.stdout, stderr=self.stderr).handle()
        super().inner_run(*args, **options)
