"""What the stores on SQL share: the error they raise when their database
cannot be used, and the protocol's u64 integers in a signed 64-bit column.

SQLite's store (``sqlite_store.py``) and its migrations (``sqlite_schema.py``)
use them, and so does the cluster's PostgreSQL store (``cluster/``), whose
``bigint`` is as signed as SQLite's ``INTEGER``. Here, below all of them, the
schema can raise the error without importing the store. ``sqlite_store``
re-exports every name, as the place they were first imported from.
"""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be opened or has an unknown schema."""


# -- protocol integers in SQLite ---------------------------------------------------
# The protocol's integers are u64, SQLite's INTEGER is signed 64-bit: a value
# of 2**63 or more cannot be bound at all (OverflowError). Every integer from a
# peer that reaches a query goes through one of these.

#: The range of SQLite's INTEGER (and PostgreSQL's bigint).
SQL_MIN, SQL_MAX = -(2**63), 2**63 - 1
_U64_SPAN = 2**64


def sql_u64(value: int, *, lossless: bool = True) -> int:
    """``value`` for a query. ``lossless``: a u64 stored and echoed back (a
    client's id), as the signed 64-bit integer with the same bits, which
    ``u64_from_sql`` turns back into it exactly. Otherwise a bound compared
    with a column, clamped into SQLite's range: every stored value is in that
    range, so no comparison changes (an equality lookup beyond it is simply
    "not found": check ``in_sql_range`` first)."""
    if lossless:
        return value - _U64_SPAN if value > SQL_MAX else value
    return max(SQL_MIN, min(SQL_MAX, value))


def u64_from_sql(value: int) -> int:
    """The u64 that ``sql_u64`` stored as ``value``."""
    return value + _U64_SPAN if value < 0 else value


def in_sql_range(value: int) -> bool:
    return SQL_MIN <= value <= SQL_MAX
