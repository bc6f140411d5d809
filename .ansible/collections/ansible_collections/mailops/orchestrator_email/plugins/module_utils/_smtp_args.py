# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that talk SMTP. Its twin is ``plugins/doc_fragments/smtp.py``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._argspec import store_argspec

SMTP_ARGSPEC = dict(
    organization=dict(type="str"),
    partition_id=dict(type="str"),
    smtp_host=dict(type="str"),
    smtp_port=dict(type="int"),
    secure=dict(type="bool"),
    smtp_domain=dict(type="str"),
    smtp_username=dict(type="str"),
    smtp_password=dict(type="str", no_log=True),
    timeout=dict(type="float", default=10),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    min_tls_version=dict(type="str", choices=["1.2", "1.3"]),
    tls_mode=dict(type="str", choices=["auto", "starttls", "implicit"], default="auto"),
)


def smtp_argspec(**extra):
    spec = store_argspec(**SMTP_ARGSPEC)
    spec.update(extra)
    return spec
