# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded settings store: one SQLite file (standard library ``sqlite3``).

- Rows are keyed by (scope, vendor key); values are strings, as the vendor stores them.
- The file is created 0600 in a directory created 0700, before SQLite opens it.
- A write session is one ``BEGIN IMMEDIATE`` transaction: the read that the diff is computed from
  and the write happen under one lock, so concurrent playbooks never lose an update, and a crash
  leaves either the state before or the state after.
- Every change is recorded in ``history``; secrets only as masked markers.
- A read session on a file that does not exist yet returns empty settings and creates nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import os
import sqlite3
import uuid

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    FIELDS,
    MASK,
    MASK_CHANGED,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import (
    Scope,
    SettingsStore,
    StoreSession,
)

SCHEMA_VERSION = "1"
HOST_SCOPE = "host"
ORG_PREFIX = "org:"
SECRET_KEYS = frozenset(f.key for f in FIELDS if f.secret)
DEFAULT_PATH = "~/.orchestrator_email/settings.db"

_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS settings ("
    " scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (scope, key))",
    "CREATE TABLE IF NOT EXISTS history ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, run_id TEXT NOT NULL,"
    " scope TEXT NOT NULL, key TEXT NOT NULL, old_value TEXT, new_value TEXT)",
    "CREATE INDEX IF NOT EXISTS history_scope ON history (scope, id)",
)


def _scope_id(scope):
    return HOST_SCOPE if scope.is_host else ORG_PREFIX + scope.name


def _scope_from_id(scope_id):
    if scope_id == HOST_SCOPE:
        return Scope.host()
    return Scope.org(scope_id[len(ORG_PREFIX):])


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _history_value(key, value):
    if key in SECRET_KEYS and value is not None:
        return MASK
    return value


class _SqliteSession(StoreSession):
    def __init__(self, conn, writable):
        self._conn = conn
        self._writable = writable
        self.run_id = uuid.uuid4().hex

    def read(self, scopes):
        result = dict((scope, {}) for scope in scopes)
        if self._conn is None or not scopes:
            return result
        wanted = dict((_scope_id(s), s) for s in scopes)
        if len(wanted) > 200:
            rows = self._conn.execute("SELECT scope, key, value FROM settings")
        else:
            marks = ",".join("?" * len(wanted))
            rows = self._conn.execute(
                "SELECT scope, key, value FROM settings WHERE scope IN (%s)" % marks, list(wanted))
        # Collected by scope id (a str hashes in C; a Scope's __hash__ is Python code).
        by_id = dict((scope_id, result[scope]) for scope_id, scope in wanted.items())
        for scope_id, key, value in rows:
            values = by_id.get(scope_id)
            if values is not None:
                values[key] = value
        return result

    def list_orgs(self):
        if self._conn is None:
            return []
        rows = self._conn.execute(
            "SELECT DISTINCT scope FROM settings WHERE scope LIKE 'org:%' ORDER BY scope")
        return [_scope_from_id(r[0]) for r in rows]

    def write(self, changes):
        if not self._writable:
            raise StoreError("internal error: write in a read-only session")
        now = _now()
        upserts, deletes, history = [], [], []
        for change in changes:
            sid = _scope_id(change.scope)
            old = dict(self._conn.execute(
                "SELECT key, value FROM settings WHERE scope = ?", (sid,)).fetchall())
            if change.remove:
                for key in sorted(old):
                    deletes.append((sid, key))
                    history.append((now, self.run_id, sid, key, _history_value(key, old[key]), None))
                continue
            for key, value in sorted(change.set_values.items()):
                if old.get(key) == value:
                    continue
                upserts.append((sid, key, value, now))
                new_h = MASK_CHANGED if key in SECRET_KEYS else value
                history.append((now, self.run_id, sid, key, _history_value(key, old.get(key)), new_h))
            for key in change.delete_keys:
                if key in old:
                    deletes.append((sid, key))
                    history.append((now, self.run_id, sid, key, _history_value(key, old[key]), None))
        if upserts:
            self._conn.executemany(
                "INSERT INTO settings (scope, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at", upserts)
        if deletes:
            self._conn.executemany("DELETE FROM settings WHERE scope = ? AND key = ?", deletes)
        if history:
            self._conn.executemany(
                "INSERT INTO history (at, run_id, scope, key, old_value, new_value) "
                "VALUES (?, ?, ?, ?, ?, ?)", history)
        return len(history)


class SqliteStore(SettingsStore):
    name = "sqlite"
    password_readable = True
    can_list_orgs = True

    def __init__(self, path=None, timeout=30):
        self.path = os.path.abspath(os.path.expanduser(path or DEFAULT_PATH))
        self.timeout = float(timeout)

    # -- file handling -------------------------------------------------------------------
    def _create_file(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory, 0o700)
            except OSError as exc:
                if not os.path.isdir(directory):
                    raise StoreError("cannot create the store directory %s: %s" % (directory, exc.strerror))
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except OSError as exc:
            if not os.path.exists(self.path):
                raise StoreError("cannot create the store file %s: %s" % (self.path, exc.strerror))

    def _connect(self):
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = %d" % int(self.timeout * 1000))
            conn.execute("PRAGMA synchronous = FULL")
            return conn
        except sqlite3.Error as exc:
            raise StoreError("cannot open the sqlite store %s: %s" % (self.path, exc))

    def _ensure_schema(self, conn):
        for statement in _DDL:
            conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    @contextlib.contextmanager
    def session(self, write=False):
        if not write and not os.path.exists(self.path):
            # Nothing stored yet: a read must not create the file.
            yield _SqliteSession(None, False)
            return
        if write:
            self._create_file()
        conn = self._connect()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                if write:
                    self._ensure_schema(conn)
                elif not conn.execute(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='settings'").fetchone():
                    conn.execute("ROLLBACK")
                    yield _SqliteSession(None, False)
                    return
            except sqlite3.Error as exc:
                raise StoreError("cannot start a transaction on %s: %s" % (self.path, exc))
            session = _SqliteSession(conn, write)
            try:
                yield session
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StoreError("cannot commit to %s: %s" % (self.path, exc))
        except sqlite3.Error as exc:
            raise StoreError("sqlite store %s: %s" % (self.path, exc))
        finally:
            conn.close()

    def history(self, limit=50):
        if not os.path.exists(self.path):
            return []
        conn = self._connect()
        try:
            try:
                rows = conn.execute(
                    "SELECT id, at, run_id, scope, key, old_value, new_value FROM history "
                    "ORDER BY id DESC LIMIT ?", (int(limit),)).fetchall()
            except sqlite3.OperationalError:
                return []
        finally:
            conn.close()
        out = []
        for row in rows:
            scope = _scope_from_id(row[3])
            out.append({"id": row[0], "at": row[1], "run_id": row[2], "scope": scope.label,
                        "key": row[4], "old_value": row[5], "new_value": row[6]})
        return out
