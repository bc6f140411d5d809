# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ``validate``: reads ``path`` on the controller (where the GitOps repository is, and
where Ansible can decrypt vaulted files and render the secrets' Jinja expressions), then runs the
module with ``config``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailops.orchestrator_email.plugins.plugin_utils._declared_file import DeclaredFileAction


class ActionModule(DeclaredFileAction):
    MODULE = "mailops.orchestrator_email.validate"
