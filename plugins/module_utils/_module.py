# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where exceptions become ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    OrchestratorEmailError,
)


def run(module, handler):
    """Call ``handler(module)`` and exit with its result dict, or fail with the error's message.

    An ``OrchestratorEmailError`` keeps its message, ``cause`` and details; anything else is a
    bug, reported with its type and message so that it can be filed.
    """
    try:
        result = handler(module)
    except OrchestratorEmailError as exc:
        module.fail_json(**exc.to_result())
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="unexpected %s: %s" % (type(exc).__name__, exc), cause="internal_error")
    warnings = result.pop("warnings", None) or []
    for warning in warnings:
        module.warn(module.mask(warning))
    module.exit_json(**result)


_DECODED = [None, None]  # the last JSON document decoded and its value (it is decoded once per run)


def declared_config_param(params):
    """The ``config`` option: a mapping, or the JSON document the action plugins send for ``path``.

    Callers only read the result; the same document is decoded once (a 10,000-organization
    configuration is 2.5 MB of JSON, and the option is read five times per run)."""
    config = params.get("config")
    if isinstance(config, str) and config.lstrip().startswith("{"):
        if _DECODED[0] is config:
            return _DECODED[1]
        try:
            value = json.loads(config)
        except ValueError:
            return config
        _DECODED[0], _DECODED[1] = config, value
        return value
    return config


def secret_values(params):
    """Every secret inside the free-form ``config`` option (declared options use ``no_log``)."""
    from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
        collect_secrets,
    )
    return collect_secrets(declared_config_param(params))


def compact_invocation(params):
    """The module args to echo back in ``invocation``: a declared ``config`` is summarized, since
    echoing thousands of organizations back costs time and says nothing new."""
    args = dict(params)
    config = declared_config_param(params)
    if isinstance(config, dict):
        orgs = config.get("organizations")
        args["config"] = "(declared configuration: %s, %d organization(s))" % (
            "host" if config.get("host") is not None else "no host",
            len(orgs) if isinstance(orgs, dict) else 0)
    return {"module_args": args}


_NOT_LOGGING = ("NOT_LOGGING_PARAMETER", "NOT_LOGGING_PASSWORD")


def new_module(argument_spec, **kwargs):
    """An AnsibleModule whose free-form ``config`` secrets are no_log from the very start.

    AnsibleModule logs its invocation (syslog/journald) inside its constructor, before a module
    could register the passwords found inside ``config``; registering them in the logging hook
    closes that gap, and every later output (results, diffs, warnings, errors) is masked too.
    """
    from ansible.module_utils.basic import AnsibleModule
    from ansible.module_utils.common.text.converters import to_native

    from ansible_collections.mailops.orchestrator_email.plugins.module_utils._masking import Masker

    class _OrchestratorEmailModule(AnsibleModule):
        def _log_invocation(self):
            # Register the secrets inside ``config`` before anything is logged, and log a declared
            # configuration as a summary (the same as ``invocation`` in the result).
            # AnsibleModule masks each logged parameter with ``remove_values``, which converts and
            # sorts every no_log value once per parameter (10,000 passwords x 30 parameters): the
            # parameters are masked here instead, once each with the linear-time Masker (same
            # output), and ``log`` masks the message with every no_log value as before.
            self.no_log_values.update(secret_values(self.params))
            params, no_log_values, log = self.params, self.no_log_values, self.log
            masker = Masker(no_log_values)

            def masked_log(msg, log_args=None):
                self.no_log_values = no_log_values
                if log_args:
                    log_args = dict((name, value if value in _NOT_LOGGING else masker.text(value))
                                    for name, value in log_args.items())
                    msg = "Invoked with %s" % " ".join("%s=%s" % (to_native(name), to_native(value))
                                                       for name, value in log_args.items())
                log(msg, log_args=log_args)

            self.params = compact_invocation(params)["module_args"]
            self.no_log_values = set()
            self.log = masked_log
            try:
                super(_OrchestratorEmailModule, self)._log_invocation()
            finally:
                self.params = params
                self.no_log_values = no_log_values
                del self.log

        def mask(self, value):
            return Masker(self.no_log_values).mask(value)

        def _return_formatted(self, kwargs):
            # Mask with the linear-time Masker (same output as AnsibleModule's own masking), then
            # let AnsibleModule finish with nothing left to mask. Our warnings are masked when
            # they are issued (see run()).
            kwargs.setdefault("invocation", compact_invocation(self.params))
            no_log_values = self.no_log_values
            kwargs = Masker(no_log_values).mask(kwargs)
            self.no_log_values = set()
            try:
                super(_OrchestratorEmailModule, self)._return_formatted(kwargs)
            finally:
                self.no_log_values = no_log_values

    module = _OrchestratorEmailModule(argument_spec=argument_spec, **kwargs)
    module.no_log_values.update(secret_values(module.params))
    return module
