# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The twin of SMTP_ARGSPEC in plugins/module_utils/_smtp_args.py: change both together.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  organization:
    description:
      - Test the effective settings of this organization (its override, or the host settings it
        inherits), read from the store. Omit for the host settings.
      - Ignored when O(smtp_host) is given.
    type: str
  partition_id:
    description: The organization's partition GUID, needed by O(store_type=identity).
    type: str
  smtp_host:
    description:
      - Test these settings instead of the stored ones. The other settings options override stored
        values also when this is omitted.
    type: str
  smtp_port:
    description: SMTP port; defaults to the stored value, or 587.
    type: int
  secure:
    description: Enable secure connection (STARTTLS, or implicit TLS on port 465); defaults to the stored value, or V(true).
    type: bool
  smtp_domain:
    description: Domain of the login; sent as C(DOMAIN\username) with AUTH PLAIN and LOGIN.
    type: str
  smtp_username:
    description: SMTP login.
    type: str
  smtp_password:
    description:
      - SMTP password. Required with a username when the store cannot return passwords (O(store_type=identity)).
    type: str
  timeout:
    description:
      - Seconds allowed for each network step (resolving, connecting, each SMTP reply, the TLS handshake).
        A port that drops packets costs one timeout. More than 0, at most 300.
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the SMTP server's certificate against the system CAs and O(ca_path). Set V(false)
        only for a lab; verification is never silently skipped.
    type: bool
    default: true
  ca_path:
    description: A PEM file of CA certificates to trust in addition to the system's.
    type: path
  min_tls_version:
    description: The lowest TLS version to accept; default is Python's (TLS 1.2).
    type: str
    choices: ['1.2', '1.3']
  tls_mode:
    description:
      - How TLS starts when secure is on. V(auto) does what Orchestrator does - implicit TLS on port
        465, STARTTLS on every other port. V(starttls) and V(implicit) force a mode for servers on
        non-standard ports.
    type: str
    choices: [auto, starttls, implicit]
    default: auto
"""
