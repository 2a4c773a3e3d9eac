"""The benchmarks' shared parts: server processes, the load generator, reports."""
