"""Engines of a test's own, to stop, crash and restart: a private redis-server
and a private PostgreSQL cluster on free ports in temporary folders.

The shared engines serve every test at once and are never stopped; a test
about Redis or PostgreSQL failing takes one of these instead (the
``private_redis`` and ``private_postgres`` fixtures). Each comes back on the
same port after a restart, so the nodes' URLs stay valid.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg
import redis

from cluster.cluster_support import ENGINE_TIMEOUT, free_port, fresh_database
from support import wait_until

# -- engines of a test's own, to stop and crash --------------------------------------------


def _private_dir(owner: str | None) -> Path:
    # Not under pytest's tmp_path: its parents are private to root, and
    # PostgreSQL refuses to run as root, so it runs as ``owner`` then.
    path = Path(tempfile.mkdtemp(prefix="chat-engine-"))
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


class _Engine:
    """A server process of a test's own on 127.0.0.1:``port``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path()

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def user(self) -> str | None:
        return None

    def start(self) -> None:
        if self.proc is not None:
            raise RuntimeError("already running")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                user=self.user(), start_new_session=True,
            )

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.command()[0]} exited:\n{self.log()}")
            return self.answers()

        wait_until(ready, ENGINE_TIMEOUT, f"{type(self).__name__} on port {self.port}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def _end(self, signum: int) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if signum == signal.SIGKILL:
                # The whole process group (its own session): PostgreSQL's
                # backends die with the postmaster, as in a power cut.
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        try:
            self.proc.wait(ENGINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        """A clean shutdown."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to it and its children: the engine loses what it held only
        in memory."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


class PrivateRedis(_Engine):
    """A redis-server of the test's own, nothing on disk (like the shared one)."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = _private_dir(None)
        self.log_path = self.dir / "redis.log"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run bash scripts/services.sh")
        return [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
        ]

    def answers(self) -> bool:
        try:
            with redis.Redis.from_url(self.url, socket_timeout=2) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian's layout)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        on_path = shutil.which("initdb")
        if on_path is None:
            raise RuntimeError("PostgreSQL is not installed: run bash scripts/services.sh")
        return Path(on_path).parent
    return found[-1].parent


class PrivatePostgres(_Engine):
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder),
    trust auth, user ``postgres``. Run as the ``postgres`` system user when
    this process is root (PostgreSQL refuses root). ``crash()`` is an
    immediate shutdown (SIGQUIT: no checkpoint, recovery from the WAL on the
    next start), the nearest thing to a power cut that keeps the data."""

    def __init__(self) -> None:
        super().__init__()
        self.bin = postgres_bin()
        self._user = "postgres" if os.geteuid() == 0 else None
        self.dir = _private_dir(self._user)
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=self._user,
        )

    def user(self) -> str | None:
        return self._user

    def command(self) -> list[str]:
        return [
            str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
            # A test's data need not survive the machine: skip the disk flushes.
            "-c", "fsync=off", "-c", "full_page_writes=off",
        ]

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """A fast shutdown (SIGINT: sessions ended, a checkpoint, exit)."""
        self._end(signal.SIGINT)

    def crash(self) -> None:
        """An immediate shutdown: every backend gone at once, no checkpoint."""
        self._end(signal.SIGQUIT)

    def database(self) -> contextlib.AbstractContextManager[str]:
        """A fresh database on this instance (as ``fresh_database``)."""
        return fresh_database(self.dsn)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
