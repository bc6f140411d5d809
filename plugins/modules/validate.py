#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: validate
short_description: Validate a declared Orchestrator email configuration
version_added: 0.1.0
description:
  - Checks a declared email configuration (host settings and organization overrides) against every
    rule of the collection's schema (C(schemas/email-settings.schema.json)) and the rules a schema
    cannot express, and reports B(all) errors at once, each with the path of the field and the rule.
  - Talks to no store and no server, and never changes anything.
  - Rules include unknown keys (with a "did you mean" suggestion), username and password both or
    neither, SMTP domain only with a username, port 1-65535, port 465 requires C(secure) to be true,
    a valid host name or IP literal, a valid From address, no line breaks in any value, a display
    name of at most 256 characters, and the Gmail preset (secure, port 587 or 465, a username, and a
    From address equal to the username or one of C(gmail_send_as)).
author:
  - mailops engineering (@mailops)
extends_documentation_fragment:
  - mailops.orchestrator_email.store
  - mailops.orchestrator_email.attributes
  - mailops.orchestrator_email.attributes.READER
options:
  config:
    description:
      - The declared configuration, with the keys C(host) and/or C(organizations), as documented in
        the collection README and schema, or a JSON document of it (a string). Passwords inside it
        are treated as secrets.
      - Mutually exclusive with O(path).
    type: raw
  path:
    description:
      - A YAML or JSON file with the declared configuration, read B(on the controller) by the action
        plugin of this module (vault-encrypted files are decrypted). Nothing in the file is rendered or
        run (Jinja is checked as the text it is), so validating a pull request's file is safe.
      - The same file checks as M(mailops.orchestrator_email.settings) apply (a key twice in one
        mapping, keys or values that are not plain text, control characters, size and alias bounds).
      - Mutually exclusive with O(config).
    type: path
  fail_on_error:
    description:
      - Fail the task when the configuration is invalid. With V(false), the task succeeds and
        RV(valid) tells.
    type: bool
    default: true
notes:
  - O(path) is read on the controller, not on the managed host.
  - The store options are accepted so that C(module_defaults) for the action group apply to every
    module of the collection; this module does not use them.
"""

EXAMPLES = r"""
- name: Validate the declared file before anything else runs
  mailops.orchestrator_email.validate:
    path: "{{ playbook_dir }}/email-settings.yml"

- name: Validate inline, and decide in the play what to do
  mailops.orchestrator_email.validate:
    config:
      host:
        smtp_host: smtp.example.com
        smtp_port: 587
        secure: true
        from_address: orchestrator@example.com
    fail_on_error: false
  register: check

- name: Show every problem at once
  ansible.builtin.debug:
    var: check.errors
  when: not check.valid
"""

RETURN = r"""
valid:
  description: Whether the configuration passes every rule.
  returned: always
  type: bool
  sample: false
errors:
  description: Every rule broken, each with the field path and a plain-words message.
  returned: always
  type: list
  elements: dict
  sample:
    - path: organizations.finance.smtp_port
      message: must be a port number from 1 to 65535, got 70000
    - path: host.smtp_usernme
      message: "unknown key 'smtp_usernme' in host; did you mean 'smtp_username'?"
warnings:
  description: Settings that are allowed but probably wrong (also shown as task warnings).
  returned: always
  type: list
  elements: str
  sample:
    - "host.smtp_port: port 25 with secure: true needs a relay that offers STARTTLS on port 25"
organizations:
  description: The names of the organizations the configuration declares.
  returned: when valid
  type: list
  elements: str
  sample: [finance, hr]
"""

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import store_argspec
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._commands import validate_command
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        argument_spec=store_argspec(
            config=dict(type="raw"),
            path=dict(type="path"),
            fail_on_error=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("config", "path")],
        required_one_of=[("config", "path")],
        supports_check_mode=True,
    )
    run(module, validate_command)


if __name__ == "__main__":
    main()
