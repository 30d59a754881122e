"""``Idempotency-Key`` on ``POST /<plural>``: a retried insert writes once.

The first request with a key claims it in the platform database (a row of
``IdempotentRequest``, unique per service, caller and key, so every worker
and host sees it), runs, and stores its answer (status, ``Location``,
body) for ``[db] idempotency = { ttl = <seconds> }`` (default one day). A
retry with the same key and body gets that answer again, with
``Idempotent-Replayed: true``; with another body, 422. A retry arriving
while the first is still running waits for its answer, then 409. A failed
request (4xx, 5xx) stores nothing: its insert wrote nothing, so a retry
runs again::

    def post(self, request):
        return idempotent(request, self.get_entity(), options.idempotency_ttl,
                          lambda: self.insert_rows(request))
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from platform_core.exceptions import INVALID_HEADERS, APIError, bad_request
from platform_core.models import IdempotentRequest

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
# The platform database, where keys live (shared by workers and hosts).
ALIAS = "default"
# An unanswered claim this old belongs to a worker that died: taken over.
LEASE = datetime.timedelta(seconds=120)
# Seconds a retry waits for the first request's answer before its 409.
WAIT = 5.0
POLL = 0.02
# Answer headers kept with the body.
KEPT_HEADERS = ("Content-Type", "Location")
# Claims that change per token, not per caller.
PER_TOKEN_CLAIMS = {"EXP", "IAT", "NBF", "JTI", "AUTH_TIME"}
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
PURGE_EVERY = 100  # claims between two purges of expired keys (per process)
_claims = itertools.count(1)


def idempotent(
    request: Any,
    entity: Any,
    ttl: float | None,
    run: Callable[[], HttpResponse],
) -> HttpResponse:
    """Return ``run()``'s answer, or the stored answer of an earlier run.

    Without the header, or with ``ttl`` None (``[db] idempotency = false``),
    just ``run()``. Raise 400 for a malformed key, 422 when the key came
    with another request, 409 when its first request is still running.
    """
    key = request.headers.get(HEADER)
    if key is None or ttl is None:
        return run()
    if not KEY_RE.match(key):
        raise bad_request(
            INVALID_HEADERS,
            "Idempotency-Key must be 1 to 255 visible ASCII characters "
            '(a UUID, say: "Idempotency-Key: 4f0c...")',
        )
    try:
        fingerprint = fingerprint_of(request)
    except RequestDataTooBig:
        return run()  # the view answers 413; nothing is written
    service = entity.event.rsplit(".", 1)[0]  # "<service>.<entity>"
    claim = _claim(service, key, caller_of(request, entity), fingerprint, ttl)
    if isinstance(claim, HttpResponse):
        return claim
    return _run_claimed(claim, entity, run)


def _run_claimed(claim: IdempotentRequest, entity: Any, run) -> HttpResponse:
    """Run, and keep a 2xx answer; release the claim on anything else.

    When the service's tables are in the platform database, the insert and
    its stored answer commit together: a worker dying in between leaves
    neither (elsewhere, a retry after the lease may run again).
    """
    try:
        if entity.alias == ALIAS:
            with transaction.atomic(using=ALIAS):
                response = run()
                _keep(claim, response)
        else:
            response = run()
            _keep(claim, response)
    except BaseException:
        _release(claim)
        raise
    if not 200 <= response.status_code < 300:
        _release(claim)
    return response


def fingerprint_of(request: Any) -> str:
    """Return a hash of the method, path, query string and body.

    A JSON body is hashed in a canonical form: the same object sent with
    other spacing or key order is the same request.
    """
    body = request.body
    try:
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        pass
    query = request.META.get("QUERY_STRING", "") if hasattr(request, "META") else ""
    parts = (request.method, request.path, query)
    digest = hashlib.sha256("\0".join(parts).encode() + b"\0" + body)
    return digest.hexdigest()


def caller_of(request: Any, entity: Any) -> str:
    """Return a hash of who sends ``request``: keys are per caller.

    With authorization rules, the identity they see (roles and claims but
    those of one token: a refreshed token is the same caller); else the
    credentials presented (bearer token, session cookie).
    """
    identity = getattr(entity.hooks, "identity", None)
    who = identity(request) if identity is not None else None
    if who is not None:
        claims = sorted(
            (name, value)
            for name, value in who.claims.items()
            if str(name).upper().replace("-", "_") not in PER_TOKEN_CLAIMS
        )
        parts = repr((who.admin, who.roles, claims))
    else:
        cookies = getattr(request, "COOKIES", {})
        parts = repr(
            (
                request.headers.get("authorization"),
                cookies.get(settings.SESSION_COOKIE_NAME),
            )
        )
    return hashlib.sha256(parts.encode()).hexdigest()


def _claim(
    service: str, key: str, caller: str, fingerprint: str, ttl: float
) -> IdempotentRequest | HttpResponse:
    """Return our claim of ``key``, or the answer for a request that lost it."""
    rows = IdempotentRequest.objects.using(ALIAS)
    deadline = time.monotonic() + WAIT
    _purge_now_and_then(rows)
    while True:
        now = timezone.now()
        fresh = {
            "fingerprint": fingerprint,
            "claimed_at": now,
            "expires_at": now + datetime.timedelta(seconds=ttl),
            "status": None,
            "headers": {},
            "body": b"",
        }
        try:
            with transaction.atomic(using=ALIAS):
                return rows.create(service=service, key=key, caller=caller, **fresh)
        except IntegrityError:
            pass
        found = rows.filter(service=service, caller=caller, key=key).first()
        if found is None:
            continue  # expired and purged meanwhile: claim it again
        if found.expires_at <= now or (
            found.status is None and found.claimed_at <= now - LEASE
        ):
            # An expired answer or an abandoned claim: one taker wins.
            same = {"pk": found.pk, "claimed_at": found.claimed_at}
            if rows.filter(**same).update(**fresh):
                return rows.get(pk=found.pk)
            continue
        if found.fingerprint != fingerprint:
            raise APIError(
                KEY_REUSED,
                422,
                "This Idempotency-Key was used with another request (method, "
                "path or body); use a new key for a new request",
            )
        if found.status is not None:
            return replay(found)
        if time.monotonic() > deadline:
            raise APIError(
                KEY_IN_USE,
                409,
                "A request with this Idempotency-Key is still being served; "
                "retry later to get its answer",
            )
        time.sleep(POLL)


def replay(stored: IdempotentRequest) -> HttpResponse:
    """Return the stored answer, marked ``Idempotent-Replayed: true``."""
    response = HttpResponse(bytes(stored.body), status=stored.status)
    for name, value in stored.headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def _keep(claim: IdempotentRequest, response: HttpResponse) -> None:
    """Store a 2xx answer with its claim (a failed request stores nothing)."""
    if not 200 <= response.status_code < 300:
        return
    headers = {name: response[name] for name in KEPT_HEADERS if name in response}
    IdempotentRequest.objects.using(ALIAS).filter(pk=claim.pk).update(
        status=response.status_code, headers=headers, body=response.content
    )


def _release(claim: IdempotentRequest) -> None:
    """Drop an unanswered claim: a retry then runs the request again."""
    rows = IdempotentRequest.objects.using(ALIAS)
    rows.filter(pk=claim.pk, status=None).delete()


def _purge_now_and_then(rows) -> None:
    """Delete expired keys once every PURGE_EVERY claims of this process."""
    if next(_claims) % PURGE_EVERY == 0:
        rows.filter(expires_at__lt=timezone.now()).delete()
