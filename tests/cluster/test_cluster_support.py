"""The cluster tests' own machinery works: prefixes and databases are private
and cleaned up, and the private engines start, stop, crash and come back on
their port with what they must keep (PostgreSQL) or nothing (Redis)."""

from __future__ import annotations

import psycopg
import pytest
import redis

from cluster.cluster_support import (
    delete_prefix,
    fresh_database,
    keys_under,
    redis_prefix_on,
    redis_url,
)
from cluster.private_engines import PrivatePostgres, PrivateRedis


def test_redis_prefix_is_private_and_cleaned_up() -> None:
    url = redis_url()
    with redis.Redis.from_url(url) as client:
        with redis_prefix_on() as first, redis_prefix_on() as second:
            assert first != second and first.startswith("t-") and first.endswith(":")
            for i in range(1200):  # more than one SCAN page and one UNLINK batch
                client.set(f"{first}k{i}", "v")
            client.set(f"{second}k", "v")
            assert len(keys_under(url, first)) == 1200
        assert keys_under(url, first) == [] and keys_under(url, second) == []
        assert delete_prefix(url, first) == 0


def test_fresh_database_is_empty_and_dropped() -> None:
    with fresh_database() as dsn:
        with psycopg.connect(dsn) as conn:
            name = conn.execute("SELECT current_database()").fetchone()
            assert name is not None and name[0].startswith("t_")
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
            assert tables == (0,)
            conn.execute("CREATE TABLE t (x int)")
        # A node killed mid-test may leave its connections: FORCE drops anyway.
        lingering = psycopg.connect(dsn)
    try:
        with psycopg.connect(dsn.rsplit("/", 1)[0] + "/postgres") as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", (name[0],)
            ).fetchone()
            assert row == (0,)
    finally:
        lingering.close()


def test_private_redis_restarts_empty_on_its_port(private_redis: PrivateRedis) -> None:
    with redis.Redis.from_url(private_redis.url) as client:
        client.set("k", "v")
        assert client.get("k") == b"v"
    private_redis.kill()
    with pytest.raises(redis.ConnectionError), redis.Redis.from_url(private_redis.url) as client:
        client.ping()
    private_redis.start()
    with redis.Redis.from_url(private_redis.url) as client:
        assert client.get("k") is None  # nothing on disk: a restart forgets everything
    private_redis.restart()
    assert private_redis.answers()


@pytest.mark.parametrize("how", ["restart", "crash", "kill"])
def test_private_postgres_keeps_committed_rows(private_postgres: PrivatePostgres, how: str) -> None:
    with private_postgres.database() as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        held = psycopg.connect(dsn)
        if how == "restart":
            private_postgres.restart()
        else:
            getattr(private_postgres, how)()
            assert not private_postgres.answers()
            private_postgres.start()
        # The connection from before is gone, as a node's would be.
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
        held.close()
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
