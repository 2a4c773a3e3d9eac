"""The cluster mode: several ``chat-server`` nodes on PostgreSQL and Redis.

PostgreSQL is the truth (``pg_store``: accounts, history, rooms, files and
their bytes); every transaction that changes what the nodes share takes the
next id of one *stream* (a counter row, locked for the transaction, so ids
commit in order and the stream has no gap) and writes a ``stream_log`` row.
Redis carries the committed stream entries between nodes and holds presence
(``redis_link``, ``presence``). Each node applies the stream strictly in id
order (``stream``), filling any gap from PostgreSQL, so every client on every
node sees one order of history. docs/cluster.md tells the whole design.

Imported only when ``--store``/``--bus`` ask for it: a single node loads
neither psycopg nor redis.
"""
