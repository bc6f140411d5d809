#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Check that secure mail works from this machine, and diagnose why not
version_added: 0.1.0
description:
  - Answers "will Orchestrator's system email work from this machine?" for explicit settings, or
    for the effective settings of the host or an O(organization) read from the store.
  - "Checks, in order: the name resolves (C(dns)); TCP to the SMTP port (C(tcp)); an SMTP banner and
    EHLO, and STARTTLS offered when secure (C(smtp)); the TLS handshake with certificate verification
    (C(tls)); plain-HTTP reachability (port 80) of every CRL distribution point and OCSP responder the
    certificate names, plus O(http_probe_hosts) (C(revocation)); and with O(check_auth) an AUTH, then
    QUIT (C(auth)). Nothing is ever sent."
  - A blocked port 80 is the classic cause of C(SslHandshakeException) on offline installations -
    the TLS handshake of Orchestrator's mail client needs the certificate's revocation servers.
  - Every failure has a stable cause code in RV(diagnosis), with a one-line remedy. A check can
    also end as C(warning) (the certificate was not verified because O(validate_certs=false), or
    credentials were not sent over a connection without TLS) or C(skipped) (not needed, or not run
    after an earlier failure); neither counts as a failure.
  - The port-80 probe uses the port a CRL or OCSP URL names, if it names one (C(http://crl.example.com:8080/ca.crl)),
    and O(http_probe_hosts) accepts C(host:port).
author:
  - mailops engineering (@mailops)
extends_documentation_fragment:
  - mailops.orchestrator_email.smtp
  - mailops.orchestrator_email.store
  - mailops.orchestrator_email.attributes
  - mailops.orchestrator_email.attributes.READER
options:
  check_auth:
    description:
      - Also log in with the credentials (then QUIT; nothing is sent). AUTH PLAIN, else LOGIN, else
        CRAM-MD5, as the server offers; a O(smtp_domain) is sent as C(DOMAIN\username).
    type: bool
    default: false
  allow_plaintext_auth:
    description:
      - With O(check_auth) on a connection without TLS (O(secure=false)), send the credentials anyway.
        By default they are not sent and the C(auth) check is a C(warning).
    type: bool
    default: false
  http_probe_hosts:
    description:
      - More hosts to check on port 80 (C(host)) or another port (C(host:port)), for example the
        CRL and OCSP hosts of the intermediate CAs.
    type: list
    elements: str
    default: []
  fail_on_error:
    description: Fail the task when any check fails. With V(false), read RV(ok) and RV(diagnosis).
    type: bool
    default: true
notes:
  - "Cause codes: C(dns_failure), C(port_closed), C(port_filtered), C(not_smtp), C(starttls_not_offered),
    C(tls_mode_mismatch), C(certificate_untrusted), C(certificate_expired), C(hostname_mismatch),
    C(revocation_unreachable), C(tls_version_mismatch), C(auth_failed)."
seealso:
  - module: mailops.orchestrator_email.verify
"""

EXAMPLES = r"""
- name: Will the host settings in the store work from this Orchestrator node?
  mailops.orchestrator_email.preflight:
    check_auth: true
    smtp_password: "{{ vault_smtp_password }}"

- name: Diagnose a relay before storing it, and decide in the play
  mailops.orchestrator_email.preflight:
    smtp_host: smtp.example.com
    smtp_port: 587
    secure: true
    fail_on_error: false
  register: mailpath

- name: Show the causes and remedies
  ansible.builtin.debug:
    var: mailpath.diagnosis
  when: not mailpath.ok
"""

RETURN = r"""
ok:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: false
checks:
  description: One entry per check, in order.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: tcp, target: "smtp.example.com:587", status: ok, detail: connected, elapsed_ms: 12}
    - {name: revocation, target: "crl.example.com:80", status: failed, cause: revocation_unreachable,
       detail: "no answer from crl.example.com:80 within 10.0s (filtered?)", elapsed_ms: 10003}
diagnosis:
  description: The distinct causes found, each with the check that found it and a remedy.
  returned: always
  type: list
  elements: dict
  sample:
    - code: revocation_unreachable
      check: revocation
      remedy: "The certificate's revocation servers (CRL/OCSP, plain HTTP) cannot be reached: open port 80 ..."
tls:
  description: The TLS session - version, cipher, the certificate's subject, issuer, SANs, expiry, CRL and OCSP URLs.
  returned: when the handshake succeeded
  type: dict
  sample: {tls_version: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, subject: "commonName=smtp.example.com",
           issuer: "commonName=Example CA", sans: ["DNS:smtp.example.com"], not_after: "Jan  1 00:00:00 2027 GMT",
           crl_urls: ["http://crl.example.com/ca.crl"], ocsp_urls: ["http://ocsp.example.com"]}
scope:
  description: Whose settings were tested.
  returned: always
  type: str
  sample: organization finance
settings:
  description: The settings tested, password masked.
  returned: always
  type: dict
"""

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._mailpath import preflight
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._module import new_module, run
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp_args import smtp_argspec


def main():
    module = new_module(
        argument_spec=smtp_argspec(
            check_auth=dict(type="bool", default=False),
            allow_plaintext_auth=dict(type="bool", default=False),
            http_probe_hosts=dict(type="list", elements="str", default=[]),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    run(module, lambda m: preflight(m.params))


if __name__ == "__main__":
    main()
