# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/mailops.orchestrator_email.orchestrator_email) in C(module_defaults)
      to set the store options once for every module of this collection.
    support: full
    membership:
      - mailops.orchestrator_email.orchestrator_email
"""

    WRITER = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode. Secrets show as C(********).
    support: full
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second
      invocation indicates no change.
    support: full
"""

    READER = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: This action does not modify state.
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: N/A
    details: This action does not modify state.
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second
      invocation indicates no change.
    support: full
    details: This action does not modify state.
"""
