# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for the whole collection.

Modules never catch these themselves: ``_module.run_module`` turns any of them into a single
``fail_json`` with the message, a stable ``cause`` code and, where there is one, a list of
structured ``errors``. Messages must never contain a secret: callers pass masked values only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class OrchestratorEmailError(Exception):
    """Base class. ``cause`` is a stable, machine-readable code."""

    cause = "error"

    def __init__(self, message, cause=None, **details):
        super(OrchestratorEmailError, self).__init__(message)
        self.message = message
        if cause:
            self.cause = cause
        self.details = details

    def to_result(self):
        result = {"msg": self.message, "cause": self.cause}
        result.update(self.details)
        return result


class ConfigValidationError(OrchestratorEmailError):
    """The declared configuration breaks one or more rules. Nothing has been written."""

    cause = "invalid_config"

    def __init__(self, errors, warnings=None):
        self.errors = list(errors)
        lines = ["%s: %s" % (e["path"] or "(top level)", e["message"]) for e in self.errors]
        message = "The declared email settings are invalid (%d error%s); nothing was written:\n- %s" % (
            len(lines), "" if len(lines) == 1 else "s", "\n- ".join(lines))
        super(ConfigValidationError, self).__init__(
            message, errors=self.errors, warnings=list(warnings or []))


class InvalidOptionsError(OrchestratorEmailError):
    """Options of a mail-path module break a rule. Nothing has been sent."""

    cause = "invalid_option"

    def __init__(self, errors):
        self.errors = list(errors)
        lines = ["%s: %s" % (e["path"], e["message"]) for e in self.errors]
        message = "Invalid options (%d error%s); nothing was sent:\n- %s" % (
            len(lines), "" if len(lines) == 1 else "s", "\n- ".join(lines))
        super(InvalidOptionsError, self).__init__(message, errors=self.errors)


class StoreError(OrchestratorEmailError):
    """The settings store could not be read or written."""

    cause = "store_error"


class StoreConnectionError(StoreError):
    """The settings store could not be reached (network, TLS, timeout)."""

    cause = "store_unreachable"


class StoreAuthenticationError(StoreError):
    """The settings store refused our credentials."""

    cause = "store_authentication_failed"


class StoreApiError(StoreError):
    """The settings store answered with an error."""

    cause = "store_api_error"


class MailError(OrchestratorEmailError):
    """A mail-path operation (preflight, verify) failed; ``cause`` is a diagnosis code."""

    cause = "mail_error"
