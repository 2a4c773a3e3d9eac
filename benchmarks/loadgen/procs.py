"""Server processes for the benchmarks: start, pin, measure through /proc, stop.

Every server runs as a real subprocess so that its CPU time and peak RSS can
be read from ``/proc/PID`` without counting the load generator.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: The start-up line with the browser client's URL.
_WEB_URL = re.compile(r"web client at https?://[^\s/]+:(\d+)/")


def cpu_plan() -> tuple[set[int] | None, set[int] | None]:
    """(server cpus, generator cpus): one core each when two exist, else no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return {cpus[0]}, {cpus[1]}


def pin(pid: int, cpus: set[int] | None) -> None:
    if cpus is not None:
        os.sched_setaffinity(pid, cpus)


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's RLIMIT_NOFILE towards ``wanted``; children inherit it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ProcStats:
    """CPU seconds and memory of one process, read from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_seconds(self) -> float:
        """User + system time of every thread of the process so far."""
        with open(f"/proc/{self.pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def cpu_wait_seconds(self) -> float:
        """Time the process's threads were runnable but waiting for a CPU
        (other programs on the same core): the figures' noise floor."""
        total = 0
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/schedstat", "rb") as stat:
                    total += int(stat.read().split()[1])
        except OSError:
            pass
        return total / 1e9

    def _status_kib(self, key: bytes) -> int:
        with open(f"/proc/{self.pid}/status", "rb") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def peak_rss_kib(self) -> int:
        return self._status_kib(b"VmHWM:")

    def rss_kib(self) -> int:
        return self._status_kib(b"VmRSS:")


class RssSampler:
    """The highest RSS of a process while a block runs, sampled every ``period``.

    ``VmHWM`` keeps a process's peak since it started, which for chat-server
    is the logins' password hashes (scrypt, 16 MiB each); this is the peak of
    the part being measured."""

    def __init__(self, stats: ProcStats, period: float = 0.02) -> None:
        self.stats = stats
        self.period = period
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            with contextlib.suppress(OSError, ValueError):
                self.peak_kib = max(self.peak_kib, self.stats.rss_kib())
            if self._done.wait(self.period):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()


class ServerProcess:
    """A running server subprocess with its address; stop it with ``stop``."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], host: str, port: int) -> None:
        self.name = name
        self.popen = popen
        self.host = host
        self.port = port
        self.stats = ProcStats(popen.pid)
        self.output: deque[str] = deque(maxlen=50)
        self.data_dir: Path | None = None
        #: The browser client's port (HTTP and WebSocket), when it has one.
        self.web_port = 0

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def web_address(self) -> tuple[str, int]:
        return self.host, self.web_port

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, to show what survives a crash."""
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def chat_server_command() -> list[str]:
    """``chat-server`` from this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).with_name("chat-server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("chat-server")
    if found is None:
        raise SystemExit("chat-server is not installed: pip install -e . first")
    return [found]


@contextlib.contextmanager
def chat_server(
    cpus: set[int] | None,
    extra_args: Sequence[str] = (),
    timeout: float = 20.0,
    config: dict[str, object] | None = None,
    tls: bool = False,
    runner: Sequence[str] = (),
    web: bool = False,
) -> Iterator[ServerProcess]:
    """A ``chat-server`` on 127.0.0.1, a free port and a temporary data dir.

    With ``config`` (ServerConfig fields) the same server runs through
    ``serve.py`` instead of the CLI, for settings the CLI does not offer.
    With ``tls`` it serves TLS as by default, with the self-signed
    certificate a first start makes, made here beforehand: every start but
    the first loads it, without importing ``cryptography`` (10 MiB of RSS).
    Otherwise plain TCP (``--no-tls``). ``runner`` is another script taking
    the settings as ``serve.py`` does, then its own arguments (``config``
    must be given with it). With ``web`` it also serves the browser client
    on a free port (``web_port``); without, none (not the CLI's 8080).
    """
    with tempfile.TemporaryDirectory(prefix="chat-bench-") as data_dir:
        if tls:
            from chatserver.tls import ensure_self_signed

            ensure_self_signed(Path(data_dir))
        if config is None:
            # No flood limit, like the IRC reference's settings: a benchmark
            # floods by design.
            command = [
                *chat_server_command(),
                "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir,
                *(() if tls else ("--no-tls",)), "--flood-rate", "0",
                *(("--web-port", "0") if web else ("--no-web",)), *extra_args,
            ]
        else:
            settings = {
                **config, "host": "127.0.0.1", "port": 0, "data_dir": data_dir, "tls": tls,
                "flood_rate": 0.0, **({"web_port": 0} if web else {}),
            }
            script, *script_args = runner or (str(Path(__file__).with_name("serve.py")),)
            command = [sys.executable, script, json.dumps(settings), *script_args]
        popen = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        server = ServerProcess("chat-server", popen, "127.0.0.1", 0)
        server.data_dir = Path(data_dir)
        try:
            pin(popen.pid, cpus)
            server.port, server.web_port = _await_listening(server, timeout, web)
            yield server
        finally:
            server.stop()


def _await_listening(server: ServerProcess, timeout: float, web: bool = False) -> tuple[int, int]:
    """Read the server's output until ``listening on HOST:PORT`` (and, with
    ``web``, ``web client at URL``); keep draining after. The ports."""
    assert server.popen.stdout is not None
    stdout = server.popen.stdout
    found: list[int] = []
    web_found: list[int] = []
    ready = threading.Event()

    def reader() -> None:
        for raw in stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            server.output.append(line)
            if not found and "listening on " in line:
                found.append(int(line.rsplit(":", 1)[1].split()[0]))
            elif web and not web_found and (url := _WEB_URL.search(line)):
                web_found.append(int(url.group(1)))
            if found and (web_found or not web):
                ready.set()
        ready.set()

    threading.Thread(target=reader, daemon=True).start()
    if not ready.wait(timeout) or not found or (web and not web_found):
        server.stop()
        tail = "\n".join(server.output)
        what = "its web listener (src/frontends/web/index.html?)" if found else "listening"
        raise SystemExit(f"chat-server did not start {what}:\n{tail}")
    return found[0], web_found[0] if web_found else 0


NGIRCD_CONFIG = """\
[Global]
Name = bench.irc.local
Info = benchmark reference
AdminInfo1 = benchmark
AdminInfo2 = loopback only
AdminEMail = nobody@localhost
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = benchmark
PidFile = {directory}/ngircd.pid

[Limits]
# No connection caps, no penalty time (ngircd's flood control), long pings.
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600

[Options]
DNS = no
Ident = no
PAM = no
RequireAuthPing = no
IncludeDir = {directory}/conf.d
"""

#: ngircd's TLS on a port of its own (it serves no TLS on ``Ports``), with a
#: self-signed P-256 certificate made as chat-server makes its own.
NGIRCD_TLS_CONFIG = """
[SSL]
CertFile = {directory}/tls-cert.pem
KeyFile = {directory}/tls-key.pem
Ports = {tls_port}
"""


def ngircd_path() -> str | None:
    return shutil.which("ngircd") or next(
        (p for p in ("/usr/sbin/ngircd", "/usr/local/sbin/ngircd") if os.access(p, os.X_OK)),
        None,
    )


@contextlib.contextmanager
def ngircd(
    cpus: set[int] | None, timeout: float = 20.0, tls: bool = False
) -> Iterator[ServerProcess]:
    """ngircd in the foreground with the benchmark's own config, on a free
    port; with ``tls``, the address is that of its TLS port."""
    binary = ngircd_path()
    if binary is None:
        raise FileNotFoundError("ngircd")
    with tempfile.TemporaryDirectory(prefix="ngircd-bench-") as directory:
        os.chmod(directory, 0o755)  # ngircd drops to "nobody" when started as root
        (Path(directory) / "conf.d").mkdir()
        port = free_port()
        text = NGIRCD_CONFIG.format(port=port, directory=directory)
        if tls:
            from chatserver.tls import KEY_FILE, ensure_self_signed

            ensure_self_signed(Path(directory), "bench.irc.local")
            # A throwaway key in a private temporary directory, readable by
            # the user ngircd may drop to.
            os.chmod(Path(directory) / KEY_FILE, 0o644)
            plain_port = port
            while port == plain_port:
                port = free_port()
            text += NGIRCD_TLS_CONFIG.format(directory=directory, tls_port=port)
        config = Path(directory) / "ngircd.conf"
        config.write_text(text)
        popen = subprocess.Popen(
            [binary, "-n", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        server = ServerProcess("ngircd", popen, "127.0.0.1", port)
        try:
            pin(popen.pid, cpus)
            _await_port(server, timeout)
            yield server
        finally:
            server.stop()


def _await_port(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise SystemExit(f"{server.name} exited with status {server.popen.returncode}")
        try:
            socket.create_connection(server.address, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise SystemExit(f"{server.name} did not listen on port {server.port} within {timeout}s")


@contextlib.contextmanager
def profiled(pid: int, output: str | None, rate: int = 250) -> Iterator[None]:
    """Sample ``pid`` with py-spy (collapsed stacks in ``output``) while the block runs."""
    if not output:
        yield
        return
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.access(binary, os.X_OK):
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    spy = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
         "--output", output, "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)  # py-spy attaches asynchronously; let it start sampling
        yield
    finally:
        spy.send_signal(2)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
