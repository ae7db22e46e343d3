"""The sandbox's PostgreSQL: a project-local cluster on a loopback port, seeded once.

The cluster is run with the distribution's binaries as an unprivileged account (PostgreSQL
refuses root). It listens on TCP 127.0.0.1 only (no Unix socket, so no system folder is
needed) and starts in the incident state of the runbook's last release: ``max_connections``
below what both colors' pools need, and no index usable for ``user_segment``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from shiftgate.config.paths import source_root
from shiftgate.errors import SandboxError
from shiftgate.sandbox.processes import Unprivileged, tail
from shiftgate.sandbox.state import INCIDENT_MAX_CONNECTIONS, SandboxState

DATABASE = "recommendations"
ADMIN_ROLE = "sandbox_admin"
SQL_DIR = source_root() / "sandbox" / "db"


def bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them per major version)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise SandboxError("PostgreSQL server binaries not found: run `make sandbox-up` (installs them)")


def data_dir(state_dir: Path, owner: Unprivileged) -> Path:
    """``<state_dir>/postgres/pgdata``, unless the unprivileged account cannot reach it (a
    checkout under /root, say): then a fresh folder from ``mkdtemp`` (mode 0700, a name no
    one could have created first), handed to that account. The state file records it, so
    later commands find it again, and :func:`check_data_dir` refuses it should its owner
    have changed."""
    preferred = state_dir / "postgres" / "pgdata"
    if owner.can_reach(state_dir):
        return preferred
    parent = Path(tempfile.mkdtemp(prefix="shiftgate-sandbox-", dir="/var/tmp"))
    owner.chown(parent)
    return parent / "pgdata"


def check_data_dir(pgdata: Path, owner: Unprivileged) -> None:
    """The folder holding the cluster must be ours (the unprivileged account's) and private:
    a folder someone else created or can write to would let them swap the database, or
    plant a link we write through."""
    parent = pgdata.parent
    try:
        st = os.lstat(parent)
    except FileNotFoundError:
        return  # created by init, with the right owner
    if parent.is_symlink() or st.st_uid != owner.uid or st.st_mode & 0o022:
        raise SandboxError(
            f"{parent} is not a private folder of {owner.name} (owner uid {st.st_uid}, mode "
            f"{st.st_mode & 0o777:o}): refusing to use it; remove it or run `shiftgate sandbox "
            "down` and delete the state folder to start afresh"
        )


class SandboxPostgres:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.owner = Unprivileged()
        self.pgdata = Path(state.pgdata)
        self.bin = bindir()
        self.log = self.pgdata.parent / "postgres.log"

    # -- lifecycle -----------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        """initdb with the admin password; settings of the incident state."""
        parent = self.pgdata.parent
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.owner.chown(parent)
        parent.chmod(0o700)
        check_data_dir(self.pgdata, self.owner)
        pwfile = parent / "initdb.pw"
        pwfile.unlink(missing_ok=True)
        # 0600 from its first byte (O_EXCL: never through a file or link planted there).
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.state.admin_password + "\n")
        self.owner.chown(pwfile)
        try:
            result = self.owner.run(
                [str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", ADMIN_ROLE,
                 f"--pwfile={pwfile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                 "--encoding=UTF8", "--locale=C.UTF-8"],
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise SandboxError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        settings = (
            "\n# shiftgate sandbox\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.state.ports.postgres}\n"
            "unix_socket_directories = ''\n"
            f"max_connections = {INCIDENT_MAX_CONNECTIONS}\n"
            "shared_buffers = '256MB'\n"
            "work_mem = '8MB'\n"
            "maintenance_work_mem = '256MB'\n"
            "max_wal_size = '2GB'\n"
            "log_min_duration_statement = -1\n"
        )
        with (self.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)

    def running(self) -> bool:
        result = self.owner.run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "status"])
        return result.returncode == 0

    def start(self) -> None:
        check_data_dir(self.pgdata, self.owner)
        if self.running():
            return
        self.log.touch(exist_ok=True)
        self.owner.chown(self.log)
        result = self.owner.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.log), "-w", "-t", "60",
             "-o", f"-p {self.state.ports.postgres}", "start"],
        )
        if result.returncode != 0:
            raise SandboxError(f"PostgreSQL did not start:\n{tail(self.log)}")
        self._wait_accepting()

    def stop(self) -> None:
        if self.initialised() and self.running():
            self.owner.run([str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()

    @retry(
        retry=retry_if_exception_type(psycopg.OperationalError),
        stop=stop_after_delay(30),
        wait=wait_fixed(0.2),
        reraise=True,
    )
    def _wait_accepting(self) -> None:
        with psycopg.connect(self.state.dsn(ADMIN_ROLE, self.state.admin_password, "postgres")):
            pass

    # -- data ------------------------------------------------------------------------
    def admin(self, database: str = DATABASE) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.state.dsn(ADMIN_ROLE, self.state.admin_password, database), autocommit=True
        )

    def seed(self) -> float:
        """Create and fill the database; returns the seconds it took."""
        began = time.monotonic()
        with self.admin("postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DATABASE)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        with self.admin() as conn:
            for name in ("schema.sql", "seed.sql", "incident.sql"):
                conn.execute((SQL_DIR / name).read_text(encoding="utf-8").encode())
            for role, password in (
                ("recommendation_app", self.state.app_password),
                ("shiftgate_probe", self.state.probe_password),
            ):
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
        return time.monotonic() - began

    def restore_incident(self) -> None:
        """No index on user_segment, and max_connections back to the incident value."""
        with self.admin() as conn:
            conn.execute((SQL_DIR / "incident.sql").read_text(encoding="utf-8").encode())
            conn.execute("ALTER SYSTEM RESET max_connections")
            row = conn.execute("SHOW max_connections").fetchone()
        if row is None or int(str(row[0])) != INCIDENT_MAX_CONNECTIONS:
            self.restart()

    def max_connections(self) -> int:
        with self.admin() as conn:
            row = conn.execute("SHOW max_connections").fetchone()
        return int(str(row[0])) if row else 0
