"""Fixtures of the cluster tests: a database and a key prefix of each test's own
on the shared engines, nodes on them, and engines of a test's own to break.

The shared PostgreSQL and Redis are never stopped here (``scripts/services.sh``
starts them); a test that needs one to fail takes ``private_redis`` or
``private_postgres``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from cluster.cluster_support import Cluster, fresh_database, redis_prefix_on, redis_url
from cluster.private_engines import PrivatePostgres, PrivateRedis


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """``t-<hex>:``, a key prefix of this test's own on the shared Redis; every
    key under it is deleted after the test."""
    with redis_prefix_on() as prefix:
        yield prefix


@pytest.fixture
def cluster_database() -> Iterator[str]:
    """The URL of a new, empty database on the shared PostgreSQL, dropped after."""
    with fresh_database() as dsn:
        yield dsn


#: ``make_cluster(count, *extra_args, lease_time=None, store=None, bus=None)``:
#: a started ``Cluster``, on this test's database and prefix of the shared
#: engines unless ``store`` (a database URL, e.g. ``private_postgres``') or
#: ``bus`` (e.g. ``private_redis.url``) say otherwise.
MakeCluster = Callable[..., Cluster]


@pytest.fixture
def make_cluster(
    tmp_path: Path, cluster_database: str, redis_prefix: str
) -> Iterator[MakeCluster]:
    """Start clusters of real nodes on this test's database and prefix; all
    of them stop after the test (the database and keys go then too)."""
    made = itertools.count()
    with ExitStack() as stack:

        def make(
            count: int, *extra_args: str, lease_time: float | None = None,
            store: str | None = None, bus: str | None = None,
        ) -> Cluster:
            root = tmp_path / f"cluster{next(made)}"
            cluster = Cluster(
                root, count, store or cluster_database, bus or redis_url(), redis_prefix,
                *extra_args, lease_time=lease_time,
            )
            return stack.enter_context(cluster)

        yield make


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A running redis-server of this test's own (``.url``), to stop or kill."""
    engine = PrivateRedis()
    try:
        engine.start()
        yield engine
    finally:
        engine.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running PostgreSQL of this test's own (``.dsn``), to stop, crash or kill."""
    engine = PrivatePostgres()
    try:
        engine.start()
        yield engine
    finally:
        engine.close()
