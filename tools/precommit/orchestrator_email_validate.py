"""orchestrator-email-validate: check declared email-settings files without Ansible.

Used by the pre-commit hook of this repository (.pre-commit-hooks.yaml) in GitOps repositories:

    orchestrator-email-validate path/to/email-settings.yml [...]

Runs the collection's own validator (plugins/module_utils/_validation.py: every rule of the JSON
Schema plus the rules a schema cannot express). Values that are Jinja expressions
(``"{{ vault_smtp_password }}"``) cannot be known before Ansible renders them: they are checked as
present, not for their content. Exit code 0 when every file is valid, 1 otherwise; errors are
printed as ``file: field.path: message``.
"""
import argparse
import importlib.util
import os
import sys

import yaml

PACKAGE = "ansible_collections.mailops.orchestrator_email.plugins.module_utils"
PLACEHOLDERS = {"smtp_host": "jinja.invalid", "from_address": "jinja@jinja.invalid", "smtp_port": 587,
                "timeout_ms": 180000, "secure": True}


def _validation():
    """The collection's validator module: installed (pip), or loaded from this checkout by path."""
    try:
        from ansible_collections.mailops.orchestrator_email.plugins.module_utils import _validation  # noqa
        return _validation
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    utils = os.path.join(os.path.dirname(os.path.dirname(here)), "plugins", "module_utils")
    for name in ("_fields", "_validation"):
        spec = importlib.util.spec_from_file_location("%s.%s" % (PACKAGE, name), os.path.join(utils, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules[PACKAGE + "._validation"]


def _validator():
    return _validation().validate_config


def _is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _untemplate(value, key=None):
    """Replace Jinja expressions by valid placeholders of the field's kind."""
    if isinstance(value, dict):
        return dict((k, _untemplate(v, k)) for k, v in value.items())
    if isinstance(value, list):
        return [_untemplate(v) for v in value]
    if _is_template(value):
        return PLACEHOLDERS.get(key, value)
    return value


def check_file(path, validate):
    module = _validation()
    try:
        with open(path, "rb") as handle:
            data = module.load_declared_text(handle.read().decode("utf-8"))
    except module.DuplicateKeyError as exc:
        return ["%s: %s: %s" % (path, e["path"], e["message"]) for e in exc.errors], []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return ["%s: cannot read: %s" % (path, exc)], []
    errors, warnings, _normalized = validate(_untemplate(data))
    return (["%s: %s: %s" % (path, e["path"] or "(top level)", e["message"]) for e in errors],
            ["%s: warning: %s" % (path, w) for w in warnings])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="orchestrator-email-validate",
                                     description="Validate declared Orchestrator email settings files.")
    parser.add_argument("files", nargs="+", help="email-settings YAML files")
    args = parser.parse_args(argv)
    validate = _validator()
    failed = False
    for path in args.files:
        errors, warnings = check_file(path, validate)
        for line in warnings:
            print(line)
        for line in errors:
            print(line)
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
