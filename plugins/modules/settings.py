#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: settings
short_description: Manage Orchestrator system email settings (host and organizations)
version_added: 0.1.0
description:
  - Applies UiPath Orchestrator system email notification settings to a settings store, either for
    one scope (the host, or one organization with O(organization)) from flat options, or for a whole
    declared configuration (host plus any number of organizations) with O(config).
  - Validates everything first (see M(mailops.orchestrator_email.validate)); when anything is
    invalid, every error is reported and B(nothing is written).
  - A declared scope is complete - optional settings that it omits (domain, credentials, display
    name) are cleared from the store, so omitting O(smtp_username) and O(smtp_password) means
    anonymous. Only O(timeout_ms) is left as it is when omitted.
  - An organization with O(state=absent) has its override removed and uses the host settings.
  - The whole call is one transaction on the sqlite store (all scopes or none).
author:
  - mailops engineering (@mailops)
extends_documentation_fragment:
  - mailops.orchestrator_email.store
  - mailops.orchestrator_email.attributes
  - mailops.orchestrator_email.attributes.WRITER
options:
  config:
    description:
      - A whole declared configuration with C(host) and/or C(organizations), in the format of the
        collection schema C(schemas/email-settings.schema.json) (see the README).
      - Every C(smtp_password) inside it is treated as a secret.
      - A JSON document of the configuration (a string) is accepted too; the action plugin sends O(path) that way.
      - Mutually exclusive with O(path) and the flat options below.
    type: raw
  path:
    description:
      - A YAML or JSON file with the declared configuration, read B(on the controller) by the action
        plugin of this module, like O(config) otherwise.
      - Vault-encrypted files and C(!vault) values are decrypted, and plain variable references in
        string values (such as C("{{ vault_smtp_password }}")) are rendered with the task's variables.
        Any other Jinja (lookups, filters, statements) is refused unless O(allow_expressions=true),
        because the file is data and a change to it must not run code on the controller.
      - The file is refused, before anything is written, when a key appears twice in one mapping,
        when a key or value is not plain text (YAML reads unquoted C(no), C(~), numbers and dates as
        other types; C(!!binary), C(!!set)), when a value holds control characters, when it is
        larger than 32 MiB, or when it expands to more than a million values (YAML aliases).
      - Much faster than loading the file with M(ansible.builtin.include_vars) and passing it as
        O(config) for thousands of organizations.
      - Mutually exclusive with O(config) and the flat options.
    type: path
    version_added: 0.1.0
  allow_expressions:
    description:
      - Render every Jinja expression in the file of O(path), not only plain variable references
        (C({{ name }}), C({{ name.key }})). Lookups and filters then run on the controller, so enable
        it only for files whose every change you trust as you trust the playbook.
    type: bool
    default: false
  exclusive:
    description:
      - With O(config) or O(path), remove the overrides of organizations that the configuration does not
        declare, so that they use the host settings.
    type: bool
    default: false
  update_password:
    description:
      - When the store cannot read passwords back (O(store_type=identity) masks them), V(on_create)
        writes the password only when the store has none or when the host, port, secure flag or
        username change; V(always) writes it on every run and reports a change.
      - Stores that can read passwords back (V(sqlite)) compare them and write only a different one.
    type: str
    choices: [on_create, always]
    default: on_create
  organization:
    description:
      - The organization to manage. Omit for the host settings.
    type: str
  partition_id:
    description:
      - The organization's partition GUID, needed by O(store_type=identity).
    type: str
  state:
    description:
      - V(present) makes the scope hold exactly these settings; V(absent) removes an organization's
        override.
    type: str
    choices: [present, absent]
    default: present
  smtp_host:
    description: The IP address or domain name of the SMTP server (no scheme, no port).
    type: str
  smtp_port:
    description: The SMTP port; defaults to 587 when the scope is present.
    type: int
  smtp_domain:
    description: Domain for the username, when the SMTP server requires it. Only with O(smtp_username).
    type: str
  smtp_username:
    description: SMTP login. Omit with O(smtp_password) for anonymous.
    type: str
  smtp_password:
    description: Password of O(smtp_username). Never shown; diffs show C(********).
    type: str
  secure:
    description: Enable secure connection (STARTTLS, or implicit TLS on port 465); defaults to V(true).
    type: bool
  from_address:
    description: Default From address.
    type: str
  from_display_name:
    description: Default From display name (at most 256 characters).
    type: str
  use_default_credentials:
    description:
      - C(Email.Smtp.UseDefaultCredentials) - when V(true) the server logs in with its own default
        credentials and B(ignores) O(smtp_username) and O(smtp_password), so it must be V(false)
        (the default) with a username.
      - Written on every apply, so a value left V(true) by the vendor's default mailer or its "no
        credentials" workaround shows as drift and is corrected.
      - Defaults to V(false) in a declared scope.
    type: bool
    version_added: 0.1.0
  timeout_ms:
    description:
      - SMTP connection timeout in milliseconds (Orchestrator 2023.10+), from 1 to 300000 (as the
        vendor's CLI accepts). Left unchanged when omitted.
    type: int
  gmail_send_as:
    description: Send-as aliases of a Gmail account that O(from_address) may use. Validation only.
    type: list
    elements: str
  vendor_default_mailer:
    description:
      - V(true) asks for the vendor's default mailer ("Use default mail settings"; the server stores it
        as C(Email.Smtp.Host) C(SendGrid), C(FromEmail) C(no-reply@uipath.com) and default
        credentials). No other setting may be given with it.
      - M(mailops.orchestrator_email.settings_info) and drift reports name it C(vendor default mailer).
    type: bool
    version_added: 0.1.0
notes:
  - The sqlite store keeps a history of every change (secrets only as C(******** (changed))); read it
    with M(mailops.orchestrator_email.settings_info) and O(mailops.orchestrator_email.settings_info#module:history).
seealso:
  - module: mailops.orchestrator_email.settings_info
  - module: mailops.orchestrator_email.validate
"""

EXAMPLES = r"""
- name: Host settings through an authenticated STARTTLS relay
  mailops.orchestrator_email.settings:
    smtp_host: smtp.example.com
    smtp_port: 587
    secure: true
    smtp_username: mailer@example.com
    smtp_password: "{{ vault_smtp_password }}"
    from_address: mailer@example.com
    from_display_name: Orchestrator System Notifications

- name: One organization uses its own Gmail account
  mailops.orchestrator_email.settings:
    organization: finance
    smtp_host: smtp.gmail.com
    smtp_username: finance.robots@gmail.com
    smtp_password: "{{ vault_finance_app_password }}"
    from_address: finance.robots@gmail.com

- name: The hr organization goes back to the host settings
  mailops.orchestrator_email.settings:
    organization: hr
    state: absent

- name: GitOps - apply the whole declared file (read on the controller) in one transaction
  mailops.orchestrator_email.settings:
    path: "{{ playbook_dir }}/email-settings.yml"
    exclusive: true
  module_defaults:
    group/mailops.orchestrator_email.orchestrator_email:
      store_path: /var/lib/orchestrator-email/settings.db
"""

RETURN = r"""
changes:
  description: Every field written, created or deleted (or that would be, in check mode). Secrets masked.
  returned: always
  type: list
  elements: dict
  sample:
    - scope: organizations.finance
      field: smtp_port
      key: Email.Smtp.Port
      action: update
      secret: false
      before: 25
      after: 587
    - scope: host
      field: smtp_password
      key: Email.Smtp.Password
      action: update
      secret: true
      before: "********"
      after: "******** (changed)"
summary:
  description: Counts of declared, changed and unchanged scopes and changed fields, and the store used.
  returned: always
  type: dict
  sample: {scopes_declared: 3, scopes_changed: 1, scopes_unchanged: 2, fields_changed: 2, store: sqlite}
"""

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import store_argspec
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._commands import (
    SCOPE_OPTIONS,
    settings_command,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        argument_spec=store_argspec(
            config=dict(type="raw"),
            path=dict(type="path"),
            exclusive=dict(type="bool", default=False),
            allow_expressions=dict(type="bool", default=False),
            update_password=dict(type="str", choices=["on_create", "always"], default="on_create",
                                 no_log=False),
            organization=dict(type="str"),
            partition_id=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            smtp_host=dict(type="str"),
            smtp_port=dict(type="int"),
            smtp_domain=dict(type="str"),
            smtp_username=dict(type="str"),
            smtp_password=dict(type="str", no_log=True),
            secure=dict(type="bool"),
            from_address=dict(type="str"),
            from_display_name=dict(type="str"),
            use_default_credentials=dict(type="bool"),
            timeout_ms=dict(type="int"),
            gmail_send_as=dict(type="list", elements="str"),
            vendor_default_mailer=dict(type="bool"),
        ),
        mutually_exclusive=[(whole, name) for whole in ("config", "path")
                            for name in SCOPE_OPTIONS + ("organization", "partition_id")] + [("config", "path")],
        supports_check_mode=True,
    )
    run(module, settings_command)


if __name__ == "__main__":
    main()
