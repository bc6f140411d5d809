# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where exceptions become ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
        module.warn(warning)
    module.exit_json(**result)


def secret_values(params):
    """Every secret inside the free-form ``config`` option (declared options use ``no_log``)."""
    from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
        collect_secrets,
    )
    return collect_secrets(params.get("config"))


def new_module(argument_spec, **kwargs):
    """An AnsibleModule whose free-form ``config`` secrets are no_log from the very start.

    AnsibleModule logs its invocation (syslog/journald) inside its constructor, before a module
    could register the passwords found inside ``config``; registering them in the logging hook
    closes that gap, and every later output (results, diffs, warnings, errors) is masked too.
    """
    from ansible.module_utils.basic import AnsibleModule

    class _OrchestratorEmailModule(AnsibleModule):
        def _log_invocation(self):
            self.no_log_values.update(secret_values(self.params))
            super(_OrchestratorEmailModule, self)._log_invocation()

    module = _OrchestratorEmailModule(argument_spec=argument_spec, **kwargs)
    module.no_log_values.update(secret_values(module.params))
    return module
