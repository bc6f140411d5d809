#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: verify
short_description: Send a verification email through the Orchestrator email settings under test
version_added: 0.1.0
description:
  - Sends a verification email from the managed host through explicit settings, or through the
    effective settings of the host or an O(organization) read from the store.
  - Implicit TLS on port 465, STARTTLS when secure on any other port, plain otherwise; never falls
    back to clear text when TLS fails, and refuses to send credentials over an unencrypted
    connection unless O(allow_plaintext_auth).
  - Anonymous without a username; otherwise AUTH PLAIN, else LOGIN, else CRAM-MD5, as the server
    offers. Orchestrator's C(NetworkCredential(user, password, domain)) carries the domain as its
    own field only for NTLM, which the Python standard library does not speak; with PLAIN and LOGIN
    (no domain field) a O(smtp_domain) is sent as C(DOMAIN\username), the form Windows SMTP
    servers accept. A server that offers only NTLM or GSSAPI fails with cause C(auth_not_offered).
  - "The message has C(From: \"display name\" <from_address>), C(To), C(Date), a C(Message-ID), a
    subject and body naming the scope and the time, and an C(X-Orchestrator-Email-Verification)
    header with the RV(token) that the result returns, so a pipeline can find the message."
  - Every option is checked before the first connection, the setting options by the rules of the
    declared fields (see M(mailops.orchestrator_email.validate)); a bad one fails with cause
    C(invalid_option), the option's path and the rule, and nothing is sent.
  - Temporary failures (4xx replies such as 421, a dropped connection) are retried O(retries) times
    with exponential backoff; permanent ones (5xx, bad credentials, refused recipients) fail at once
    with the server's reply and a cause code.
  - With O(via=store) (B(experimental)), the settings store's server sends the test email itself (the
    identity store's C(VerifySmtpSettings), which is not in the vendor's published API), proving the
    mail path from the Orchestrator server instead. It takes one recipient in O(to), and the result
    says only what the server confirmed (RV(recipient), RV(server_accepted_request)), never a list of
    delivered addresses.
author:
  - mailops engineering (@mailops)
extends_documentation_fragment:
  - mailops.orchestrator_email.smtp
  - mailops.orchestrator_email.store
  - mailops.orchestrator_email.attributes
options:
  to:
    description:
      - Recipients, 1 to 100 addresses (C(local-part@domain), ASCII, one per item, no display name).
    type: list
    elements: str
    required: true
  subject:
    description:
      - Subject; by default it names the scope and the time. One line (no CR, LF or other control
        characters), at most 998 characters.
    type: str
  body:
    description:
      - Body text; by default it names the scope, the time, the server and the token. Line breaks and
        tabs are allowed, other control characters are not; at most 1 MiB.
    type: str
  from_address:
    description: From address; defaults to the stored one.
    type: str
  from_display_name:
    description: From display name; defaults to the stored one.
    type: str
  allow_plaintext_auth:
    description: Allow sending credentials over a connection without TLS.
    type: bool
    default: false
  retries:
    description: How many times a temporary failure is retried, 0 to 10.
    type: int
    default: 2
  retry_delay:
    description: Seconds before the first retry (0 to 300); doubled for each further one.
    type: float
    default: 1.0
  via:
    description:
      - V(smtp) sends from the managed host. V(store) asks the store's server to send (O(store_type=identity) only).
    type: str
    choices: [smtp, store]
    default: smtp
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Connects, starts TLS, logs in, and sends MAIL FROM and RCPT TO, then RSET and QUIT - the
      credentials and recipients are proven, nothing is sent.
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second
      invocation indicates no change.
    support: none
    details: Every run sends a new message.
seealso:
  - module: mailops.orchestrator_email.preflight
"""

EXAMPLES = r"""
- name: Send a verification email with the host settings from the store
  mailops.orchestrator_email.verify:
    to: [ops@example.com]
  register: verification

- name: Verify an organization's Gmail settings
  mailops.orchestrator_email.verify:
    organization: finance
    to: [finance-team@example.com]

- name: Prove the mail path from the Orchestrator server itself (experimental)
  mailops.orchestrator_email.verify:
    via: store
    organization: finance
    partition_id: 6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a
    to: [ops@example.com]
  module_defaults:
    group/mailops.orchestrator_email.orchestrator_email:
      store_type: identity
      identity_url: https://orch.example.com/identity
      organization_clients:
        - organization: finance
          client_id: "{{ finance_client_id }}"
          client_secret: "{{ vault_finance_client_secret }}"
"""

RETURN = r"""
token:
  description: The value of the X-Orchestrator-Email-Verification header of the message.
  returned: when O(via=smtp)
  type: str
  sample: 6f1c2a4e0b7d4c1e9a532f9d8e7c6b5a
message_id:
  description: The Message-ID of the message.
  returned: when O(via=smtp)
  type: str
  sample: "<170.12.6f1c2a4e0b7d@example.com>"
accepted:
  description: Recipients the server accepted.
  returned: when O(via=smtp)
  type: list
  elements: str
refused:
  description: Recipients the server refused, with its reply.
  returned: when O(via=smtp)
  type: dict
server_reply:
  description: The server's reply to the message (or to RSET in check mode); with O(via=store), the store server's message.
  returned: when O(via=smtp), and with O(via=store) when not in check mode
  type: str
  sample: "250 Message accepted for delivery"
tls_version:
  description: The TLS version of the connection, or null without TLS.
  returned: when O(via=smtp)
  type: str
  sample: TLSv1.3
auth_mechanism:
  description: The AUTH mechanism used (PLAIN, LOGIN or CRAM-MD5), or null when anonymous.
  returned: when O(via=smtp)
  type: str
  sample: PLAIN
attempts:
  description: How many attempts it took.
  returned: when O(via=smtp)
  type: int
  sample: 1
recipient:
  description: The one address the store's server was asked to send to.
  returned: when O(via=store) and not in check mode
  type: str
  sample: ops@example.com
server_accepted_request:
  description: The store's server answered the test request with success (it does not say whether the mail was delivered).
  returned: when O(via=store) and not in check mode
  type: bool
experimental:
  description: V(true) - O(via=store) uses an endpoint that the vendor has not published.
  returned: when O(via=store) and not in check mode
  type: bool
endpoint:
  description: The store endpoint that was called.
  returned: when O(via=store) and not in check mode
  type: str
  sample: POST /identity/api/Setting/VerifySmtpSettings
elapsed_ms:
  description: Milliseconds from the first connection to the end.
  returned: always
  type: int
sent:
  description: Whether a message was sent (false in check mode).
  returned: always
  type: bool
"""

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._mailpath import verify
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import new_module, run
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp_args import smtp_argspec


def main():
    module = new_module(
        argument_spec=smtp_argspec(
            to=dict(type="list", elements="str", required=True),
            subject=dict(type="str"),
            body=dict(type="str"),
            from_address=dict(type="str"),
            from_display_name=dict(type="str"),
            allow_plaintext_auth=dict(type="bool", default=False),
            retries=dict(type="int", default=2),
            retry_delay=dict(type="float", default=1.0),
            via=dict(type="str", choices=["smtp", "store"], default="smtp"),
        ),
        supports_check_mode=True,
    )
    run(module, lambda m: verify(m.params, m.check_mode))


if __name__ == "__main__":
    main()
