#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: settings_info
short_description: Read Orchestrator system email settings and what each organization really uses
version_added: 0.1.0
description:
  - Returns the email settings stored for the host and for one or all organizations, and for each
    organization the C(effective) settings after inheritance from the host.
  - Inheritance is per scope - an organization with an override uses its own settings as a whole;
    one without uses the host's.
  - Passwords are never returned, only C(********) and whether one is set.
  - Never changes anything; a sqlite store that does not exist yet reads as empty and is not created.
author:
  - mailops engineering (@mailops)
extends_documentation_fragment:
  - mailops.orchestrator_email.store
  - mailops.orchestrator_email.attributes
  - mailops.orchestrator_email.attributes.READER
options:
  organization:
    description:
      - Only this organization. When omitted, every organization the store can list (the identity
        store cannot list organizations; name one).
    type: str
  partition_id:
    description: The organization's partition GUID, needed by O(store_type=identity).
    type: str
  history:
    description: Also return the newest N entries of the store's change history (sqlite store only).
    type: int
    default: 0
seealso:
  - module: mailops.orchestrator_email.settings
"""

EXAMPLES = r"""
- name: What does every organization really use?
  mailops.orchestrator_email.settings_info:
  register: email

- name: Show the effective SMTP host of finance
  ansible.builtin.debug:
    msg: "{{ email.organizations.finance.effective.smtp_host }} ({{ email.organizations.finance.effective_source }})"

- name: The last 20 changes, for an audit
  mailops.orchestrator_email.settings_info:
    history: 20
  register: audit
"""

RETURN = r"""
host:
  description: The host settings.
  returned: always
  type: dict
  contains:
    configured:
      description: Whether the store holds any host setting.
      type: bool
      returned: always
    settings:
      description: The stored settings by field name; the password as C(********).
      type: dict
      returned: always
    password_set:
      description: Whether a password is stored.
      type: bool
      returned: always
  sample:
    configured: true
    password_set: true
    settings: {smtp_host: smtp.example.com, smtp_port: 587, secure: true, smtp_username: mailer@example.com,
               smtp_password: "********", from_address: mailer@example.com}
organizations:
  description: Organization name -> its own settings (as for RV(host)) plus C(effective) and C(effective_source).
  returned: always
  type: dict
  sample:
    finance:
      configured: true
      password_set: true
      settings: {smtp_host: smtp.gmail.com, smtp_port: 587}
      effective: {smtp_host: smtp.gmail.com, smtp_port: 587}
      effective_source: organization
history:
  description: The newest changes first, secrets only as C(********) / C(******** (changed)).
  returned: when O(history) is greater than 0
  type: list
  elements: dict
  sample:
    - {id: 12, at: "2026-11-24T08:00:00.000+00:00", run_id: 3f2a..., scope: host, key: Email.Smtp.Port,
       old_value: "25", new_value: "587"}
store:
  description: The store type that was read.
  returned: always
  type: str
  sample: sqlite
"""

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import store_argspec
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._commands import settings_info_command
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import new_module, run


def main():
    module = new_module(
        argument_spec=store_argspec(
            organization=dict(type="str"),
            partition_id=dict(type="str"),
            history=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    run(module, settings_info_command)


if __name__ == "__main__":
    main()
