# Test-only callback: writes every task result as one JSON line to $RESULT_LOG_PATH, so tests read
# results as data (ansible-core 2.19 ships no json stdout callback).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: result_log
type: aggregate
short_description: write task results as JSON lines (tests only)
description: Writes each task result to the file named by RESULT_LOG_PATH.
requirements: [enable in configuration]
"""

import json
import os

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_log"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, status, result):
        path = os.environ.get("RESULT_LOG_PATH")
        if not path:
            return
        record = {
            "task": result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
        }
        with open(path, "a") as handle:
            handle.write(json.dumps(record, cls=AnsibleJSONEncoder) + "\n")

    def v2_runner_on_ok(self, result):
        self._write("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write("failed", result)

    def v2_runner_on_skipped(self, result):
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._write("unreachable", result)
