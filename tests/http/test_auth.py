"""Token verification (the functions-framework door's own check), claims -> identity, and
`mint_token`. No database."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from opsmetrics.config import AuthSettings
from opsmetrics.errors import BadRequest, ConfigError, Unauthorized
from opsmetrics.reports.auth import (
    LOCAL_DEV_SECRET,
    AuthConfig,
    TokenVerifier,
    bearer_token,
    identity_from_claims,
    mint_token,
    scopes_of,
)
from opsmetrics.reports.problems import MissingToken

SECRET = "unit-test-secret-that-is-long-enough-32"
ORG = uuid.UUID("7d1c3f3e-5a0b-4c39-9a43-2b8f1f0c1a11")


def _verify(config: AuthConfig, token: str) -> Any:
    return TokenVerifier(config).identify(f"Bearer {token}")


def test_minted_token_round_trips_to_an_identity() -> None:
    config = AuthConfig(secret=SECRET, issuer="https://id.example", audience="opsmetrics")
    token = mint_token(org_id=ORG, scopes=["reports:read"], ttl_s=60, config=config)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="opsmetrics")
    assert claims["exp"] - claims["iat"] == 60
    assert (claims["iss"], claims["org_id"], claims["scope"]) == (
        "https://id.example",
        str(ORG),
        "reports:read",
    )
    identity = _verify(config, token)
    assert identity.org_id == ORG
    assert identity.scopes == frozenset({"reports:read"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"secret": "another-secret-that-is-long-enough-32b"}, "Signature verification failed"),
        ({"issuer": "https://other.example"}, "issuer"),
        ({"audience": "someone-else"}, "(?i)audience"),
    ],
)
def test_tokens_from_elsewhere_are_refused(change: dict[str, str], expected: str) -> None:
    minted_with = AuthConfig(secret=SECRET, issuer="https://id.example", audience="opsmetrics")
    token = mint_token(org_id=ORG, scopes=["reports:read"], ttl_s=60, config=minted_with)
    settings = {"secret": SECRET, "issuer": "https://id.example", "audience": "opsmetrics"}
    settings.update(change)
    checked_with = AuthConfig(
        secret=settings["secret"], issuer=settings["issuer"], audience=settings["audience"]
    )
    with pytest.raises(Unauthorized, match=expected):
        _verify(checked_with, token)


def test_expired_tokens_are_refused_after_the_allowed_skew() -> None:
    config = AuthConfig(secret=SECRET)
    # Expired 20 s ago: inside the 30 s clock skew allowance.
    recent = mint_token(org_id=ORG, scopes=[], ttl_s=10, config=config, now=time.time() - 30)
    assert _verify(config, recent).org_id == ORG
    # Expired 50 s ago: refused.
    old = mint_token(org_id=ORG, scopes=[], ttl_s=10, config=config, now=time.time() - 60)
    with pytest.raises(Unauthorized, match="expired"):
        _verify(config, old)


def test_unsigned_and_claimless_tokens_are_refused() -> None:
    config = AuthConfig(secret=SECRET)
    unsigned = jwt.encode({"org_id": str(ORG), "exp": int(time.time()) + 60}, "", algorithm="none")
    with pytest.raises(Unauthorized):
        _verify(config, unsigned)
    no_exp = jwt.encode({"org_id": str(ORG)}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="exp"):
        _verify(config, no_exp)
    null_org = jwt.encode({"exp": int(time.time()) + 60, "org_id": None}, SECRET)
    with pytest.raises(Unauthorized, match="org_id"):
        _verify(config, null_org)  # a claim that is there must be usable: never "everyone"
    bad_org = jwt.encode({"exp": int(time.time()) + 60, "org_id": "acme"}, SECRET)
    with pytest.raises(Unauthorized, match="UUID"):
        _verify(config, bad_org)
    with pytest.raises(Unauthorized):
        _verify(config, "not.a.jwt")


def test_authorization_header_shapes() -> None:
    with pytest.raises(MissingToken):
        bearer_token(None)
    with pytest.raises(MissingToken):
        bearer_token("   ")
    with pytest.raises(Unauthorized, match="Bearer"):
        bearer_token("Basic dXNlcjpwYXNz")
    with pytest.raises(Unauthorized):
        bearer_token("Bearer")
    assert bearer_token("bearer  abc.def.ghi ") == "abc.def.ghi"


def _rsa_jwks(tmp_path: Path, kid: str) -> tuple[Any, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return private, path


def test_jwks_file_keys_verify_rs256_tokens_and_nothing_else(tmp_path: Path) -> None:
    private, path = _rsa_jwks(tmp_path, "key-1")
    config = AuthConfig(jwks_file=str(path), audience="opsmetrics")
    claims = {
        "org_id": str(ORG),
        "scope": "reports:read reports:refresh",
        "aud": "opsmetrics",
        "exp": int(time.time()) + 60,
    }
    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "key-1"})
    assert _verify(config, good).scopes == frozenset({"reports:read", "reports:refresh"})
    unknown_kid = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "key-2"})
    with pytest.raises(Unauthorized, match="kid"):
        _verify(config, unknown_kid)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(Unauthorized):
        _verify(config, forged)
    # With a JWKS configured, a shared-secret token is never accepted (no algorithm confusion).
    hs = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "key-1"})
    with pytest.raises(Unauthorized):
        _verify(AuthConfig(jwks_file=str(path), secret=SECRET, audience="opsmetrics"), hs)


def test_a_jwks_with_a_symmetric_key_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    secret_jwk = {"kty": "oct", "kid": "k", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}
    path.write_text(json.dumps({"keys": [secret_jwk]}))
    token = jwt.encode(
        {"org_id": str(ORG), "exp": int(time.time()) + 60},
        b"secret-secret-secret-secret-secret",
        algorithm="HS256",
        headers={"kid": "k"},
    )
    with pytest.raises(Unauthorized, match="asymmetric"):
        _verify(AuthConfig(jwks_file=str(path)), token)


def test_configuration_rules() -> None:
    with pytest.raises(ConfigError, match="OPSMETRICS_JWT_SECRET"):
        AuthConfig.from_settings(AuthSettings.from_env({}))
    local = AuthConfig.from_settings(AuthSettings.from_env({}), allow_local_default=True)
    assert (local.secret, local.local_default) == (LOCAL_DEV_SECRET, True)
    with pytest.raises(ConfigError, match="32 bytes"):
        AuthConfig.from_settings(AuthSettings.from_env({"OPSMETRICS_JWT_SECRET": "short"}))
    configured = AuthConfig.from_settings(
        AuthSettings.from_env(
            {"OPSMETRICS_JWT_SECRET": SECRET, "OPSMETRICS_JWT_AUDIENCE": " aud "}
        ),
        allow_local_default=True,
    )
    assert (configured.secret, configured.audience, configured.local_default) == (
        SECRET,
        "aud",
        False,
    )
    with pytest.raises(ConfigError, match="JWKS_FILE"):
        TokenVerifier(AuthConfig(jwks_file="/nonexistent/jwks.json"))
    with pytest.raises(ConfigError, match="identity provider"):
        mint_token(org_id=ORG, scopes=[], ttl_s=60, config=AuthConfig(jwks_url="https://x"))
    with pytest.raises(BadRequest, match="UUID"):
        mint_token(org_id="acme", scopes=[], ttl_s=60, config=AuthConfig(secret=SECRET))


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("reports:read reports:refresh", {"reports:read", "reports:refresh"}),
        ("[reports:read reports:refresh]", {"reports:read", "reports:refresh"}),  # API Gateway
        (["reports:read"], {"reports:read"}),
        ("", set()),
        (None, set()),
        (42, set()),
    ],
)
def test_scope_claim_shapes(claim: Any, expected: set[str]) -> None:
    assert scopes_of(claim) == expected


def test_identity_takes_scope_scp_and_authorizer_scopes() -> None:
    identity = identity_from_claims(
        {"org_id": f" {ORG} ", "scope": "a", "scp": ["b"], "sub": "u1"}, ["c"]
    )
    assert identity.org_id == ORG
    assert identity.scopes == frozenset({"a", "b", "c"})
    assert identity.subject == "u1"
