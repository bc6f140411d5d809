# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings store interface that every backend implements.

A store holds, per scope, vendor setting keys (``Email.Smtp.Host`` ...) mapped to string values.
A scope is the host (``Scope.host()``) or one organization (``Scope.org(name, partition_id)``).

Modules use a store only through a session::

    with store.session(write=not module.check_mode) as session:
        current = session.read([Scope.host(), Scope.org("finance")])
        session.write([ScopeChange(scope, set_values={...}, delete_keys=[...])])

A write session is all-or-nothing where the backend can promise it (sqlite: one transaction;
identity: one bulk request per scope, every scope validated before the first one is sent).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Scope(object):
    """The host, or one organization (by name, with the partition GUID that APIs need)."""

    __slots__ = ("name", "partition_id")

    def __init__(self, name=None, partition_id=None):
        self.name = name
        self.partition_id = partition_id

    @classmethod
    def host(cls):
        return cls(None, None)

    @classmethod
    def org(cls, name, partition_id=None):
        return cls(name, partition_id)

    @property
    def is_host(self):
        return self.name is None

    @property
    def label(self):
        """What users read: ``host`` or ``organizations.<name>``."""
        return "host" if self.name is None else "organizations.%s" % self.name

    def __eq__(self, other):
        return isinstance(other, Scope) and self.name == other.name

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return "Scope(%r)" % (self.label,)


class ScopeChange(object):
    """What to write to one scope: keys to set, keys to delete, or the whole override removed.

    ``declared``: the scope's whole state as stored strings, whatever was read: every value it
    declares (changed or not; the password only when it is being written) and ``""`` for every
    managed field it omits. A store whose server needs a scope's whole set in one request (the
    identity store) writes this, not only ``set_values``."""

    __slots__ = ("scope", "set_values", "delete_keys", "remove", "declared")

    def __init__(self, scope, set_values=None, delete_keys=None, remove=False, declared=None):
        self.scope = scope
        self.set_values = dict(set_values or {})
        self.delete_keys = list(delete_keys or [])
        self.remove = remove
        self.declared = dict(declared if declared is not None else self.set_values)

    def __repr__(self):
        return "ScopeChange(%r, set=%r, delete=%r, remove=%r)" % (
            self.scope, sorted(self.set_values), self.delete_keys, self.remove)


class StoreSession(object):
    """One unit of work against a store. Subclasses implement read/write/list_orgs."""

    def read(self, scopes):
        """{Scope: {key: value}} for every scope asked for ({} when the scope has no settings)."""
        raise NotImplementedError

    def list_orgs(self):
        """Scopes of every organization that has an override, if the store can list them."""
        raise NotImplementedError

    def write(self, changes):
        """Apply a list of ScopeChange; only called in a write session."""
        raise NotImplementedError


class SettingsStore(object):
    """Base class of the stores.

    ``password_readable``: the store returns the real password, so it can be compared like any
    other value. When False (the vendor's API masks it), ``update_password`` decides.
    ``can_list_orgs``: the store can enumerate organizations with overrides.
    """

    name = "abstract"
    password_readable = True
    can_list_orgs = True

    def session(self, write=False):
        """A context manager yielding a StoreSession."""
        raise NotImplementedError

    def send_test_email(self, scope, to, subject=None, body=None):
        """Ask the store's server to send a test email with the scope's stored settings
        (``verify`` with ``via: store``). Returns a dict for the result; stores without a
        server-side test raise StoreError."""
        from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
        raise StoreError("the %s store cannot send a test email itself; use via: smtp, or the "
                         "identity store" % self.name, cause="unsupported")

    def history(self, limit=50):
        """Recent changes, newest first, secrets never included. Stores without history return []."""
        return []

    def close(self):
        pass


def open_store(params):
    """Build the store that the shared store options (``_argspec.STORE_ARGSPEC``) describe."""
    store_type = params.get("store_type") or "sqlite"
    if store_type == "sqlite":
        from ansible_collections.mailops.orchestrator_email.plugins.module_utils._sqlite_store import (
            SqliteStore,
        )
        return SqliteStore(params.get("store_path"), timeout=params.get("store_timeout") or 30)
    if store_type == "identity":
        from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
            IdentityStore,
        )
        return IdentityStore.from_params(params)
    from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
    raise StoreError("unknown store_type %r (expected sqlite or identity)" % (store_type,))
