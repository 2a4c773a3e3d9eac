"""File relay: one client uploads a 1 GiB generated file, then 1 (and then 10)
receivers fetch it at the same time; every receiver checks the SHA-256.

The server stores the upload on disk (temporary data dir), verifies it and
announces it; each fetch streams it back with backpressure. Reported: upload
MB/s, download MB/s per receiver and in total, the server's peak RSS (VmHWM,
which covers the whole run) and CPU. MB = 10^6 bytes. The server is measured
over plain TCP (``--no-tls``) and over TLS (its default; the receivers decrypt
without checking the self-signed certificate), so the cost of TLS is known.

    python benchmarks/files.py
    python benchmarks/files.py --quick
    python benchmarks/files.py --tls off
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from loadgen import procs, report
from loadgen.engine import GeneratorError
from loadgen.filerelay import relay
from loadgen.worker import call_in_process

GIB = 1 << 30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--size", type=int, default=GIB, help="file size in bytes")
    parser.add_argument("--receivers", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy the server during each relay into PREFIX.R")
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both",
                        help="plain TCP, TLS or both (default: %(default)s)")
    args = parser.parse_args()
    if args.quick:
        args.size = 32 << 20
        args.receivers = [1, 3]
    return args


class RssWatch:
    """Samples the server's RSS every 20 ms: the largest value seen."""

    def __init__(self, stats: procs.ProcStats) -> None:
        self.stats = stats
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.largest = max(self.largest, self.stats.rss_kib())
            except OSError:
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.largest


def measure(args: argparse.Namespace, tls: bool) -> tuple[list[list[Any]], int, int]:
    """Rows of one server (plain or TLS), its largest sampled RSS, failed receivers."""
    server_cpus, generator_cpus = procs.cpu_plan()
    server_args = (
        "--max-file-size", str(max(args.size, 1)),
        "--max-connections-per-address", "1000",
    )
    transport = "TLS" if tls else "plain"
    rows: list[list[Any]] = []
    failures = 0
    with procs.chat_server(server_cpus, server_args, tls=tls) as server:
        watch = RssWatch(server.stats)
        for receivers in args.receivers:
            cpu_before = server.stats.cpu_seconds()
            profile = f"{args.profile}.{transport}.{receivers}" if args.profile else None
            try:
                with procs.profiled(server.popen.pid, profile):
                    result = call_in_process(
                        relay, generator_cpus, server.address, receivers, args.size,
                        receivers, tls, timeout=900.0,
                    )
            except GeneratorError:
                print("last lines of the server log:", *server.output, sep="\n  ")
                raise
            cpu = server.stats.cpu_seconds() - cpu_before
            receivers_busy = result["download_generator_cpu_s"] / result["download_total_s"]
            size_mb = args.size / 1e6
            per_receiver = [size_mb / s for s in result["download_s"]]
            failures += receivers - result["verified"]
            rows.append([
                transport,
                receivers,
                size_mb / result["upload_s"],
                min(per_receiver),
                sum(per_receiver) / len(per_receiver),
                size_mb * receivers / result["download_total_s"],
                result["end_to_end_s"],
                f"{result['verified']}/{receivers}",
                cpu,
                f"{receivers_busy:.0%}",
                server.stats.peak_rss_kib() / 1024,
            ])
            print("  " + " | ".join(report.cell(c) for c in rows[-1]), flush=True)
        sampled = watch.stop()
    return rows, sampled, failures


def main() -> int:
    args = parse_args()
    print(report.machine())
    rows: list[list[Any]] = []
    failures = 0
    sampled: dict[str, int] = {}
    for tls in {"both": [False, True], "on": [True], "off": [False]}[args.tls]:
        these, largest, failed = measure(args, tls)
        rows += these
        failures += failed
        sampled["TLS" if tls else "plain"] = largest
    print(report.table(
        ("transport", "receivers", "upload MB/s", "min MB/s/recv", "avg MB/s/recv",
         "total MB/s", "end-to-end s", "SHA-256 ok", "server CPU s", "recv busy",
         "peak RSS MiB"),
        rows,
    ))
    peaks = ", ".join(f"{name} {kib / 1024:.1f} MiB" for name, kib in sampled.items())
    print(f"file: {args.size:,} bytes; largest sampled server RSS: {peaks}")
    print(f"lost messages: {failures} (receivers whose bytes or SHA-256 did not match)")
    print(f"command: {report.command_line()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
