# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store options every module shares. Its twin is ``plugins/doc_fragments/store.py``:
change both together (a unit test compares them)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

STORE_ARGSPEC = dict(
    store_type=dict(type="str", choices=["sqlite", "identity"], default="sqlite",
                    fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_STORE_TYPE"])),
    store_path=dict(type="path", fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_STORE_PATH"])),
    store_timeout=dict(type="float", default=30.0,
                       fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_STORE_TIMEOUT"])),
    identity_url=dict(type="str", fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_IDENTITY_URL"])),
    client_id=dict(type="str", fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True,
                       fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_CLIENT_SECRET"])),
    scopes=dict(type="str", default="PM.Setting",
                fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_SCOPES"])),
    identity_validate_certs=dict(type="bool", default=True,
                                 fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_VALIDATE_CERTS"])),
    identity_ca_path=dict(type="path", fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_CA_PATH"])),
    request_timeout=dict(type="float", default=30.0,
                         fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_REQUEST_TIMEOUT"])),
    organization_clients=dict(type="list", elements="dict", options=dict(
        organization=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        client_secret=dict(type="str", required=True, no_log=True),
        scopes=dict(type="str"),
    )),
    host_admin_username=dict(type="str", fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_HOST_ADMIN_USERNAME"])),
    host_admin_password=dict(type="str", no_log=True,
                             fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_HOST_ADMIN_PASSWORD"])),
    host_admin_login_url=dict(type="str"),
    identity_use_proxy=dict(type="bool", default=True),
    allow_insecure_http=dict(type="bool", default=False),
    identity_http_agent=dict(type="str"),
    identity_client_cert=dict(type="path"),
    identity_client_key=dict(type="path"),
    identity_max_retry_wait=dict(type="float", default=60.0,
                                 fallback=(env_fallback, ["ORCHESTRATOR_EMAIL_MAX_RETRY_WAIT"])),
)


def store_argspec(**extra):
    """A module's argspec: the shared store options plus its own."""
    spec = dict(STORE_ARGSPEC)
    spec.update(extra)
    return spec
