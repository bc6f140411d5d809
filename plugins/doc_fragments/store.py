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
        reached with each organization's application (O(organization_clients)), the host administrator
        (O(host_admin_username)) or one application (O(client_id)); see the README's identity section.
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
      - Base URL of the Identity Server for O(store_type=identity). Its path ends with C(/identity) on a
        standalone Orchestrator (C(https://orch.example.com/identity)) and with C(/identity_) on
        Automation Suite (host-level, C(https://suite.example.com/identity_)) and Automation Cloud
        (C(https://cloud.uipath.com/identity_) or C(https://cloud.uipath.com/myorg/identity_)).
      - A URL without a path (the Orchestrator's own URL) is refused with these forms.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_IDENTITY_URL) environment variable is used.
    type: str
  client_id:
    description:
      - OAuth2 client id of one external application used for every scope that has no entry in
        O(organization_clients) (and for the host when O(host_admin_username) is not set).
      - An external application is registered B(per organization) and is refused (403) for the host
        and for other organizations on Automation Suite and Automation Cloud; one application for
        everything works only where the server allows it.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - OAuth2 client secret of O(client_id). Never shown in output or errors.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_CLIENT_SECRET) environment variable is used.
    type: str
  organization_clients:
    description:
      - Each organization's own external application (client credentials grant), declared once,
        for example in C(module_defaults). An organization not listed uses O(client_id).
      - One entry per organization; the secrets are never shown.
    type: list
    elements: dict
    suboptions:
      organization:
        description: The organization name, as in the declared configuration.
        type: str
        required: true
      client_id:
        description: The client id of the application registered in that organization.
        type: str
        required: true
      client_secret:
        description: Its client secret.
        type: str
        required: true
      scopes:
        description: Scopes to request for it; default O(scopes).
        type: str
  host_admin_username:
    description:
      - The host administrator's user name. The host settings are read and written as the host
        administrator, with the resource-owner password login documented for host administrators
        (C(POST <Orchestrator URL>/api/account/authenticate), tenancy C(host); see O(host_admin_login_url)).
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_HOST_ADMIN_USERNAME) environment variable is used.
    type: str
  host_admin_password:
    description:
      - The host administrator's password. Never shown in output or errors.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_HOST_ADMIN_PASSWORD) environment variable is used.
    type: str
  host_admin_login_url:
    description:
      - The host administrator's login endpoint (an Orchestrator endpoint,
        C(<Orchestrator URL>/api/account/authenticate)).
      - Derived on a standalone Orchestrator (O(identity_url) without C(/identity));
        B(required) with the host administrator when O(identity_url) ends with C(/identity_)
        (Automation Suite), where the Orchestrator URL cannot be derived.
      - That the Identity settings API accepts this login's token is not confirmed by the vendor's
        published sources.
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
  identity_use_proxy:
    description:
      - Use the proxy of the environment (E(https_proxy), E(http_proxy), E(no_proxy)) for the Identity Server.
    type: bool
    default: true
  allow_insecure_http:
    description:
      - Allow an O(identity_url) over plain C(http://) to a host that is not the loopback interface.
        Off by default, because the client secrets and the host administrator's password would
        cross the network in clear text.
    type: bool
    default: false
  identity_http_agent:
    description:
      - The User-Agent header sent to the Identity Server; by default
        C(mailops.orchestrator_email/<version> (Ansible collection)).
    type: str
  identity_client_cert:
    description: A PEM client certificate to present to the Identity Server (through a proxy too, inside the tunnel).
    type: path
  identity_client_key:
    description: The private key of O(identity_client_cert), if it is not in the same file.
    type: path
  identity_max_retry_wait:
    description:
      - The longest C(Retry-After) wait (seconds) to honour on a 429 or 503. When the server asks for
        longer (Automation Cloud's limits are per organization per 5 minutes), the call fails at once
        and says how long the server asked to wait.
      - If not set, the value of the E(ORCHESTRATOR_EMAIL_MAX_RETRY_WAIT) environment variable is used.
    type: float
    default: 60.0
"""
