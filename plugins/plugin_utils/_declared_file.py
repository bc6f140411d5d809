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
import os
import re

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import ConfigValidationError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import SECRET_FIELDS
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
    DUPLICATE_KEY,
    DuplicateKeyError,
    check_plain_data,
    duplicate_checking_loader,
)

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


class DeclaredFileError(Exception):
    """The file is refused: ``errors`` are ``{path, message}`` as the validator reports them."""

    def __init__(self, errors):
        super(DeclaredFileError, self).__init__("; ".join("%s: %s" % (e["path"], e["message"]) for e in errors))
        self.errors = errors


# A declared file of 100,000 organizations is about 13 MB.
MAX_FILE_BYTES = 32 * 1024 * 1024


def _path_of(stack, key):
    parts = []
    for container, is_mapping, pending in stack:
        if is_mapping:
            parts.append(str(pending))
        else:
            parts[-1:] = ["%s[%d]" % (parts[-1] if parts else "", len(container))]
    parts.append(str(key))
    return ".".join(p for p in parts if p != "")


_CheckingLoader = duplicate_checking_loader(_Loader)


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
                if value in top[0]:
                    raise DeclaredFileError([{"path": _path_of(stack[:-1], value) if len(stack) > 1 else str(value),
                                              "message": DUPLICATE_KEY}])
                top[2] = value
            else:
                top[0][top[2]] = value
                top[2] = _NO_KEY
        return root, templated
    finally:
        loader.dispose()


_NO_KEY = object()


def load_declared_file(action, path, render=True, allow_expressions=False):
    """Find ``path`` like other file options do, parse it, refuse what is not plain data, and
    render its variable references (``render``; ``validate`` never renders anything)."""
    source = action._find_needle("files", path)
    if os.path.getsize(source) > MAX_FILE_BYTES:
        raise DeclaredFileError([{"path": "", "message": "the file is larger than %d MiB; refused"
                                  % (MAX_FILE_BYTES // (1024 * 1024))}])
    with open(source, "rb") as handle:
        raw = handle.read()
    templated = True
    if b"$ANSIBLE_VAULT" in raw or b"!vault" in raw:
        plain = raw
        if raw.lstrip().startswith(b"$ANSIBLE_VAULT"):
            plain = action._loader._vault.decrypt(raw)
        _parse(plain)  # the same checks as for a plain file; !vault values stay opaque
        data = action._loader.load_from_file(source)
    else:
        try:
            data, templated = _fast_load(raw)
        except DeclaredFileError:
            raise
        except Exception:  # pylint: disable=broad-except  # PyYAML's loader decides and reports errors
            data = _parse(raw)
            templated = True
    if data is None:
        return {}
    errors = check_plain_data(data)
    if errors:
        raise DeclaredFileError(errors)
    if not render or not templated:
        return data
    return _render(action._templar, data, "", False, allow_expressions)


def _parse(raw):
    try:
        return yaml.load(raw, Loader=_CheckingLoader)  # nosec B506 - a safe loader
    except DuplicateKeyError as exc:
        raise DeclaredFileError(exc.errors)
    except yaml.YAMLError as exc:
        raise AnsibleError("not valid YAML: %s" % to_text(exc))


# {{ name }}, {{ name.attr }}, {{ name['key'] }}, {{ name[0] }}: a variable, nothing that runs.
_REFERENCE = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:'[^'{}]*'|\"[^\"{}]*\"|[0-9]+)\])*"
                        r"\s*\}\}")


def is_plain_reference(value):
    """Whether every Jinja expression in ``value`` is a plain variable reference."""
    if "{%" in value or "{#" in value:
        return False
    rest = _REFERENCE.sub("", value)
    return "{{" not in rest and "}}" not in rest


def _render(templar, value, path, secret, allow_expressions):
    if isinstance(value, str):
        if "{{" in value or "{%" in value or "{#" in value:
            if not allow_expressions and not is_plain_reference(value):
                raise DeclaredFileError([{"path": path, "message": (
                    "holds a Jinja expression that is not a plain variable reference ({{ name }}): lookups, "
                    "filters and other code in a declared file are not run; set allow_expressions: true on "
                    "the task to render it")}])
            try:
                return templar.template(trust_as_template(value))
            except AnsibleError as exc:
                detail = "a variable it references is undefined or cannot be rendered" if secret else to_text(exc)
                raise DeclaredFileError([{"path": path, "message": "cannot be rendered: %s" % detail}])
        return value
    if isinstance(value, dict):
        return dict((k, _render(templar, v, "%s.%s" % (path, k) if path else str(k), secret or k in SECRET_FIELDS,
                                allow_expressions)) for k, v in value.items())
    if isinstance(value, list):
        return [_render(templar, v, "%s[%d]" % (path, i), secret, allow_expressions) for i, v in enumerate(value)]
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
            data = load_declared_file(action, path, render=module_name.endswith(".settings"),
                                      allow_expressions=bool(args.get("allow_expressions")))
            args["config"] = json.dumps(data)
        except DeclaredFileError as exc:
            if module_name.endswith(".validate") and args.get("fail_on_error") is False:
                result.update(changed=False, valid=False, errors=exc.errors, warnings=[])
                return result
            failure = ConfigValidationError(exc.errors).to_result()
            failure["msg"] = "%s: %s" % (path, failure["msg"])
            result.update(failed=True, **failure)
            return result
        except (AnsibleError, OSError, ValueError, TypeError) as exc:
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
