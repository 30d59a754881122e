"""Identity: admin secret and impersonation, JWT (HS256 and a JWKS URL served
by a real local HTTP server), webhook errors, and rules checked at start-up."""

from __future__ import annotations

import base64
import json
import time
import tomllib

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from platform_core.authorization.identity import Credentials
from platform_core.authorization.rules import check_rules, read_authorization
from platform_core.config.reader import TableReader
from platform_core.exceptions import APIError, ConfigError
from platform_core.introspection import ModelInfo
from tests.servers import JsonServer

SECRET = "an-hs256-secret-that-is-long-enough-1234"


def options(text: str):
    return read_authorization(TableReader(tomllib.loads(text), "service.toml"))


def identity(opts, **headers):
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return Credentials(headers).identity(opts)


def refused(opts, **headers) -> APIError:
    with pytest.raises(APIError) as error:
        identity(opts, **headers)
    return error.value


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def hs256(claims: dict, key: str = SECRET, **headers) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers=headers or None)


def later(seconds: int = 3600) -> int:
    return int(time.time()) + seconds


HS = options(
    f"""[authorization]
adminSecret = "admin-secret"
jwt = {{ secret = "{SECRET}", audience = "shop", issuer = "https://id.example" }}
"""
)
GOOD = {"role": "user", "user_id": 7, "aud": "shop", "iss": "https://id.example"}


def test_a_valid_token_gives_its_roles_and_claims():
    who = identity(HS, **bearer(hs256({**GOOD, "exp": later(), "role": "a,b"})))
    assert who.roles == ("a", "b")
    assert who.claim("user-id") == 7 and who.claim("USER_ID") == 7


@pytest.mark.parametrize(
    ("claims", "key", "message"),
    [
        ({**GOOD}, SECRET, 'Token is missing the "exp" claim'),
        ({**GOOD, "exp": later(-10)}, SECRET, "it has expired"),
        ({**GOOD, "exp": later(), "aud": "other"}, SECRET, "Audience doesn't match"),
        ({**GOOD, "exp": later(), "iss": "https://evil"}, SECRET, "Invalid issuer"),
        ({**GOOD, "exp": later()}, SECRET[::-1], "Signature verification failed"),
    ],
    ids=["no-exp", "expired", "wrong-audience", "wrong-issuer", "wrong-key"],
)
def test_bad_tokens_are_401(claims, key, message):
    error = refused(HS, **bearer(hs256(claims, key)))
    assert error.status == 401 and error.code == "UNAUTHORIZED"
    assert message in error.message


def test_alg_none_never_passes():
    unsigned = jwt.encode({**GOOD, "exp": later()}, None, algorithm="none")
    assert refused(HS, **bearer(unsigned)).status == 401


def test_malformed_authorization_and_tokens_without_jwt_config_are_401():
    assert refused(HS, authorization="Basic abc").status == 401
    assert refused(HS, authorization="Bearer not.a.token").status == 401
    open_ = options('[authorization]\nadminSecret = "x"\n')
    error = refused(open_, **bearer(hs256({**GOOD, "exp": later()})))
    assert error.message == "This service does not accept bearer tokens"


def test_admin_secret_and_impersonation():
    imp = options('[authorization]\nadminSecret = "admin-secret"\n')
    admin = identity(imp, x_joule_admin_secret="admin-secret")
    assert admin.admin and admin.roles == ("platform-admin",)
    user = identity(
        imp,
        x_joule_admin_secret="admin-secret",
        x_joule_role="user",
        x_joule_user_id="5",
    )
    assert (user.admin, user.roles, user.claim("USER_ID")) == (False, ("user",), "5")
    # Without the secret the role headers are ignored: anonymous.
    nobody = identity(imp, x_joule_role="platform-admin", x_joule_user_id="5")
    assert nobody.roles == ("anonymous",) and not nobody.admin
    assert refused(imp, x_joule_admin_secret="wrong").message == "Invalid admin secret"
    # With jwt configured, the secret is the admin and role headers do nothing.
    assert identity(HS, x_joule_admin_secret="admin-secret", x_joule_role="user").admin


class JWKSServer(JsonServer):
    """Serves a JWKS document over HTTP; keys can be rotated."""

    def __init__(self):
        self.keys: list[dict] = []
        super().__init__(lambda method, headers: (200, {"keys": self.keys}))
        self.url += "/jwks.json"

    def publish(self, kid: str, private_key, algorithm: str) -> None:
        jwk = json.loads(
            jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(
                private_key.public_key()
            )
        )
        self.keys.append({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


@pytest.fixture
def jwks():
    server = JWKSServer()
    yield server
    server.close()


def test_rs256_and_es256_tokens_from_a_jwks_url(jwks):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.publish("r1", rsa_key, "RS256")
    opts = options(f'[authorization]\njwt = {{ jwks = "{jwks.url}" }}\n')
    token = jwt.encode(
        {"role": "user", "exp": later()}, rsa_key, "RS256", headers={"kid": "r1"}
    )
    assert identity(opts, **bearer(token)).roles == ("user",)
    # A key published later (rotation) is fetched for its unknown kid once
    # the refetch cooldown (30 s) is over; the test skips the wait.
    from platform_core.authorization import tokens

    tokens._jwks_clients[jwks.url].cooldown_duration = 0
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks.publish("e1", ec_key, "ES256")
    token = jwt.encode(
        {"role": "admin", "exp": later()}, ec_key, "ES256", headers={"kid": "e1"}
    )
    assert identity(opts, **bearer(token)).roles == ("admin",)
    # A token signed by a key the JWKS does not have is refused.
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"exp": later()}, stranger, "RS256", headers={"kid": "r1"})
    assert refused(opts, **bearer(forged)).status == 401


def test_algorithm_confusion_is_refused(jwks):
    """An HS256 token keyed with the RSA public key must not verify."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.publish("r1", rsa_key, "RS256")
    opts = options(f'[authorization]\njwt = {{ jwks = "{jwks.url}" }}\n')
    header = {"alg": "HS256", "typ": "JWT", "kid": "r1"}
    payload = {"role": "admin", "exp": later()}

    def part(value: dict) -> str:
        return (
            base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
        )

    forged = f"{part(header)}.{part(payload)}.c2lnbmF0dXJl"
    assert refused(opts, **bearer(forged)).status == 401


def test_a_jwks_url_that_does_not_answer_is_503():
    opts = options('[authorization]\njwt = { jwks = "http://127.0.0.1:9/jwks" }\n')
    token = jwt.encode({"exp": later()}, SECRET, "HS256", headers={"kid": "x"})
    assert refused(opts, **bearer(token)).status == 503


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('jwt = { secret = "s", jwks = "http://x" }', "give either secret or jwks"),
        ('jwt = { secret = "s", algorithms = ["none"] }', "'none' is never accepted"),
        ('jwt = { secret = "s", algorithms = ["RS256"] }', "HS\\* algorithms only"),
        ('webhook = { url = "ftp://x" }', "must be an http"),
        ('[[authorization.rules]]\nrole = "u"\nfind = true', "give entity or entities"),
        (
            '[[authorization.rules]]\nrole = "u"\nentity = "p"\nfind = "id ~ 1"',
            "is not a condition like",
        ),
        (
            '[[authorization.rules]]\nrole = "u"\nentity = "p"\nfind = "id = $"',
            "is neither a claim",
        ),
        (
            '[[authorization.rules]]\nrole = "u"\nentity = "p"\n'
            'find = { checks = { id = { like = "X" } } }',
            "unknown operator 'like'",
        ),
        ('[[authorization.rules]]\nrole = "u"\nentity = "p"\nfnd = true', "unknown"),
    ],
)
def test_configuration_errors_say_what_to_fix(text, message):
    if not text.startswith("[["):
        text = "[authorization]\n" + text
    with pytest.raises(ConfigError, match=message):
        options(text)


def test_rules_naming_unknown_entities_or_fields_fail_with_did_you_mean():
    from platform_core.introspection import FieldInfo

    fields = {
        name: FieldInfo(name, name, name, "IntegerField", False, False, False, False)
        for name in ("id", "ownerId")
    }
    post = ModelInfo("post", "posts", "posts", None, fields, ("id",))
    rule = '[[authorization.rules]]\nrole = "u"\nentity = "{e}"\nfind = ["{f} = $X"]'
    with pytest.raises(ConfigError, match="no entity 'psot'.*Did you mean 'post'"):
        check_rules(options(rule.format(e="psot", f="id")), {"post": post}, "shop")
    with pytest.raises(ConfigError, match="no field 'ownerid'.*Did you mean 'ownerId'"):
        check_rules(options(rule.format(e="post", f="ownerid")), {"post": post}, "shop")


@pytest.fixture
def api_key_webhook():
    """An auth webhook judging an API key in X-API-Key; it records what it got."""

    def answer(method, headers):
        server.seen.append({name.lower(): value for name, value in headers.items()})
        if headers.get("X-API-Key") == "key-123":
            return 200, {"role": "api-client", "user_id": 9}
        if not headers.get("X-API-Key") and "Authorization" not in headers:
            return 200, {"role": "anonymous"}
        return 401, {"message": "unknown key"}

    server = JsonServer(answer)
    server.seen = []
    yield server
    server.close()


def webhook_options(server: JsonServer):
    return options(
        '[authorization]\nadminSecret = "admin-secret"\n'
        f'webhook = {{ url = "{server.url}/verify" }}\n'
    )


def test_the_webhook_is_asked_on_every_request_and_sees_a_custom_api_key(
    api_key_webhook,
):
    opts = webhook_options(api_key_webhook)
    client = identity(opts, x_api_key="key-123")
    assert client.roles == ("api-client",) and client.claim("USER_ID") == 9
    assert api_key_webhook.seen[-1]["x-api-key"] == "key-123"
    # A caller with nothing to show is asked about too: here, anonymous.
    assert identity(opts).roles == ("anonymous",)
    assert len(api_key_webhook.seen) == 2
    error = refused(opts, x_api_key="stolen")
    assert (error.status, error.code) == (401, "UNAUTHORIZED")
    assert error.message == "The authorization webhook refused (HTTP 401)"


def test_the_admin_secret_never_reaches_the_webhook(api_key_webhook):
    opts = webhook_options(api_key_webhook)
    admin = identity(opts, x_joule_admin_secret="admin-secret", x_api_key="key-123")
    assert admin.admin
    error = refused(opts, x_joule_admin_secret="wrong", x_api_key="key-123")
    assert error.message == "Invalid admin secret"
    assert identity(opts, x_api_key="key-123", x_other_secret="s").roles == (
        "api-client",
    )
    assert len(api_key_webhook.seen) == 1  # the secret's callers were not asked
    assert "x-api-key" in api_key_webhook.seen[0]
    assert not [name for name in api_key_webhook.seen[0] if "secret" in name]
