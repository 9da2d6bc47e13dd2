"""One process runs the timers: whoever holds this lock. On PostgreSQL an advisory lock held by
a dedicated connection (it is released when the process dies); on SQLite a file lock beside
the database. A standby keeps trying and takes over when the holder goes away."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

# The advisory lock's id names this database and schema, so two services sharing one
# PostgreSQL server (or a test run beside another) each have their own leader.
LOCK_KEY_SQL = "hashtext('ivr-timers.' || current_database() || '.' || current_schema())"


class LeaderLock:
    def __init__(self, engine: Engine, *, var_dir: Path) -> None:
        self.engine = engine
        self.var_dir = Path(var_dir)
        self._connection: Any = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._try_postgres()
        return self._try_file()

    def _try_postgres(self) -> bool:
        connection = self.engine.connect()
        got = connection.execute(text(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})"))
        if got.scalar():
            connection.commit()
            self._connection = connection
            return True
        connection.rollback()
        connection.close()
        return False

    def _try_file(self) -> bool:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.var_dir / "timers.lock", "a+")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})"))
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
