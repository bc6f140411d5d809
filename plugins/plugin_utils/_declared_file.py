# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side: read a declared configuration file for the ``path`` option of an action.

The file is parsed with PyYAML's C loader when it holds no vault data (Ansible's own loader tags
every value with its origin and costs about 9 s for 10,000 organizations), or with Ansible's
loader when it does (vault-encrypted files and ``!vault`` values are decrypted). Then every
string that contains a Jinja expression (``"{{ vault_smtp_password }}"``) is rendered with the
task's variables, as ``include_vars`` would, and nothing else is templated.

PyYAML's C loader parses in C but builds every node and value in Python (about 1.3 s for 10,000
organizations); ``_fast_load`` builds the data straight from the C parser's events instead (about
0.2 s) and hands anything it does not handle the same way (anchors, aliases, explicit tags, merge
keys, complex keys, several documents, errors) to PyYAML's loader, so the result is the same.
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

from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML without libyaml
    _Loader = yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FALLBACK_TAGS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value", "tag:yaml.org,2002:yaml")


class _Unsupported(Exception):
    """The document uses something ``_fast_load`` leaves to PyYAML's loader."""


def _fast_load(raw):
    """``(data, templated)``: what ``yaml.load(raw, Loader=_Loader)`` returns, built from the parser's
    events, and whether any string holds a Jinja expression. Raises _Unsupported when the document
    uses anchors, aliases, explicit tags, merge keys, non-scalar keys or several documents."""
    loader = _Loader(raw)
    try:
        resolvers = loader.yaml_implicit_resolvers
        everywhere = resolvers.get(None, [])
        constructors = loader.yaml_constructors
        stack = []  # [container, is_mapping, pending key]
        root = None
        documents = 0
        templated = False
        check_event, get_event = loader.check_event, loader.get_event
        while check_event():
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    raise _Unsupported()
                value = event.value
                if event.tag is None and event.implicit[0]:
                    candidates = resolvers.get(value[:1])
                    tag = _STR_TAG
                    if candidates or everywhere:
                        for candidate, regexp in (candidates or []) + everywhere:
                            if regexp.match(value):
                                tag = candidate
                                break
                    if tag == _STR_TAG:
                        pass
                    elif tag == _INT_TAG and value.isdigit() and value[0] != "0":
                        value = int(value)  # what construct_yaml_int gives for plain decimal digits
                    elif tag in _FALLBACK_TAGS or tag not in constructors:
                        raise _Unsupported()
                    else:
                        value = constructors[tag](loader, ScalarNode(tag, value))
                elif event.tag == "!" or not event.implicit[1]:
                    raise _Unsupported()
                if value.__class__ is str and ("{{" in value or "{%" in value):
                    templated = True
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unsupported()
                stack.append([{} if kind is MappingStartEvent else [], kind is MappingStartEvent, _NO_KEY])
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                value = stack.pop()[0]
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Unsupported()
                continue
            elif kind is StreamStartEvent or kind is DocumentEndEvent or kind is StreamEndEvent:
                continue
            else:  # an alias
                raise _Unsupported()
            if not stack:
                root = value
                continue
            top = stack[-1]
            if not top[1]:
                top[0].append(value)
            elif top[2] is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise _Unsupported()
                top[2] = value
            else:
                top[0][top[2]] = value
                top[2] = _NO_KEY
        return root, templated
    finally:
        loader.dispose()


_NO_KEY = object()


def load_declared_file(action, path):
    """Find ``path`` like other file options do, parse it, and render its Jinja expressions."""
    source = action._find_needle("files", path)
    with open(source, "rb") as handle:
        raw = handle.read()
    templated = True
    if b"$ANSIBLE_VAULT" in raw or b"!vault" in raw:
        data = action._loader.load_from_file(source)
    else:
        try:
            data, templated = _fast_load(raw)
        except Exception:  # pylint: disable=broad-except  # PyYAML's loader decides and reports errors
            try:
                data = yaml.load(raw, Loader=_Loader)  # nosec B506 - a safe loader
            except yaml.YAMLError as exc:
                raise AnsibleError("%s is not valid YAML: %s" % (path, to_text(exc)))
            templated = True
    if data is None:
        return {}
    return _render(action._templar, data) if templated else data


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
