# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module does, given its AnsibleModule. Modules are thin: they declare options and
call one of these through ``_module.run``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._engine import (
    apply_config,
    effective_settings,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    ConfigValidationError,
    OrchestratorEmailError,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    FIELD_NAMES,
    VENDOR_MAILER_LABEL,
    describe_settings,
    is_vendor_mailer,
    settings_from_store,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import declared_config_param
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, open_store
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
    DuplicateKeyError,
    load_declared_text,
    scope_config,
    validate_config,
)

SCOPE_OPTIONS = FIELD_NAMES + ("gmail_send_as", "vendor_default_mailer")


def load_config_file(path):
    """Read a declared configuration from JSON, or YAML when PyYAML is importable."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (IOError, OSError) as exc:
        raise OrchestratorEmailError("cannot read %s: %s" % (path, exc.strerror), cause="file_error")
    except UnicodeDecodeError:
        raise OrchestratorEmailError("%s is not UTF-8 text" % path, cause="file_error")
    try:
        return load_declared_text(text)
    except DuplicateKeyError as exc:
        raise ConfigValidationError(exc.errors)
    except ImportError:
        raise OrchestratorEmailError(
            "%s is not JSON, and PyYAML is not installed on this host to read YAML" % path,
            cause="file_error")
    except Exception as exc:  # pylint: disable=broad-except  # yaml.YAMLError, without importing yaml here
        raise OrchestratorEmailError("%s is not valid YAML: %s" % (path, exc), cause="file_error")


def validate_command(module):
    params = module.params
    config = declared_config_param(params) if params.get("config") is not None else load_config_file(params["path"])
    errors, warnings, normalized = validate_config(config)
    result = {"changed": False, "valid": not errors, "errors": errors, "warnings": warnings}
    if normalized is not None:
        result["organizations"] = sorted(normalized["organizations"])
    if errors and params.get("fail_on_error", True):
        raise ConfigValidationError(errors, warnings)
    return result


def declared_config(params):
    """The configuration a settings call declares: ``config``, ``path`` (read here only when the
    module runs without its action plugin) or the flat options of one scope."""
    if params.get("config") is not None:
        return declared_config_param(params)
    if params.get("path") is not None:
        return load_config_file(params["path"])
    settings = dict((name, params.get(name)) for name in SCOPE_OPTIONS)
    if params.get("organization") is None:
        if params.get("state") == "absent":
            raise ConfigValidationError([{
                "path": "state",
                "message": "state: absent needs an organization; the host settings cannot be removed, only changed"}])
        if params.get("partition_id") is not None:
            raise ConfigValidationError([{
                "path": "partition_id", "message": "is only allowed together with organization"}])
    elif params.get("state") == "absent":
        given = sorted(name for name in SCOPE_OPTIONS if params.get(name) is not None)
        if given:
            raise ConfigValidationError([{
                "path": name, "message": "is not allowed with state: absent"} for name in given])
    return scope_config(settings, params.get("organization"), params.get("state") or "present",
                        params.get("partition_id"))


def settings_command(module):
    params = module.params
    if params.get("exclusive") and params.get("config") is None and params.get("path") is None:
        raise ConfigValidationError([{"path": "exclusive", "message": "is only allowed with config or path"}])
    errors, warnings, normalized = validate_config(declared_config(params))
    if errors:
        raise ConfigValidationError(errors, warnings)
    store = open_store(params)
    try:
        result = apply_config(store, normalized, check_mode=module.check_mode,
                              update_password=params.get("update_password") or "on_create",
                              exclusive=bool(params.get("exclusive")))
    finally:
        store.close()
    if not module._diff:
        result.pop("diff")
    result["warnings"] = warnings
    return result


def read_settings(store, organization=None, all_organizations=False, partition_id=None):
    """Stored and effective settings, secrets masked: the data behind ``settings_info``."""
    with store.session(write=False) as session:
        if organization is not None:
            orgs = [Scope.org(organization, partition_id)]
        elif all_organizations:
            orgs = session.list_orgs() if store.can_list_orgs else []
        else:
            orgs = []
        stored = session.read([Scope.host()] + orgs)
    host = stored[Scope.host()]
    result = {"host": _scope_info(host), "organizations": {}}
    for scope in orgs:
        own = stored.get(scope, {})
        effective, source = effective_settings(host, own)
        info = _scope_info(own)
        info["effective"] = describe_settings(effective)
        info["effective_source"] = source
        result["organizations"][scope.name] = info
    return result


def _scope_info(stored):
    settings = settings_from_store(stored)
    info = {"configured": bool(stored), "settings": describe_settings(settings),
            "password_set": bool(settings.get("smtp_password")),
            "mailer": (VENDOR_MAILER_LABEL if is_vendor_mailer(settings) else "custom") if stored else None}
    return info


def settings_info_command(module):
    params = module.params
    store = open_store(params)
    try:
        result = read_settings(store, params.get("organization"),
                               all_organizations=params.get("organization") is None,
                               partition_id=params.get("partition_id"))
        if params.get("history"):
            result["history"] = store.history(params["history"])
    finally:
        store.close()
    result["changed"] = False
    result["store"] = store.name
    return result
