# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of a declared email configuration (standard library only).

``validate_config`` checks every rule of ``schemas/email-settings.schema.json`` plus the rules a
JSON Schema cannot express (from address equal to the Gmail username, exact IP literal parsing,
a masked value written back), collects *all* errors, and never raises on any input: whatever the
YAML holds, the result is a list of ``{path, message}`` errors, a list of warnings and, when there
are no errors, the normalized configuration that the engine applies.

Messages name the field path and the rule; they never contain a secret's value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import math
import re

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import (
    DEFAULTS,
    FIELD_NAMES,
    FIELDS_BY_NAME,
    MASK,
    REQUIRED,
    SECRET_FIELDS,
    VENDOR_MAILER_SETTINGS,
    is_gmail,
    is_vendor_mailer,
)

TOP_LEVEL_KEYS = ("host", "organizations")
HOST_KEYS = FIELD_NAMES + ("gmail_send_as", "vendor_default_mailer")
ORG_KEYS = FIELD_NAMES + ("state", "partition_id", "gmail_send_as", "vendor_default_mailer")
# The vendor CLI ("uip admin smtp") accepts a connection timeout of 1 to 300000 ms.
MAX_TIMEOUT_MS = 300000
ABSENT_ORG_KEYS = ("state", "partition_id")
STATES = ("present", "absent")

MAX_DISPLAY_NAME = 256
MAX_STRING = 1024
MAX_ORG_NAME = 256

HOSTNAME_PATTERN = (
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$"
)
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
NO_LINE_BREAK_PATTERN = r"^[^\r\n]*$"

_HOSTNAME_RE = re.compile(HOSTNAME_PATTERN)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_GUID_RE = re.compile(GUID_PATTERN)
APP_PASSWORD_RE = re.compile(r"[A-Za-z]{4}(?: ?[A-Za-z]{4}){3}")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_IPV4_CHARS_RE = re.compile(r"^[0-9.]+$")


class _Collector(object):
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, path, message):
        self.errors.append({"path": path, "message": message})

    def warn(self, path, message):
        self.warnings.append("%s: %s" % (path, message))


def _join(path, key):
    return "%s.%s" % (path, key) if path else str(key)


def _type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a %s" % type(value).__name__


def _unknown_key(col, path, key, allowed, where):
    shown = key if isinstance(key, str) else repr(key)
    message = "unknown key '%s' %s" % (shown, where)
    if isinstance(key, str):
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if not close:
            close = [a for a in allowed if a.lower() == key.lower().replace("-", "_")]
        if close:
            message += "; did you mean '%s'?" % close[0]
    message += " (allowed: %s)" % ", ".join(allowed)
    col.error(_join(path, shown), message)


def valid_hostname(value):
    """True for a DNS host name or an IPv4/IPv6 literal (no scheme, no port, no brackets)."""
    if not isinstance(value, str) or not value:
        return False
    # Only an IPv6 literal has a colon and only an IPv4 literal is all digits and dots: other
    # values skip ipaddress (whose ValueError costs more than the rest of the check).
    ip_like = ":" in value or _IPV4_CHARS_RE.match(value) is not None
    if ip_like:
        try:
            ipaddress.ip_address(value)
            return True
        except ValueError:
            return False  # a broken IPv4 literal, or not an IPv6 address
    return bool(_HOSTNAME_RE.fullmatch(value))


def valid_email(value):
    return isinstance(value, str) and len(value) <= 254 and bool(_EMAIL_RE.fullmatch(value))


def _check_string(col, path, name, value, secret=False):
    """Type and line-break checks shared by every string. Returns True when usable."""
    if not isinstance(value, str):
        col.error(path, "must be a string, got %s" % _type_name(value))
        return False
    if value == "":
        col.error(path, "must not be empty (omit the key instead)")
        return False
    if "\r" in value or "\n" in value:
        col.error(path, "must not contain a line break (CR or LF): it would allow header injection")
        return False
    if len(value) > MAX_STRING and name != "from_display_name":
        col.error(path, "must be at most %d characters" % MAX_STRING)
        return False
    return True


def _check_field(col, path, name, value):
    """Check one settings field on its own; returns the value to keep, or None on error."""
    field = FIELDS_BY_NAME[name]
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            col.error(path, "must be an integer, got %s" % _type_name(value))
            return None
        if name == "smtp_port" and not 1 <= value <= 65535:
            col.error(path, "must be a port number from 1 to 65535, got %d" % value)
            return None
        if name == "timeout_ms" and not 1 <= value <= MAX_TIMEOUT_MS:
            col.error(path, "must be from 1 to %d milliseconds (5 minutes), got %d" % (MAX_TIMEOUT_MS, value))
            return None
        return value
    if field.kind == "bool":
        if not isinstance(value, bool):
            col.error(path, "must be true or false, got %s" % _type_name(value))
            return None
        return value
    if not _check_string(col, path, name, value, secret=field.secret):
        return None
    if name == "smtp_host":
        if _SCHEME_RE.match(value):
            col.error(path, "must be a host name or IP address without a scheme such as 'smtp://'")
            return None
        if not valid_hostname(value):
            hint = ""
            if value.count(":") == 1 and value.rsplit(":", 1)[1].isdigit():
                hint = "; give the port in smtp_port, not in the host"
            elif value.startswith("["):
                hint = "; write an IPv6 address without brackets"
            col.error(path, "'%s' is not a valid host name or IPv4/IPv6 address%s" % (value, hint))
            return None
    elif name == "from_address":
        if not valid_email(value):
            col.error(path, "'%s' is not a valid email address (expected local-part@domain, "
                            "without a display name)" % value)
            return None
    elif name == "from_display_name":
        if len(value) > MAX_DISPLAY_NAME:
            col.error(path, "must be at most %d characters, got %d" % (MAX_DISPLAY_NAME, len(value)))
            return None
    elif name == "smtp_password":
        if value == MASK or (len(value) >= 4 and set(value) == set("*")):
            col.error(path, "looks like a masked value ('%s'); give the real password (from Ansible "
                            "Vault), never a mask read back from a store" % MASK)
            return None
    return value


def _check_send_as(col, path, value):
    if not isinstance(value, list):
        col.error(path, "must be a list of email addresses, got %s" % _type_name(value))
        return []
    good = []
    for i, item in enumerate(value):
        ipath = "%s[%d]" % (path, i)
        if not isinstance(item, str) or not valid_email(item):
            col.error(ipath, "must be a valid email address")
        else:
            good.append(item)
    return good


def _check_vendor_mailer(col, path, decl):
    """A scope that asks for the vendor's default mailer: nothing but state and partition_id beside it.
    Returns its normalized settings, or None when the scope does not ask for it."""
    flag = decl.get("vendor_default_mailer")
    if "vendor_default_mailer" not in decl or flag is False:
        return None
    if flag is not True:
        col.error(_join(path, "vendor_default_mailer"), "must be true or false, got %s" % _type_name(flag))
        return {}
    for key in decl:
        if key not in ("state", "partition_id", "vendor_default_mailer"):
            col.error(_join(path, key) if isinstance(key, str) else path,
                      "is not allowed with vendor_default_mailer: true (the vendor's default mailer "
                      "has no settings of its own)")
    return dict(VENDOR_MAILER_SETTINGS)


def _check_scope(col, path, decl, allowed_keys, is_org):
    """Validate one present scope. Returns normalized {'settings', 'partition_id'} or None."""
    vendor = _check_vendor_mailer(col, path, decl)
    if vendor is not None:
        partition_id = None
        if "partition_id" in decl and is_org:
            partition_id = _check_partition_id(col, _join(path, "partition_id"), decl["partition_id"])
        elif "partition_id" in decl:
            _unknown_key(col, path, "partition_id", allowed_keys, "in host")
        return {"settings": vendor, "partition_id": partition_id}
    settings = {}
    send_as = []
    partition_id = None
    for key in decl:
        kpath = _join(path, key)
        if key not in allowed_keys:
            _unknown_key(col, path, key, allowed_keys, "in %s" % ("an organization" if is_org else "host"))
            continue
        value = decl[key]
        if key == "state":
            continue
        if key == "partition_id":
            partition_id = _check_partition_id(col, kpath, value)
            continue
        if key == "gmail_send_as":
            send_as = _check_send_as(col, kpath, value)
            continue
        if key == "vendor_default_mailer":
            continue  # false: an ordinary scope
        if value is None:
            col.error(kpath, "must not be null (omit the key instead)")
            continue
        checked = _check_field(col, kpath, key, value)
        if checked is not None:
            settings[key] = checked

    for name in REQUIRED:
        if name not in decl:
            col.error(_join(path, name), "is required")
    for name, default in DEFAULTS.items():
        if name not in decl:
            settings[name] = default

    has_user = "smtp_username" in decl
    has_password = "smtp_password" in decl
    if has_user and not has_password:
        col.error(_join(path, "smtp_password"),
                  "is required when smtp_username is set (give both, or neither for anonymous)")
    if has_password and not has_user:
        col.error(_join(path, "smtp_username"),
                  "is required when smtp_password is set (give both, or neither for anonymous)")
    if "smtp_domain" in decl and not has_user:
        col.error(_join(path, "smtp_domain"), "is only allowed together with smtp_username")
    if settings.get("use_default_credentials") is True and has_user:
        col.error(_join(path, "use_default_credentials"),
                  "must be false when smtp_username is set: with default credentials the server ignores "
                  "smtp_username and smtp_password")

    port = settings.get("smtp_port")
    secure = settings.get("secure")
    if secure is False and port == 465:
        col.error(_join(path, "secure"),
                  "must be true with smtp_port 465: port 465 is TLS from the first byte (implicit TLS)")
    if secure is True and port == 25:
        col.warn(_join(path, "smtp_port"),
                 "port 25 with secure: true needs a relay that offers STARTTLS on port 25; "
                 "most servers use 587 for STARTTLS")

    host = settings.get("smtp_host")
    if is_vendor_mailer(settings):
        col.warn(_join(path, "smtp_host"),
                 "'%s' is how the server stores the vendor's default mailer; declare vendor_default_mailer: "
                 "true to ask for it" % host)
    if is_gmail(host):
        if secure is not True:
            col.error(_join(path, "secure"), "must be true for Gmail (%s)" % host)
        if port not in (None, 587, 465):
            col.error(_join(path, "smtp_port"), "must be 587 (STARTTLS) or 465 (implicit TLS) for Gmail")
        if not has_user:
            col.error(_join(path, "smtp_username"), "is required for Gmail: the account that sends the mail")
        user = settings.get("smtp_username")
        sender = settings.get("from_address")
        if user and sender:
            allowed = [user.lower()] + [a.lower() for a in send_as]
            if sender.lower() not in allowed:
                col.error(_join(path, "from_address"),
                          "must be the same as smtp_username for Gmail ('%s'), or a send-as alias "
                          "of that account listed in gmail_send_as" % user)
        password = settings.get("smtp_password")
        if isinstance(password, str) and "{{" not in password and not APP_PASSWORD_RE.fullmatch(password):
            col.warn(_join(path, "smtp_password"),
                     "does not look like a Google App Password (16 letters, spaces allowed): plain account "
                     "passwords stopped working when Google ended 'less secure apps' (2022 for personal "
                     "accounts, 2024 for Workspace); create an App Password (needs 2-Step Verification)")
    elif send_as:
        col.warn(_join(path, "gmail_send_as"), "is only used for Gmail hosts; ignored")
    return {"settings": settings, "partition_id": partition_id}


def _check_partition_id(col, path, value):
    if not isinstance(value, str) or not _GUID_RE.fullmatch(value):
        col.error(path, "must be a GUID such as 6f1c2a4e-0b7d-4c1e-9a53-2f9d8e7c6b5a")
        return None
    return value.lower()


def _check_org(col, path, decl):
    if decl is None:
        decl = {}
    if not isinstance(decl, dict):
        col.error(path, "must be a mapping of settings (or {state: absent}), got %s" % _type_name(decl))
        return None
    state = decl.get("state", "present")
    if state not in STATES:
        col.error(_join(path, "state"), "must be 'present' or 'absent', got %r" % (state,))
        return None
    if state == "absent":
        extra = [k for k in decl if k not in ABSENT_ORG_KEYS]
        for key in extra:
            col.error(_join(path, key) if isinstance(key, str) else path,
                      "is not allowed with state: absent (an absent organization uses the host settings; "
                      "only partition_id may be given)")
        partition_id = None
        if "partition_id" in decl:
            partition_id = _check_partition_id(col, _join(path, "partition_id"), decl["partition_id"])
        return {"state": "absent", "settings": None, "partition_id": partition_id}
    scope = _check_scope(col, path, decl, ORG_KEYS, True)
    scope["state"] = "present"
    return scope


# A declared file of 100,000 organizations has about a million values; more is an alias bomb.
MAX_VALUES = 1000000
# Control characters (line breaks have their own rule in the fields that forbid them).
_CONTROL_RE = re.compile(u"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
_NOT_PLAIN = {"date": "a date", "datetime": "a date and time", "bytes": "binary data (!!binary)",
              "set": "a set (!!set)", "tuple": "a list", "float": None}


class _TooManyValues(Exception):
    pass


def check_plain_data(data, max_values=MAX_VALUES):
    """Errors of data that is not plain YAML/JSON text: keys that are not strings (YAML reads
    ``no``, ``~``, ``123`` and ``2024-01-01`` as other types), dates, binary data, sets, control
    characters, and more than ``max_values`` values (an alias bomb). Secrets are never quoted."""
    errors = []
    count = [0]

    def walk(value, path, secret):
        count[0] += 1
        if count[0] > max_values:
            raise _TooManyValues()
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    errors.append({"path": _join(path, str(key)), "message": (
                        "is %s, not a string: YAML reads unquoted no, yes, ~, numbers and dates as other "
                        "types; quote it" % _type_name(key))})
                    continue
                walk(item, _join(path, key), secret or key in SECRET_FIELDS)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, "%s[%d]" % (path, index), secret)
        elif isinstance(value, str):
            if _CONTROL_RE.search(value):
                errors.append({"path": path, "message": "must not contain control characters (NUL, tab, escape...)"})
        elif value is None or isinstance(value, (bool, int, float)):
            return
        else:
            what = _NOT_PLAIN.get(type(value).__name__) or "a %s" % type(value).__name__
            errors.append({"path": path, "message": "must be a string, a number or true/false, got %s%s" % (
                what, "; quote a date to keep it as text" if "date" in what else "")})
    try:
        walk(data, "", False)
    except _TooManyValues:
        return [{"path": "", "message": "the configuration expands to more than %d values (YAML aliases that "
                                        "repeat each other?); refused" % max_values}]
    return errors


DUPLICATE_KEY = "appears twice in the same mapping: YAML keeps the last one silently (a merge accident?); keep one"


class DuplicateKeyError(ValueError):
    """A declared file gives a key twice in one mapping; ``errors`` as the validator reports them."""

    def __init__(self, path, line=None):
        where = " (line %d)" % line if line else ""
        super(DuplicateKeyError, self).__init__("%s: %s%s" % (path, DUPLICATE_KEY, where))
        self.errors = [{"path": path, "message": DUPLICATE_KEY + where}]


def duplicate_checking_loader(base):
    """A subclass of the PyYAML loader ``base`` that raises DuplicateKeyError, with the key's path,
    for a key given twice in one mapping (PyYAML keeps the last one); ``!vault`` values are read as
    opaque text."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # pylint: disable=import-outside-toplevel

    class Loader(base):  # pylint: disable=too-many-ancestors
        def construct_document(self, node):
            self._check(node, "", set())
            return super(Loader, self).construct_document(node)

        def _check(self, node, path, visited):
            if id(node) in visited:  # an alias: checked once (and never expanded here)
                return
            visited.add(id(node))
            if isinstance(node, MappingNode):
                keys = set()
                for key_node, value_node in node.value:
                    if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                        self._check(value_node, path, visited)
                        continue
                    key = self.construct_object(key_node)
                    child = _join(path, str(key))
                    try:
                        duplicate = key in keys
                        keys.add(key)
                    except TypeError:
                        continue
                    if duplicate:
                        raise DuplicateKeyError(child, key_node.start_mark.line + 1)
                    self._check(value_node, child, visited)
            elif isinstance(node, SequenceNode):
                for index, item in enumerate(node.value):
                    self._check(item, "%s[%d]" % (path, index), visited)

    Loader.add_constructor("!vault", lambda loader, node: "(vault)")
    return Loader


def load_declared_text(text):
    """A declared configuration from JSON or YAML text; a key twice in one mapping is an error
    (DuplicateKeyError). YAML needs PyYAML (ImportError without it)."""
    import json  # pylint: disable=import-outside-toplevel

    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                raise DuplicateKeyError(key)
            out[key] = value
        return out
    try:
        return json.loads(text, object_pairs_hook=pairs)
    except DuplicateKeyError:
        raise
    except ValueError:
        pass
    import yaml  # pylint: disable=import-outside-toplevel
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=duplicate_checking_loader(base))  # nosec B506 - a safe loader


def _check_unique_partitions(col, organizations):
    seen = {}
    for name, org in organizations.items():
        partition = org.get("partition_id")
        if partition is None:
            continue
        if partition in seen:
            col.error("organizations.%s.partition_id" % name,
                      "is the same partition as organizations.%s (GUIDs compare without case): two "
                      "organizations would overwrite each other's settings" % seen[partition])
        else:
            seen[partition] = name


MAX_RECIPIENTS = 100
MAX_SUBJECT = 998  # one header line (RFC 5322)
MAX_BODY = 1024 * 1024
MAX_MAIL_TIMEOUT = 300
MAX_RETRIES = 10
MAX_RETRY_DELAY = 300
_BODY_CONTROL_RE = re.compile(u"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAIL_SETTING_OPTIONS = ("smtp_host", "smtp_port", "secure", "smtp_domain", "smtp_username", "smtp_password",
                        "from_address", "from_display_name")


def _check_number(col, path, value, low, high, exclusive_low=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        col.error(path, "must be a number, got %s" % _type_name(value))
    elif isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        col.error(path, "must be a finite number, got %s" % value)
    elif (value <= low if exclusive_low else value < low) or value > high:
        col.error(path, "must be %s %s and at most %s, got %s" % (
            "more than" if exclusive_low else "at least", low, high, value))


def check_mail_options(params):
    """Errors of the options of ``preflight`` and ``verify``, each ``{"path", "message"}``, by the
    rules of the declared fields (setting options) and of a message (recipients, subject, body).
    Never raises; never quotes a password."""
    col = _Collector()
    for name in MAIL_SETTING_OPTIONS:
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, str) and _CONTROL_RE.search(value):
            col.error(name, "must not contain control characters (NUL, tab, escape...)")
        else:
            _check_field(col, name, name, value)
    organization = params.get("organization")
    if organization is not None:
        if not isinstance(organization, str) or not organization.strip():
            col.error("organization", "must be a non-empty organization name")
        elif _CONTROL_RE.search(organization) or "\r" in organization or "\n" in organization:
            col.error("organization", "must be one line without control characters")
    if params.get("partition_id") is not None:
        _check_partition_id(col, "partition_id", params["partition_id"])
    if "timeout" in params and params["timeout"] is not None:
        _check_number(col, "timeout", params["timeout"], 0, MAX_MAIL_TIMEOUT, exclusive_low=True)
    if "retries" in params and params["retries"] is not None:
        _check_number(col, "retries", params["retries"], 0, MAX_RETRIES)
    if "retry_delay" in params and params["retry_delay"] is not None:
        _check_number(col, "retry_delay", params["retry_delay"], 0, MAX_RETRY_DELAY)
    if "to" in params:
        to = params["to"]
        if not isinstance(to, list) or not to:
            col.error("to", "must be a list of one or more email addresses")
        elif len(to) > MAX_RECIPIENTS:
            col.error("to", "must have at most %d addresses, got %d" % (MAX_RECIPIENTS, len(to)))
        else:
            for index, address in enumerate(to):
                if not valid_email(address):
                    col.error("to[%d]" % index, "%s is not an email address (local-part@domain, without a "
                              "display name, one address per item)" % _shown(address))
    subject = params.get("subject")
    if subject is not None:
        if not isinstance(subject, str):
            col.error("subject", "must be a string, got %s" % _type_name(subject))
        elif "\r" in subject or "\n" in subject:
            col.error("subject", "must not contain a line break (CR or LF): it would allow header injection")
        elif _CONTROL_RE.search(subject):
            col.error("subject", "must not contain control characters (NUL, tab, escape...)")
        elif len(subject) > MAX_SUBJECT:
            col.error("subject", "must be at most %d characters, got %d" % (MAX_SUBJECT, len(subject)))
    body = params.get("body")
    if body is not None:
        if not isinstance(body, str):
            col.error("body", "must be a string, got %s" % _type_name(body))
        elif _BODY_CONTROL_RE.search(body):
            col.error("body", "must not contain control characters other than tab and line breaks")
        elif len(body) > MAX_BODY:
            col.error("body", "must be at most %d characters, got %d" % (MAX_BODY, len(body)))
    for index, item in enumerate(params.get("http_probe_hosts") or []):
        path = "http_probe_hosts[%d]" % index
        host, sep, port = item.rpartition(":") if isinstance(item, str) else ("", "", "")
        if not isinstance(item, str) or not item:
            col.error(path, "must be a host name or host:port")
            continue
        if not sep or ":" in host and not host.startswith("["):
            host, port = item, None  # no port, or an IPv6 address without brackets
        host = host.strip("[]") if host.startswith("[") else host
        if not valid_hostname(host):
            col.error(path, "%s is not a host name, an IP address or host:port" % _shown(item))
        elif port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
            col.error(path, "%s has no valid port (1 to 65535)" % _shown(item))
    return col.errors


def _shown(value):
    """``value`` quoted for an error message, cut at 100 characters, control characters escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("unicode_escape").decode("ascii") if _CONTROL_RE.search(text) or "\n" in text \
        or "\r" in text else text
    return "'%s'" % (text[:100] + "..." if len(text) > 100 else text)


def validate_config(config):
    """Validate a whole declared configuration.

    Returns ``(errors, warnings, normalized)``; ``normalized`` is None when there are errors,
    else ``{"host": {"settings", "partition_id"} or None, "organizations": {name: {...}}}``.
    Never raises.
    """
    col = _Collector()
    normalized = {"host": None, "organizations": {}}
    plain = check_plain_data(config)
    if plain:
        return plain, [], None
    if not isinstance(config, dict):
        col.error("", "the configuration must be a mapping with 'host' and/or 'organizations', got %s"
                  % _type_name(config))
        return col.errors, col.warnings, None
    if not config:
        col.error("", "the configuration is empty: declare 'host' and/or 'organizations'")
    for key in config:
        if key not in TOP_LEVEL_KEYS:
            _unknown_key(col, "", key, TOP_LEVEL_KEYS, "at the top level")
    if "host" in config:
        host = config["host"]
        if not isinstance(host, dict):
            col.error("host", "must be a mapping of settings, got %s" % _type_name(host))
        else:
            normalized["host"] = _check_scope(col, "host", host, HOST_KEYS, False)
    if "organizations" in config:
        orgs = config["organizations"]
        if orgs is None:
            orgs = {}
        if not isinstance(orgs, dict):
            col.error("organizations", "must be a mapping of organization name to settings, got %s"
                      % _type_name(orgs))
        else:
            for name in orgs:
                path = "organizations.%s" % (name,)
                if not isinstance(name, str) or not name.strip():
                    col.error(path, "organization names must be non-empty strings")
                    continue
                if "\r" in name or "\n" in name or len(name) > MAX_ORG_NAME:
                    col.error(path, "organization names must be one line of at most %d characters"
                              % MAX_ORG_NAME)
                    continue
                checked = _check_org(col, path, orgs[name])
                if checked is not None:
                    normalized["organizations"][name] = checked
    _check_unique_partitions(col, normalized["organizations"])
    if col.errors:
        return col.errors, col.warnings, None
    return col.errors, col.warnings, normalized


def scope_config(settings, organization=None, state="present", partition_id=None):
    """Build a declared configuration with one scope from flat module options."""
    decl = dict((k, v) for k, v in settings.items() if v is not None)
    if organization is None:
        return {"host": decl}
    if state == "absent":
        decl = {}
    decl["state"] = state
    if partition_id is not None:
        decl["partition_id"] = partition_id
    return {"organizations": {organization: decl}}


def collect_secrets(config):
    """Every secret value in a raw configuration, so that modules can register them as no_log."""
    found = []
    if not isinstance(config, dict):
        return found
    scopes = []
    if isinstance(config.get("host"), dict):
        scopes.append(config["host"])
    orgs = config.get("organizations")
    if isinstance(orgs, dict):
        scopes.extend(v for v in orgs.values() if isinstance(v, dict))
    for scope in scopes:
        for name in ("smtp_password",):
            value = scope.get(name)
            if isinstance(value, str) and value:
                found.append(value)
    return found
