# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``validate``: reads ``path`` on the controller (where the GitOps repository
is, and where Ansible can decrypt vaulted files), then runs the module with ``config``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        path = args.pop("path", None)
        if path is not None:
            if args.get("config") is not None:
                result.update(failed=True, msg="parameters are mutually exclusive: config|path")
                return result
            try:
                source = self._find_needle("files", path)
                args["config"] = self._loader.load_from_file(source)
            except AnsibleError as exc:
                result.update(failed=True, cause="file_error",
                              msg="cannot read the configuration file %s: %s" % (path, exc.message))
                return result
            if args["config"] is None:
                args["config"] = {}
        result.update(self._execute_module(
            module_name="mailops.orchestrator_email.validate", module_args=args, task_vars=task_vars))
        return result
