# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side: read a declared configuration file for the ``path`` option of an action.

The file is parsed with PyYAML's C loader when it holds no vault data (Ansible's own loader tags
every value with its origin and costs about 9 s for 10,000 organizations), or with Ansible's
loader when it does (vault-encrypted files and ``!vault`` values are decrypted). Then every
string that contains a Jinja expression (``"{{ vault_smtp_password }}"``) is rendered with the
task's variables, as ``include_vars`` would, and nothing else is templated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: every string is templatable
    def trust_as_template(value):
        return value

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Loader = yaml.SafeLoader


def load_declared_file(action, path):
    """Find ``path`` like other file options do, parse it, and render its Jinja expressions."""
    source = action._find_needle("files", path)
    with open(source, "rb") as handle:
        raw = handle.read()
    if b"$ANSIBLE_VAULT" in raw or b"!vault" in raw:
        data = action._loader.load_from_file(source)
    else:
        try:
            data = yaml.load(raw, Loader=_Loader)  # nosec B506 - a safe loader
        except yaml.YAMLError as exc:
            raise AnsibleError("%s is not valid YAML: %s" % (path, to_text(exc)))
    return _render(action._templar, {} if data is None else data)


def _render(templar, value):
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            return templar.template(trust_as_template(value))
        return value
    if isinstance(value, dict):
        return dict((k, _render(templar, v)) for k, v in value.items())
    if isinstance(value, list):
        return [_render(templar, v) for v in value]
    return value


def run_with_declared_file(action, result, module_name, task_vars):
    """The body of an action plugin whose module takes ``config`` or, read here, ``path``."""
    args = dict(action._task.args)
    path = args.pop("path", None)
    if path is not None:
        if args.get("config") is not None:
            result.update(failed=True, msg="parameters are mutually exclusive: config|path")
            return result
        try:
            # Handed to the module as one JSON document: AnsibleModule would otherwise deep-copy
            # and type-check every value of thousands of organizations.
            args["config"] = json.dumps(load_declared_file(action, path))
        except (AnsibleError, OSError) as exc:
            result.update(failed=True, cause="file_error",
                          msg="cannot read the declared configuration %s: %s" % (path, to_text(exc)))
            return result
    result.update(action._execute_module(module_name=module_name, module_args=args, task_vars=task_vars))
    return result


class DeclaredFileAction(ActionBase):
    """Base of the action plugins whose module takes ``config`` or, read on the controller, ``path``."""

    TRANSFERS_FILES = False
    MODULE = None

    def run(self, tmp=None, task_vars=None):
        result = super(DeclaredFileAction, self).run(tmp, task_vars)
        return run_with_declared_file(self, result, self.MODULE, task_vars)
