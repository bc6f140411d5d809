# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The twin of plugins/module_utils/_argspec.py: change both together (a unit test compares them).

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  store_type:
    description:
      - Where the email settings are kept.
      - V(sqlite) is the embedded store, one SQLite file on the managed host (see O(store_path)).
      - V(identity) is the vendor's Identity Server settings API (C(/identity/api/Setting)),
        reached with OAuth2 client credentials (see O(identity_url), O(client_id), O(client_secret)).
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_STORE_TYPE) environment variable is used.
    type: str
    choices: [sqlite, identity]
    default: sqlite
  store_path:
    description:
      - Path of the SQLite file for O(store_type=sqlite), on the managed host.
      - Created with mode C(0600) (its directory C(0700)) on the first write; reads never create it.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_STORE_PATH) environment variable is used,
        else C(~/.orchestrator_email/settings.db).
    type: path
  store_timeout:
    description:
      - Seconds to wait for the SQLite write lock held by another playbook before failing.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_STORE_TIMEOUT) environment variable is used.
    type: float
    default: 30.0
  identity_url:
    description:
      - Base URL of the Identity Server for O(store_type=identity), for example
        C(https://orch.example.com/identity) (standalone) or
        C(https://suite.example.com/myorg/identity_) (Automation Suite).
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_IDENTITY_URL) environment variable is used.
    type: str
  client_id:
    description:
      - OAuth2 client id of an external application allowed the O(scopes).
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - OAuth2 client secret of O(client_id). Never shown in output or errors.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_CLIENT_SECRET) environment variable is used.
    type: str
  scopes:
    description:
      - OAuth2 scopes to request, separated by spaces.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_SCOPES) environment variable is used.
    type: str
    default: PM.Setting
  identity_validate_certs:
    description:
      - Verify the Identity Server's TLS certificate. Set to V(false) only for a lab.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  identity_ca_path:
    description:
      - A PEM file of CA certificates to trust for the Identity Server, in addition to the system's.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for one HTTP request to the Identity Server.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_REQUEST_TIMEOUT) environment variable is used.
    type: float
    default: 30.0
"""
