"""Database credentials from Secrets Manager (moto), through the one engine factory."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text
from sqlalchemy.engine import make_url

from opsmetrics import db as dbmod
from opsmetrics.config import Settings
from opsmetrics.errors import ConfigError


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters import constants as base

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        base.DEFAULT_PROVIDERS.clear()  # providers hold a boto3 client made outside the mock
        parameters.clear_caches()
        yield boto3.client("secretsmanager", region_name="eu-west-2")
        base.DEFAULT_PROVIDERS.clear()
        parameters.clear_caches()
    dbmod.dispose_engines()


def _tcp_server(database_url: str) -> dict[str, object]:
    url = make_url(database_url)
    if url.host is None or "unix_sock" in url.query:
        pytest.skip("the embedded PostgreSQL listens on a socket; an RDS secret names a TCP host")
    return {
        "engine": "postgres",
        "host": url.host,
        "port": url.port or 5432,
        "username": url.username,
        "password": url.password or "",
        "dbname": url.database,
    }


def test_engine_from_secret_connects(secrets: object, database_url: str) -> None:
    client = secrets
    arn = client.create_secret(  # type: ignore[attr-defined]
        Name="opsmetrics/db", SecretString=json.dumps(_tcp_server(database_url))
    )["ARN"]
    engine = dbmod.get_engine(Settings(db_secret_arn=arn))
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT current_database()")).scalar()
            == make_url(database_url).database
        )
    assert dbmod.get_engine(Settings(db_secret_arn=arn)) is engine  # once per process


def test_new_connections_follow_a_rotated_secret(secrets: object, database_url: str) -> None:
    from aws_lambda_powertools.utilities import parameters

    client = secrets
    value = _tcp_server(database_url)
    arn = client.create_secret(Name="opsmetrics/rot", SecretString=json.dumps(value))["ARN"]  # type: ignore[attr-defined]
    engine = dbmod.get_engine(Settings(db_secret_arn=arn))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar() == value["dbname"]
    # Rotation: the secret now names another database (standing in for a new password).
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({**value, "dbname": "postgres"}))  # type: ignore[attr-defined]
    parameters.clear_caches()  # as if the 5-minute cache had expired
    engine.dispose()  # drop pooled connections: the next one is new
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar() == "postgres"


def test_secret_that_is_not_json_is_a_config_error(secrets: object) -> None:
    arn = secrets.create_secret(Name="opsmetrics/bad", SecretString="hunter2")["ARN"]  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="not JSON"):
        dbmod.get_engine(Settings(db_secret_arn=arn))


def test_without_any_database_setting_lambda_refuses_to_guess() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL or DB_SECRET_ARN"):
        dbmod.get_engine(Settings(), allow_embedded=False)
