"""Who is calling: bearer-JWT verification (functions-framework door), claims -> Identity (both
doors), scope checks, and `mint_token` for trying the API locally.

In AWS the HTTP API's JWT authorizer has already verified the token; the Lambda door only reads
the claims it passes on. Outside AWS this module verifies the token itself with PyJWT, with the
keys of the settings' `auth` section (config.AuthSettings), resolved by `AuthConfig.from_settings`:

- OPSMETRICS_JWKS_FILE or OPSMETRICS_JWKS_URL: asymmetric keys (RS256, ES256, ...) of an identity
  provider; when set, only those keys are trusted;
- OPSMETRICS_JWT_SECRET: an HS256 shared secret (at least 32 bytes), for local use;
- OPSMETRICS_JWT_ISSUER, OPSMETRICS_JWT_AUDIENCE: checked when set.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsmetrics.errors import BadRequest, ConfigError, Forbidden, Unauthorized
from opsmetrics.reports.messages import Identity
from opsmetrics.reports.problems import MissingScope, MissingToken

if TYPE_CHECKING:
    import jwt

    from opsmetrics.config import AuthSettings

READ_SCOPE = "reports:read"
REFRESH_SCOPE = "reports:refresh"
JOBS_READ_SCOPE = "jobs:read"
JOBS_RUN_SCOPE = "jobs:run"
# What `opsmetrics token` grants when no --scope is given.
ORG_DEFAULT_SCOPES = (READ_SCOPE, REFRESH_SCOPE)
OPERATOR_DEFAULT_SCOPES = (JOBS_READ_SCOPE, JOBS_RUN_SCOPE)
ORG_CLAIM = "org_id"
# Documented, deliberately public: used only by `opsmetrics token` and by `opsmetrics serve` on a
# loopback address when no key is configured, and announced with a warning each time.
LOCAL_DEV_SECRET = "opsmetrics-local-development-only-not-a-secret"
# HS256 keys shorter than the hash (RFC 7518 §3.2) are brute-forceable.
MIN_SECRET_BYTES = 32
# Tolerated clock difference between the token issuer and this server.
CLOCK_SKEW_S = 30
# How long fetched JWKS keys are reused before asking the identity provider again.
JWKS_CACHE_S = 300
ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]


@dataclass(frozen=True)
class AuthConfig:
    secret: str | None = None
    jwks_file: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    local_default: bool = False  # the secret is LOCAL_DEV_SECRET because nothing was configured

    @classmethod
    def from_settings(
        cls, settings: AuthSettings, *, allow_local_default: bool = False
    ) -> AuthConfig:
        """The keys `settings` name; without any, LOCAL_DEV_SECRET when allowed, else a
        ConfigError naming the variables to set."""
        config = cls(
            secret=settings.jwt_secret,
            jwks_file=settings.jwks_file,
            jwks_url=settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        if not (config.secret or config.jwks_file or config.jwks_url):
            if not allow_local_default:
                raise ConfigError(
                    "no token keys configured: set OPSMETRICS_JWKS_URL, OPSMETRICS_JWKS_FILE"
                    " or OPSMETRICS_JWT_SECRET"
                )
            config = cls(
                secret=LOCAL_DEV_SECRET,
                issuer=config.issuer,
                audience=config.audience,
                local_default=True,
            )
        if config.secret and len(config.secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"OPSMETRICS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return config

    @property
    def uses_jwks(self) -> bool:
        return bool(self.jwks_file or self.jwks_url)


def warn_local_default(what: str) -> None:
    sys.stderr.write(
        f"warning: {what} uses the built-in local development key because"
        " OPSMETRICS_JWT_SECRET is not set; anyone can mint tokens for it."
        " Never expose it beyond this machine.\n"
    )


def local_keys(settings: AuthSettings, what: str) -> AuthConfig:
    """The keys a local command signs or verifies with: the configured ones, else the local
    development key, announced on stderr as used by `what`."""
    config = AuthConfig.from_settings(settings, allow_local_default=True)
    if config.local_default:
        warn_local_default(what)
    return config


# --- claims -> identity (both doors) ---------------------------------------------------------


def scopes_of(value: Any) -> set[str]:
    """Scopes from a `scope`/`scp` claim: "a b", ["a", "b"], or API Gateway's "[a b]"."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return {s for s in text.replace(",", " ").split() if s}
    if isinstance(value, list | tuple):
        return {str(s) for s in value if isinstance(s, str) and s}
    return set()


def identity_from_claims(claims: Mapping[str, Any], extra_scopes: Iterable[str] = ()) -> Identity:
    """The identity a verified token speaks for.

    No org_id claim at all: an operator (every organization; the job routes' scopes decide
    what it may do). A claim that is there but unusable (empty, null, not a UUID) is refused:
    a malformed organization must never widen into every organization.
    """
    org_id = None
    if ORG_CLAIM in claims:
        raw_org = claims[ORG_CLAIM]
        if not isinstance(raw_org, str) or not raw_org.strip():
            raise Unauthorized(f"the token's {ORG_CLAIM} claim is empty")
        try:
            org_id = uuid.UUID(raw_org.strip())
        except ValueError:
            raise Unauthorized(f"the token's {ORG_CLAIM} claim is not a UUID") from None
    scopes = scopes_of(claims.get("scope")) | scopes_of(claims.get("scp")) | set(extra_scopes)
    subject = claims.get("sub")
    return Identity(org_id, frozenset(scopes), subject if isinstance(subject, str) else None)


def require_scope(identity: Identity, scope: str) -> None:
    if scope not in identity.scopes:
        raise MissingScope(scope)


def require_org(identity: Identity) -> uuid.UUID:
    """The caller's organization; an operator token (no org_id claim) has none: 403."""
    if identity.org_id is None:
        raise Forbidden(
            f"this route serves one organization's data and the token has no {ORG_CLAIM} claim"
            " (an operator token is for the /jobs routes)"
        )
    return identity.org_id


def bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise MissingToken("this route needs a bearer token (Authorization: Bearer ...)")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


# --- verification (functions-framework door) --------------------------------------------------


class TokenVerifier:
    """Verifies bearer JWTs against the configured keys; one per process (JWKS keys cached)."""

    def __init__(self, config: AuthConfig) -> None:
        import jwt

        self.config = config
        self._jwks: jwt.PyJWKSet | None = None
        self._client: jwt.PyJWKClient | None = None
        if config.jwks_file:
            path = Path(config.jwks_file)
            try:
                self._jwks = jwt.PyJWKSet.from_json(path.read_text())
            except OSError as exc:
                raise ConfigError(f"cannot read OPSMETRICS_JWKS_FILE {path}: {exc}") from None
            except (jwt.PyJWTError, ValueError) as exc:
                raise ConfigError(f"OPSMETRICS_JWKS_FILE {path} is not a JWK set: {exc}") from None
        elif config.jwks_url:
            self._client = jwt.PyJWKClient(
                config.jwks_url, cache_jwk_set=True, lifespan=JWKS_CACHE_S, timeout=5
            )

    def identify(self, authorization: str | None) -> Identity:
        claims = self.verify(bearer_token(authorization))
        return identity_from_claims(claims)

    def verify(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            key, algorithms = self._key_for(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp"], "verify_aud": self.config.audience is not None},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise ConfigError(f"cannot fetch the JWKS keys: {exc}") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        return claims

    def _key_for(self, token: str) -> tuple[Any, list[str]]:
        import jwt

        if self._client is None and self._jwks is None:
            assert self.config.secret is not None  # from_settings guarantees one key source
            return self.config.secret, ["HS256"]
        if self._client is not None:
            jwk = self._client.get_signing_key_from_jwt(token)
        else:
            assert self._jwks is not None
            kid = jwt.get_unverified_header(token).get("kid")
            keys = list(self._jwks.keys)
            try:
                jwk = keys[0] if kid is None and len(keys) == 1 else self._jwks[str(kid)]
            except KeyError:
                raise jwt.InvalidTokenError(f"no configured key has kid {kid!r}") from None
        # Each key verifies only with its own algorithm, and never as an HMAC secret.
        if jwk.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise jwt.InvalidTokenError(f"key {jwk.key_id!r} is not an asymmetric signing key")
        return jwk.key, [jwk.algorithm_name]


# --- local tokens -----------------------------------------------------------------------------


def mint_token(
    *,
    org_id: str | uuid.UUID | None,
    scopes: Iterable[str],
    ttl_s: int,
    config: AuthConfig,
    now: float | None = None,
) -> str:
    """An HS256 token for `org_id` signed with `config`'s secret (for local use and tests).
    Without `org_id`: an operator token, with no org_id claim at all."""
    import jwt

    org = None
    if org_id is not None:
        try:
            org = uuid.UUID(str(org_id).strip())
        except ValueError:
            raise BadRequest(f"organization id must be a UUID, got {org_id!r}") from None
    if ttl_s < 1:
        raise BadRequest(f"ttl must be at least 1 second, got {ttl_s}")
    if config.uses_jwks or not config.secret:
        raise ConfigError(
            "this server trusts an identity provider's keys (OPSMETRICS_JWKS_*); get tokens from it"
        )
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": f"local:{org}" if org else "local:operator",
        "scope": " ".join(dict.fromkeys(scopes)),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if org is not None:
        claims[ORG_CLAIM] = str(org)
    if config.issuer:
        claims["iss"] = config.issuer
    if config.audience:
        claims["aud"] = config.audience
    return jwt.encode(claims, config.secret, algorithm="HS256")
