# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of no_log values in a module result, in time linear in the size of the result.

AnsibleModule masks its no_log values with one ``str.replace`` per secret per string of the
result: with a declared configuration of 10,000 organizations, each with its own password, that
is 10,000 x (every string of the result) and took over 30 seconds. ``Masker`` gives the same
output (an exact match becomes ``VALUE_SPECIFIED_IN_NO_LOG_PARAMETER``, an occurrence inside a
longer string becomes ``********``) by looking each position of a string up in a set, once per
distinct secret length.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

EXACT = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
PARTIAL = "********"


def wire_forms(secret):
    """``secret`` and the forms it takes on the wire, where a server may echo it back: URL-encoded
    (a token request's form body), JSON-escaped, and base64 (AUTH LOGIN sends the password so)."""
    forms = [secret]
    try:
        from urllib.parse import quote, quote_plus  # pylint: disable=import-outside-toplevel
        forms += [quote(secret, safe=""), quote(secret), quote_plus(secret), quote_plus(secret, safe="/")]
    except ImportError:  # pragma: no cover - Python 2
        pass
    forms.append(json.dumps(secret)[1:-1])
    forms.append(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.append(base64.b64encode(secret.encode("utf-8")).decode("ascii"))
    return [f for f in dict.fromkeys(forms) if f]


def auth_plain_token(user, password):
    """The base64 AUTH PLAIN token of ``user`` and ``password`` (it holds the password)."""
    return base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")


def mask_wire(text, secrets, min_length=3):
    """``text`` with each of ``secrets`` replaced by ``********`` in every form of ``wire_forms``
    (longest first, so that a longer form is not left half masked). Secrets shorter than
    ``min_length`` are left alone: masking every "a" would hide the message, not the secret."""
    forms = sorted(set(form for secret in secrets if secret and len(secret) >= min_length
                       for form in wire_forms(secret)), key=len, reverse=True)
    for form in forms:
        text = text.replace(form, PARTIAL)
    return text


class Masker(object):
    def __init__(self, secrets):
        texts = [s for s in (_text(v) for v in secrets) if s]
        self.secrets = frozenset(form for s in texts for form in (wire_forms(s) if len(s) >= 4 else [s]))
        self.lengths = sorted(set(len(s) for s in self.secrets), reverse=True)
        self.shortest = self.lengths[-1] if self.lengths else 0
        self._cache = {}

    def text(self, value):
        if not self.secrets or len(value) < self.shortest:
            return value
        if value in self.secrets:
            return EXACT
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        out, i, start, n = [], 0, 0, len(value)
        while i <= n - self.shortest:
            for length in self.lengths:
                if i + length <= n and value[i:i + length] in self.secrets:
                    out.append(value[start:i])
                    out.append(PARTIAL)
                    i += length
                    start = i
                    break
            else:
                i += 1
        out.append(value[start:])
        result = "".join(out)
        self._cache[value] = result
        return result

    def mask(self, value):
        """A copy of ``value`` with every secret masked; sequences become lists (as JSON has them).

        Unlike AnsibleModule, dictionary keys equal to a secret are masked too."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return dict((self.mask(k), self.mask(v)) for k, v in value.items())
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.mask(v) for v in value]
        return value


def _text(value):
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None
