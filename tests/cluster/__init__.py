"""Tests of the cluster mode on real PostgreSQL and Redis."""
