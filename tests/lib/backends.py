"""Settings-store backends for the integration tests.

Each backend gives the module options that point the collection at it (``module_defaults``), an
independent read-back that does not go through the collection (``read_back``), and a snapshot for
"nothing was written" checks. Tests parametrized with the ``store`` fixture run once per backend.
"""
import copy
import os
import sqlite3
import uuid

import yaml


class SqliteBackend(object):
    name = "sqlite"
    password_readable = True

    def __init__(self, workdir, request=None):
        self.path = os.path.join(workdir, "store", "settings.db")

    @property
    def module_defaults(self):
        return {"store_type": "sqlite", "store_path": self.path}

    def org_extra(self, name):
        """Extra keys an organization declaration needs on this backend (none for sqlite)."""
        return {}

    def read_back(self):
        """{scope label: {vendor key: value}} read with plain sqlite3, not with the collection."""
        if not os.path.exists(self.path):
            return {}
        conn = sqlite3.connect(self.path)
        try:
            rows = conn.execute("SELECT scope, key, value FROM settings").fetchall()
        finally:
            conn.close()
        out = {}
        for scope, key, value in rows:
            label = "host" if scope == "host" else "organizations." + scope[len("org:"):]
            out.setdefault(label, {})[key] = value
        return out

    def snapshot(self):
        """The store file's bytes (None when it does not exist)."""
        if not os.path.exists(self.path):
            return None
        with open(self.path, "rb") as handle:
            return handle.read()

    def secret_haystacks(self):
        """Everything the store keeps that must never contain a secret in clear (besides the value)."""
        if not os.path.exists(self.path):
            return []
        conn = sqlite3.connect(self.path)
        try:
            return [repr(conn.execute("SELECT * FROM history").fetchall())]
        finally:
            conn.close()

    def close(self):
        pass


class IdentityBackend(object):
    """The vendor's Identity API, served by the emulator on loopback for the duration of a test.

    Set up as a real deployment is: the host managed as the host administrator, and each
    organization with its own external application (registered when the test names the
    organization, through ``org_extra``/``partition_id``)."""

    name = "identity"
    password_readable = False

    def __init__(self, workdir=None, request=None, **emulator_options):
        from tests.lib.identity_emulator import IdentityEmulator
        self.emulator = IdentityEmulator(**emulator_options).start()
        self.partitions = {}
        self.org_clients = {}

    @property
    def module_defaults(self):
        return {"store_type": "identity", "identity_url": self.emulator.url,
                "host_admin_username": self.emulator.host_admin[0],
                "host_admin_password": self.emulator.host_admin[1],
                "host_admin_login_url": self.emulator.base + self.emulator.login_path,
                "organization_clients": [dict(organization=name, client_id=cid, client_secret=secret)
                                         for name, (cid, secret) in sorted(self.org_clients.items())]}

    @property
    def single_client_defaults(self):
        """One application for every scope (only where the emulator is ``single_client``)."""
        return {"store_type": "identity", "identity_url": self.emulator.url,
                "client_id": self.emulator.client_id, "client_secret": self.emulator.client_secret}

    def partition_id(self, name):
        partition = str(uuid.uuid5(uuid.NAMESPACE_URL, "orchestrator-email-test/" + name))
        if partition not in self.partitions:
            self.partitions[partition] = name
            client_id = "app-" + partition[:8]
            secret = "Org-App-Secret-" + partition[-12:]
            self.emulator.add_application(client_id, secret, partition)
            self.org_clients[name] = (client_id, secret)
        return partition

    def org_extra(self, name):
        return {"partition_id": self.partition_id(name)}

    def read_back(self):
        out = {}
        for partition, values in copy.deepcopy(self.emulator.state).items():
            if partition is None:
                label = "host"
            else:
                label = "organizations." + self.partitions.get(partition, partition)
            out[label] = values
        return out

    def snapshot(self):
        return copy.deepcopy(self.emulator.state)

    def secret_haystacks(self):
        """The request log, less the bodies that must carry a secret (token requests carry the
        client secret, PUT requests the SMTP password)."""
        out = []
        for request in self.emulator.requests:
            entry = dict(request)
            if request["path"].endswith(("/connect/token", "/api/account/authenticate")) or request["method"] == "PUT":
                entry.pop("body")
            out.append(repr(entry))
        return out

    def close(self):
        self.emulator.stop()


BACKENDS = {"sqlite": SqliteBackend, "identity": IdentityBackend}


def render_play(tasks, module_defaults=None, name="test", gather_facts=False, extra=None):
    """A one-play playbook on localhost with the collection's group module_defaults."""
    play = {"name": name, "hosts": "localhost", "gather_facts": gather_facts, "tasks": tasks}
    if module_defaults:
        play["module_defaults"] = {"group/mailops.orchestrator_email.orchestrator_email": module_defaults}
    if extra:
        play.update(extra)
    return yaml.safe_dump([play], sort_keys=False)
