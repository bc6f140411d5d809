"""The embedded store: file modes, one transaction per session, history, concurrency."""
import os
import sqlite3
import stat
import threading

import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._sqlite_store import SqliteStore
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, ScopeChange


@pytest.fixture
def store(tmp_path):
    return SqliteStore(str(tmp_path / "state" / "settings.db"), timeout=5)


def write(store, changes):
    with store.session(write=True) as session:
        session.write(changes)


def test_file_and_directory_modes(store):
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Host": "h"})])
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(store.path)).st_mode) == 0o700


def test_read_session_does_not_create_the_file(store):
    with store.session(write=False) as session:
        assert session.read([Scope.host()]) == {Scope.host(): {}}
        assert session.list_orgs() == []
    assert not os.path.exists(store.path)
    assert store.history() == []


def test_write_read_remove(store):
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Host": "h", "Email.Smtp.Port": "25"}),
                  ScopeChange(Scope.org("fin"), {"Email.Smtp.Host": "g"})])
    with store.session() as session:
        data = session.read([Scope.host(), Scope.org("fin"), Scope.org("none")])
        assert session.list_orgs() == [Scope.org("fin")]
    assert data[Scope.host()] == {"Email.Smtp.Host": "h", "Email.Smtp.Port": "25"}
    assert data[Scope.org("none")] == {}
    write(store, [ScopeChange(Scope.org("fin"), remove=True),
                  ScopeChange(Scope.host(), delete_keys=["Email.Smtp.Port"])])
    with store.session() as session:
        data = session.read([Scope.host(), Scope.org("fin")])
    assert data == {Scope.host(): {"Email.Smtp.Host": "h"}, Scope.org("fin"): {}}


def test_many_scopes_read_in_one_query(store):
    orgs = [Scope.org("org%04d" % i) for i in range(500)]
    write(store, [ScopeChange(s, {"Email.Smtp.Host": s.name}) for s in orgs])
    with store.session() as session:
        data = session.read(orgs[:300])
    assert len(data) == 300 and data[orgs[7]] == {"Email.Smtp.Host": "org0007"}


def test_a_failure_inside_the_session_rolls_everything_back(store):
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Host": "before"})])
    with open(store.path, "rb") as handle:
        before = handle.read()
    with pytest.raises(RuntimeError):
        with store.session(write=True) as session:
            session.write([ScopeChange(Scope.host(), {"Email.Smtp.Host": "after"}),
                           ScopeChange(Scope.org("x"), {"Email.Smtp.Host": "x"})])
            raise RuntimeError("boom after the write")
    with store.session() as session:
        assert session.read([Scope.host()])[Scope.host()] == {"Email.Smtp.Host": "before"}
        assert session.list_orgs() == []
    with open(store.path, "rb") as handle:
        assert handle.read() == before


def test_history_masks_secrets(store):
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Password": "TopSecret1", "Email.Smtp.Host": "h"})])
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Password": "TopSecret2"})])
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Password": "TopSecret2"})])  # no-op: no history
    history = store.history()
    assert len(history) == 3
    assert history[0]["key"] == "Email.Smtp.Password"
    assert history[0]["old_value"] == "********" and history[0]["new_value"] == "******** (changed)"
    assert history[1]["key"] == "Email.Smtp.Password" and history[1]["old_value"] is None
    assert history[2]["key"] == "Email.Smtp.Host" and history[2]["new_value"] == "h"
    assert "TopSecret" not in repr(history)
    conn = sqlite3.connect(store.path)
    assert "TopSecret" not in repr(conn.execute("SELECT * FROM history").fetchall())
    conn.close()


def test_concurrent_writers_lose_nothing(store):
    write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Host": "h"})])
    errors = []

    def worker(n):
        try:
            for i in range(10):
                with store.session(write=True) as session:
                    current = session.read([Scope.host()])[Scope.host()]
                    count = int(current.get("Email.Smtp.Port", "0"))
                    session.write([ScopeChange(Scope.host(), {"Email.Smtp.Port": str(count + 1)}),
                                   ScopeChange(Scope.org("w%d-%d" % (n, i)), {"Email.Smtp.Host": "x"})])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with store.session() as session:
        assert session.read([Scope.host()])[Scope.host()]["Email.Smtp.Port"] == "60"
        assert len(session.list_orgs()) == 60


def test_unwritable_location_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SqliteStore(str(blocker / "sub" / "settings.db"))
    with pytest.raises(StoreError) as info:
        write(store, [ScopeChange(Scope.host(), {"Email.Smtp.Host": "h"})])
    assert "cannot create the store directory" in str(info.value)


def test_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "settings.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        write(SqliteStore(str(path)), [ScopeChange(Scope.host(), {"Email.Smtp.Host": "h"})])
