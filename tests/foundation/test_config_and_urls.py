"""Pure checks of configuration, URL handling, secret parsing and TLS options (no database)."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from opsmetrics.config import Settings
from opsmetrics.db import connect_args, normalize_url, ssl_context, url_from_secret
from opsmetrics.errors import ConfigError


def test_plain_postgresql_url_gets_the_pg8000_driver() -> None:
    url, extra = normalize_url("postgresql://u:p@db.example:6543/metrics")
    assert url.drivername == "postgresql+pg8000"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "db.example",
        6543,
        "metrics",
    )
    assert extra == {}


def test_postgres_scheme_and_explicit_driver_are_accepted() -> None:
    assert normalize_url("postgres://u@h/d")[0].drivername == "postgresql+pg8000"
    assert normalize_url("postgresql+pg8000://u@h/d")[0].drivername == "postgresql+pg8000"


@pytest.mark.parametrize("bad", ["mysql://u@h/d", "postgresql+psycopg2://u@h/d", "sqlite:///x.db"])
def test_other_drivers_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="postgresql"):
        normalize_url(bad)


def test_garbage_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        normalize_url("not a url at all")


def test_libpq_parameters_are_translated_not_passed_to_pg8000() -> None:
    url, extra = normalize_url(
        "postgresql://u@/d?host=/var/run/postgresql&sslmode=require&application_name=x&foo=bar"
    )
    assert dict(url.query) == {"foo": "bar"}
    assert extra["unix_sock"] == "/var/run/postgresql/.s.PGSQL.5432"
    assert extra["sslmode"] == "require"
    assert extra["application_name"] == "x"


def test_rds_secret_becomes_a_url() -> None:
    url = url_from_secret(
        {
            "engine": "postgres",
            "host": "h.rds",
            "port": 5433,
            "username": "app",
            "password": "p@ss:/word",
            "dbname": "ops",
        }
    )
    assert url.drivername == "postgresql+pg8000"
    assert (url.host, url.port, url.username, url.password, url.database) == (
        "h.rds",
        5433,
        "app",
        "p@ss:/word",
        "ops",
    )


def test_secret_without_dbname_or_port_uses_postgres_defaults() -> None:
    url = url_from_secret({"host": "h", "username": "u", "password": "p"})
    assert (url.port, url.database) == (5432, "postgres")


@pytest.mark.parametrize(
    ("secret", "missing"),
    [({"host": "h", "username": "u"}, "password"), ({"username": "u", "password": "p"}, "host")],
)
def test_incomplete_secret_names_what_is_missing(secret: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        url_from_secret(secret)


def test_secret_with_bad_port_is_refused() -> None:
    with pytest.raises(ConfigError, match="port"):
        url_from_secret({"host": "h", "username": "u", "password": "p", "port": "x"})


def _self_signed_ca(tmp_path: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "opsmetrics test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_root_cert_turns_on_verified_tls(tmp_path: Path) -> None:
    ca = _self_signed_ca(tmp_path)
    ctx = ssl_context(str(ca))
    assert ctx is not None
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is True
    assert any(
        c["subject"] == ((("commonName", "opsmetrics test CA"),),) for c in ctx.get_ca_certs()
    )


def test_verify_ca_checks_the_chain_but_not_the_host_name(tmp_path: Path) -> None:
    ctx = ssl_context(str(_self_signed_ca(tmp_path)), "verify-ca")
    assert ctx is not None
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname is False


def test_missing_root_cert_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DB_SSL_ROOT_CERT"):
        ssl_context(str(tmp_path / "nope.pem"))


def test_sslmode_require_encrypts_without_verifying() -> None:
    ctx = ssl_context(None, "require")
    assert ctx is not None
    assert ctx.verify_mode == ssl.CERT_NONE


def test_no_tls_unless_asked() -> None:
    assert ssl_context(None, None) is None
    assert ssl_context(None, "disable") is None


def test_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ConfigError, match="sslmode"):
        ssl_context(None, "sometimes")


def test_settings_read_from_the_environment_when_asked() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": " postgresql://u@h/d ",
            "DB_STATEMENT_TIMEOUT_MS": "1500",
            "OPSMETRICS_LOCK_WAIT_SECONDS": "7",
            "OPSMETRICS_DATA_DIR": "/tmp/x",
            "HIRING_ALERTS_TOPIC_ARN": "",
        }
    )
    assert s.database_url == "postgresql://u@h/d"
    assert s.statement_timeout_ms == 1500
    assert s.lock_wait_s == 7
    assert s.data_dir == Path("/tmp/x")
    assert s.hiring_alerts_topic_arn is None
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize("raw", ["ten", "-1"])
def test_bad_numbers_in_the_environment_are_named(raw: str) -> None:
    with pytest.raises(ConfigError, match="DB_CONNECT_TIMEOUT"):
        Settings.from_env({"DB_CONNECT_TIMEOUT": raw})


def test_sslmode_setting_applies_when_the_url_has_none() -> None:
    args = connect_args({}, Settings(db_sslmode="require", connect_timeout_s=4))
    assert args["timeout"] == 4
    assert args["ssl_context"].verify_mode == ssl.CERT_NONE


def test_sslmode_in_the_url_wins_over_the_setting() -> None:
    _, extra = normalize_url("postgresql://u@h/d?sslmode=disable")
    assert "ssl_context" not in connect_args(extra, Settings(db_sslmode="require"))


def test_socket_and_application_name_reach_pg8000() -> None:
    _, extra = normalize_url("postgresql://u@/d?host=/run/pg&application_name=nightly")
    args = connect_args(extra, Settings())
    assert args["unix_sock"] == "/run/pg/.s.PGSQL.5432"
    assert args["application_name"] == "nightly"
    assert "ssl_context" not in args
