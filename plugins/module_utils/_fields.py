# -*- coding: utf-8 -*-
# Copyright: mailops.orchestrator_email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The email settings fields: one table that drives the schema, validation, storage and docs.

Each field has the name users write in the declared config, the vendor's setting key, a kind
(``str``, ``int`` or ``bool``) and the text editors show. Stores hold every value as a string,
as the vendor does (``"587"``, ``"true"``); ``to_store``/``from_store`` convert.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MASK = "********"
MASK_CHANGED = "******** (changed)"


class Field(object):
    __slots__ = ("name", "key", "kind", "secret", "title", "description", "managed_when_omitted")

    def __init__(self, name, key, kind, title, description, secret=False, managed_when_omitted=True):
        self.name = name
        self.key = key
        self.kind = kind
        self.secret = secret
        self.title = title
        self.description = description
        # When a present scope omits this field, the stored value is cleared (True) or left
        # untouched (False; only for keys that older Orchestrator versions do not have).
        self.managed_when_omitted = managed_when_omitted


FIELDS = (
    Field("smtp_host", "Email.Smtp.Host", "str", "SMTP Host",
          "The IP address or domain name of the SMTP server, without scheme or port."),
    Field("smtp_port", "Email.Smtp.Port", "int", "SMTP Port",
          "The SMTP port: 587 for STARTTLS, 465 for implicit TLS, 25 for plain relays. Default 587."),
    Field("smtp_domain", "Email.Smtp.Domain", "str", "SMTP Domain",
          "Domain for the username, if the SMTP server requires authentication (NTLM-style "
          "DOMAIN\\user logins). Only allowed together with smtp_username."),
    Field("smtp_username", "Email.Smtp.UserName", "str", "SMTP Username",
          "The login of the SMTP account. Omit it together with smtp_password for anonymous "
          "authentication. For Gmail, the address that sends the mail."),
    Field("smtp_password", "Email.Smtp.Password", "str", "SMTP Password",
          "The password of smtp_username (for Gmail an App Password). Keep it in Ansible Vault; "
          "it is never shown in output, diffs or history.", secret=True),
    Field("secure", "Email.Smtp.EnableSsl", "bool", "Enable secure connection",
          "Use TLS: STARTTLS on any port but 465, implicit TLS on 465. Requires ports 587 (or "
          "465) and 80 (certificate revocation lookups) to be open. Default true."),
    Field("from_address", "Email.Smtp.FromEmail", "str", "Default From Address",
          "The address system emails are sent from. For Gmail it must be smtp_username or a "
          "send-as alias of that account."),
    Field("from_display_name", "Email.Smtp.FromDisplayName", "str", "Default From Display Name",
          "The sender name recipients see, for example 'Orchestrator System Notifications'. At "
          "most 256 characters."),
    Field("use_default_credentials", "Email.Smtp.UseDefaultCredentials", "bool", "Use default credentials",
          "Log in with the server's own default credentials. When true, the server ignores "
          "smtp_username and smtp_password (the vendor's 'no credentials' setting, and what its "
          "default mailer leaves behind), so it must be false with a username. Default false; "
          "written on every apply."),
    Field("timeout_ms", "Email.Smtp.ConnectionTimeout", "int", "Connection timeout (ms)",
          "SMTP connection timeout in milliseconds (Orchestrator 2023.10 and later). When "
          "omitted the stored value is left as it is.", managed_when_omitted=False),
)

FIELDS_BY_NAME = dict((f.name, f) for f in FIELDS)
FIELDS_BY_KEY = dict((f.key, f) for f in FIELDS)
FIELD_NAMES = tuple(f.name for f in FIELDS)
SECRET_FIELDS = tuple(f.name for f in FIELDS if f.secret)
STORE_KEYS = tuple(f.key for f in FIELDS)

DEFAULTS = {"smtp_port": 587, "secure": True, "use_default_credentials": False}
REQUIRED = ("smtp_host", "from_address")

# Keys of a scope declaration that are not settings.
SCOPE_META = ("state", "partition_id", "gmail_send_as", "vendor_default_mailer")

# "Use default mail settings" (the vendor's hosted mailer), as the vendor's server stores it
# (vendor-api.md). The port is not documented for it; it is sent because every PUT of a scope
# must carry Email.Smtp.Host, .Port and .FromEmail together. Change it here only.
VENDOR_MAILER_HOST = "SendGrid"
VENDOR_MAILER_LABEL = "vendor default mailer"
VENDOR_MAILER_SETTINGS = {"smtp_host": VENDOR_MAILER_HOST, "smtp_port": 587, "secure": True,
                          "from_address": "no-reply@uipath.com", "use_default_credentials": True}
GMAIL_HOSTS = ("smtp.gmail.com", "smtp.googlemail.com")


def to_store(name, value):
    """Python value of field ``name`` -> the string the vendor stores."""
    kind = FIELDS_BY_NAME[name].kind
    if value is None:
        return None
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))
    return str(value)


def from_store(key, value):
    """Stored string of vendor ``key`` -> (field name, Python value). Unknown keys -> (None, None).

    A value that cannot be parsed is returned as the raw string so that it shows as drift
    instead of failing the run.
    """
    field = FIELDS_BY_KEY.get(key)
    if field is None or value is None:
        return (field.name if field else None), None
    if field.kind == "bool":
        low = value.strip().lower()
        if low in ("true", "1", "yes"):
            return field.name, True
        if low in ("false", "0", "no", ""):
            return field.name, False
        return field.name, value
    if field.kind == "int":
        try:
            return field.name, int(value.strip())
        except ValueError:
            return field.name, value
    if value == "":
        return field.name, None
    return field.name, value


def settings_from_store(stored):
    """{vendor key: string} -> {field name: value}, unknown keys dropped, empty values omitted."""
    out = {}
    for key, raw in stored.items():
        name, value = from_store(key, raw)
        if name is not None and value is not None:
            out[name] = value
    return out


def mask_settings(settings, password_known=True):
    """A copy of ``settings`` safe to return: secrets replaced by the mask."""
    out = {}
    for name in FIELD_NAMES:
        if name not in settings:
            continue
        value = settings[name]
        if FIELDS_BY_NAME[name].secret and value is not None:
            value = MASK
        out[name] = value
    return out


def is_vendor_mailer(settings):
    """Whether {field: value} settings are the vendor's default mailer (host ``SendGrid``)."""
    host = settings.get("smtp_host") if isinstance(settings, dict) else None
    return isinstance(host, str) and host.strip().lower() == VENDOR_MAILER_HOST.lower()


def describe_settings(settings):
    """``mask_settings`` plus ``mailer``: what reports and diffs show of a scope."""
    out = mask_settings(settings)
    if out:
        out["mailer"] = VENDOR_MAILER_LABEL if is_vendor_mailer(settings) else "custom"
    return out


def is_gmail(host):
    return isinstance(host, str) and host.strip().rstrip(".").lower() in GMAIL_HOSTS
