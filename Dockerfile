# syntax=docker/dockerfile:1
# Joule in production: every service behind one gunicorn, frontends built in.
#
#   docker build -t joule .
#   docker run -p 8000:8000 -e JOULE_SECRET_KEY=... -e DATABASE_URL=... joule
#
# Stages:
#   node    Node.js only. The runtime runs each frontend's Node server, so it
#           needs Node too; both later stages copy it from here.
#   build   deploy/build.sh, the one build script (its test runs it too):
#           pip install . into /opt/venv, `npm ci` and each frontend's build
#           (BASE_PATH = its prefix, as read from its service.toml by the
#           platform itself), then `manage.py start --check`.
#   final   python:3.11-slim with the venv, the sources, the built frontends
#           and a non-root user; `manage.py start` migrates and serves.
#
# Left out: the "mysql" and "ldap" extras (mysqlclient, python-ldap). They
# compile against Debian headers, which would bring a compiler into the build
# and the client libraries into the image; PostgreSQL (psycopg, binary wheel)
# and SQLite need nothing. To add them: apt-get install build-essential
# pkg-config default-libmysqlclient-dev libldap2-dev libsasl2-dev in "build",
# libmariadb3 libldap-2.5-0 libsasl2-2 in "final", and install ".[mysql,ldap]".

FROM node:22-bookworm-slim AS node

FROM python:3.11-slim-bookworm AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    NEXT_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY . .
RUN deploy/build.sh /app

FROM python:3.11-slim-bookworm
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
# uid/gid 10001: numeric in USER, so Kubernetes' runAsNonRoot can verify it.
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && groupadd --system --gid 10001 joule \
    && useradd --system --uid 10001 --gid joule --create-home \
        --home-dir /home/joule --shell /usr/sbin/nologin joule
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEXT_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    JOULE_ROOT=/app \
    JOULE_BIND=0.0.0.0:8000
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The sources stay root's; the user writes only var/ (secret key, SQLite,
# static files) and the frontends' folders (build lock, Next.js cache).
COPY . .
COPY --from=build --chown=joule:joule /app/proxied_frontends /app/proxied_frontends
RUN mkdir -p var && chown joule:joule var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('JOULE_BIND', ':8000').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/_joule/health', timeout=4)"]
CMD ["python", "manage.py", "start"]
