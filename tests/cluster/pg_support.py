"""A fresh PostgreSQL database per test, on the server at ``CHAT_TEST_PG``
(or the shared local one), dropped afterwards even if a connection to it is
still open (``WITH (FORCE)``)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import conninfo, sql

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def maintenance_dsn() -> str:
    return os.environ.get("CHAT_TEST_PG") or DEFAULT_PG


@contextlib.contextmanager
def new_database() -> Iterator[str]:
    """A new, empty database; its DSN."""
    base = maintenance_dsn()
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield conninfo.make_conninfo(base, dbname=name)
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    with new_database() as dsn:
        yield dsn
