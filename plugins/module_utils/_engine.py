# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare-then-act: the one routine every writer uses.

``plan`` is a pure function: current stored values + declared configuration -> the changes to
make, a report of them and a per-scope diff, all with secrets masked. ``apply_config`` reads the
current state inside a store session, plans, writes unless in check mode, and returns the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import StoreError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    FIELDS,
    FIELDS_BY_NAME,
    MASK,
    MASK_CHANGED,
    VENDOR_MAILER_LABEL,
    describe_settings,
    is_vendor_mailer,
    settings_from_store,
    to_store,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, ScopeChange

UPDATE_PASSWORD_CHOICES = ("on_create", "always")
# When one of these changes, the password is sent again even with update_password=on_create:
# some servers clear a stored SMTP password when the destination changes.
DESTINATION_FIELDS = ("smtp_host", "smtp_port", "secure", "smtp_username")


def _masked(name, value, changed=False):
    if value is None or not FIELDS_BY_NAME[name].secret:
        return value
    return MASK_CHANGED if changed else MASK


def plan_scope(scope, stored, desired, password_readable=True, update_password="on_create"):
    """Plan one scope.

    ``stored``: {vendor key: string} as the store holds it. ``desired``: {field: value} for a
    present scope, or None to remove the scope's override. Returns ``(ScopeChange or None,
    report rows, diff or None)``.
    """
    if desired is not None and password_readable and len(stored) == len(desired) and _stored_as_declared(
            stored, desired):
        return None, [], None  # the common case of a drift check: the scope is as declared
    current = settings_from_store(stored)
    rows = []
    if desired is None:
        if not stored:
            return None, rows, None
        for field in FIELDS:
            if field.name in current:
                rows.append(_row(scope, field, current[field.name], None, "delete"))
        return (ScopeChange(scope, remove=True), rows,
                _diff(scope, describe_settings(current), {}))

    set_values, delete_keys = {}, []
    after = dict(current)
    destination_changed = any(current.get(n) != desired.get(n) for n in DESTINATION_FIELDS)
    for field in FIELDS:
        name = field.name
        have = current.get(name)
        if name in desired:
            want = desired[name]
            if field.secret and not password_readable:
                if have is not None and update_password != "always" and not destination_changed:
                    continue
            elif have == want and stored.get(field.key) == to_store(name, want):
                continue
            elif have == want:
                # Same value written differently ("True" vs "true"): not a change.
                continue
            set_values[field.key] = to_store(name, want)
            after[name] = want
            rows.append(_row(scope, field, have, want, "create" if have is None else "update"))
        elif field.managed_when_omitted and (have is not None or field.key in stored):
            delete_keys.append(field.key)
            after.pop(name, None)
            rows.append(_row(scope, field, have, None, "delete"))
    if not rows:
        return None, rows, None
    # The scope's whole state, independent of what was read: every declared value (a secret only
    # when it is written) and "" for every managed field the scope omits. A store that writes this
    # in one request leaves the scope as declared even if another writer changed it meanwhile.
    declared = dict(set_values)
    for field in FIELDS:
        if field.key in declared:
            continue
        if field.name in desired:
            if not field.secret:
                declared[field.key] = to_store(field.name, desired[field.name])
        elif field.managed_when_omitted:
            declared[field.key] = ""
    change = ScopeChange(scope, set_values=set_values, delete_keys=delete_keys, declared=declared)
    changed_secret = dict((r["field"], True) for r in rows if r["secret"])
    before_m = describe_settings(current)
    after_m = describe_settings(after)
    for name in changed_secret:
        if after_m.get(name) is not None:
            after_m[name] = MASK_CHANGED
    return change, rows, _diff(scope, before_m, after_m)


def _stored_as_declared(stored, desired):
    """True when ``stored`` holds exactly what writing ``desired`` would store (then nothing to do:
    every declared value reads back equal and no other key is stored)."""
    for name, value in desired.items():
        if stored.get(_KEYS[name]) != to_store(name, value):
            return False
    return True


_KEYS = dict((f.name, f.key) for f in FIELDS)


def _shown(field, value):
    """A value as reports show it: secrets masked, the vendor's mailer named."""
    if field.name == "smtp_host" and is_vendor_mailer({"smtp_host": value}):
        return "%s (%s)" % (value, VENDOR_MAILER_LABEL)
    return value


def _row(scope, field, before, after, action):
    before, after = _shown(field, before), _shown(field, after)
    return {
        "scope": scope.label,
        "field": field.name,
        "key": field.key,
        "action": action,
        "secret": field.secret,
        "before": _masked(field.name, before),
        "after": _masked(field.name, after, changed=True),
    }


def _diff(scope, before, after):
    return {"before_header": scope.label, "after_header": scope.label, "before": before, "after": after}


def scopes_of(normalized):
    """The (Scope, desired settings or None) pairs that a normalized configuration declares."""
    pairs = []
    if normalized.get("host") is not None:
        pairs.append((Scope.host(), normalized["host"]["settings"]))
    for name, org in normalized.get("organizations", {}).items():
        scope = Scope.org(name, org.get("partition_id"))
        pairs.append((scope, org["settings"] if org["state"] == "present" else None))
    return pairs


def plan(pairs, current, password_readable=True, update_password="on_create"):
    """Plan every scope. ``current``: {Scope: stored dict}. Returns (changes, rows, diffs)."""
    changes, rows, diffs = [], [], []
    for scope, desired in pairs:
        change, scope_rows, diff = plan_scope(
            scope, current.get(scope, {}), desired, password_readable, update_password)
        if change is not None:
            changes.append(change)
            rows.extend(scope_rows)
            diffs.append(diff)
    return changes, rows, diffs


def apply_config(store, normalized, check_mode=False, update_password="on_create", exclusive=False):
    """Read, compare, write unless ``check_mode``; return the module result (secrets masked)."""
    pairs = scopes_of(normalized)
    with store.session(write=not check_mode) as session:
        if exclusive:
            if not store.can_list_orgs:
                raise StoreError("exclusive: true needs a store that can list organizations; the %s "
                                 "store cannot, so declare removals with state: absent" % store.name)
            declared = set(scope for scope, _desired in pairs)
            for scope in session.list_orgs():
                if scope not in declared:
                    pairs.append((scope, None))
        current = session.read([scope for scope, _desired in pairs])
        changes, rows, diffs = plan(pairs, current, store.password_readable, update_password)
        if changes and not check_mode:
            session.write(changes)
    scopes_changed = len(changes)
    return {
        "changed": bool(changes),
        "changes": rows,
        "diff": diffs,
        "summary": {
            "scopes_declared": len(pairs),
            "scopes_changed": scopes_changed,
            "scopes_unchanged": len(pairs) - scopes_changed,
            "fields_changed": len(rows),
            "store": store.name,
        },
    }


def effective_settings(host_stored, org_stored):
    """The settings an organization really uses: its own override when it has one, else the host's.

    Inheritance is per scope, not per key: an organization that overrides the host uses its own
    block as a whole (so an anonymous override never inherits the host's credentials).
    """
    if org_stored:
        return settings_from_store(org_stored), "organization"
    return settings_from_store(host_stored), "host"
