"""Pure parts of the mail path (preflight, verify): diagnosis mapping, remedies, TLS mode, AUTH
mechanism and login name, retry decisions, port-80 probe targets, the verification message."""
import socket
import ssl
import time

import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils import _smtp
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import MailError
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._fields import FIELDS_BY_NAME, to_store
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._mailpath import (
    TOKEN_HEADER,
    _probe_targets,
    backoff,
    build_message,
    should_retry,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp import (
    REMEDIES,
    choose_mechanism,
    classify_tls_error,
    login_name,
    resolve_settings,
    uses_implicit_tls,
)

# The codes the issue names; their spelling is a contract with playbooks that branch on them.
CODES = ["dns_failure", "port_closed", "port_filtered", "not_smtp", "starttls_not_offered", "tls_mode_mismatch",
         "certificate_untrusted", "certificate_expired", "hostname_mismatch", "revocation_unreachable",
         "tls_version_mismatch", "auth_failed"]


@pytest.mark.parametrize("code", CODES)
def test_every_issue_code_has_a_one_line_remedy(code):
    assert REMEDIES[code].endswith(".") and "\n" not in REMEDIES[code]
    assert _smtp.remedy(code) == REMEDIES[code]


def cert_error(code, message):
    exc = ssl.SSLCertVerificationError(1, message)
    exc.verify_code = code
    exc.verify_message = message
    return exc


@pytest.mark.parametrize("exc,cause", [
    (cert_error(10, "certificate has expired"), "certificate_expired"),
    (cert_error(9, "certificate is not yet valid"), "certificate_expired"),
    (cert_error(62, "Hostname mismatch, certificate is not valid for 'x'."), "hostname_mismatch"),
    (cert_error(64, "IP address mismatch, certificate is not valid for '127.0.0.1'."), "hostname_mismatch"),
    (cert_error(20, "unable to get local issuer certificate"), "certificate_untrusted"),
    (cert_error(19, "self-signed certificate in certificate chain"), "certificate_untrusted"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls_mode_mismatch"),
    (ssl.SSLError(1, "[SSL: RECORD_LAYER_FAILURE] record layer failure"), "tls_mode_mismatch"),
    (ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"), "tls_version_mismatch"),
    (ssl.SSLError(1, "[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol"), "tls_version_mismatch"),
    (ssl.SSLError(1, "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF"), "tls_error"),
])
def test_classify_tls_error(exc, cause):
    assert classify_tls_error(exc) == cause


@pytest.mark.parametrize("port,secure,mode,implicit", [
    (465, True, "auto", True), (587, True, "auto", False), (25, True, "auto", False), (465, False, "auto", False),
    (2525, True, "implicit", True), (465, True, "starttls", False), (2525, False, "implicit", False),
])
def test_tls_mode_follows_the_port_like_orchestrator(port, secure, mode, implicit):
    assert uses_implicit_tls({"smtp_port": port, "secure": secure}, mode) is implicit


@pytest.mark.parametrize("advertised,mechanism", [
    ("PLAIN LOGIN", "PLAIN"),
    ("LOGIN PLAIN CRAM-MD5", "PLAIN"),
    ("login", "LOGIN"),
    (" CRAM-MD5 LOGIN", "LOGIN"),
    ("CRAM-MD5", "CRAM-MD5"),
    ("NTLM GSSAPI", None),
    ("", None),
    (None, None),
])
def test_auth_mechanism_is_plain_then_login(advertised, mechanism):
    assert choose_mechanism(advertised) == mechanism


def test_login_name_carries_the_domain_as_domain_backslash_user():
    assert login_name({"smtp_username": "u", "smtp_domain": "CORP"}) == "CORP\\u"
    assert login_name({"smtp_username": "CORP\\u", "smtp_domain": "CORP"}) == "CORP\\u"
    assert login_name({"smtp_username": "u@example.com"}) == "u@example.com"
    assert login_name({"smtp_username": "u@example.com", "smtp_domain": None}) == "u@example.com"


@pytest.mark.parametrize("cause,attempts,retries,retry", [
    ("transient_failure", 1, 2, True),
    ("transient_failure", 2, 2, True),
    ("transient_failure", 3, 2, False),
    ("transient_failure", 1, 0, False),
    ("auth_failed", 1, 5, False),
    ("recipient_refused", 1, 5, False),
    ("sender_refused", 1, 5, False),
    ("message_refused", 1, 5, False),
    ("port_filtered", 1, 5, False),
    ("certificate_untrusted", 1, 5, False),
    ("plaintext_auth_refused", 1, 5, False),
    ("smtp_error", 1, 5, False),
])
def test_retry_decisions(cause, attempts, retries, retry):
    assert should_retry(cause, attempts, retries) is retry


def test_backoff_doubles():
    assert [backoff(0.5, n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_probe_targets_from_certificate_and_extra_hosts():
    tls = {"crl_urls": ["http://crl.example.com/ca.crl", "http://127.0.0.1:8080/x.crl"],
           "ocsp_urls": ["http://ocsp.example.com", "http://crl.example.com/other"]}
    assert _probe_targets(tls, ["proxy.example.com", "10.0.0.1:8081", "[::1]:8082"]) == [
        ("crl.example.com", 80), ("127.0.0.1", 8080), ("ocsp.example.com", 80), ("proxy.example.com", 80),
        ("10.0.0.1", 8081), ("::1", 8082)]
    assert _probe_targets(None, []) == []


def test_verification_message():
    settings = {"from_address": "o@example.com", "from_display_name": "Orchestrator System Notifications",
                "smtp_host": "smtp.example.com", "smtp_port": 587}
    msg = build_message(settings, ["a@example.com", "b@example.com"], None, None, "organization finance", "tok123")
    assert msg["From"] == "Orchestrator System Notifications <o@example.com>"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg[TOKEN_HEADER] == "tok123"
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.com>")
    assert "organization finance" in msg["Subject"] and "UTC" in msg["Subject"]
    assert msg["Date"]
    body = msg.get_content()
    assert "tok123" in body and "organization finance" in body and "smtp.example.com:587" in body


def test_verification_message_quotes_a_display_name_that_needs_it_and_keeps_given_text():
    settings = {"from_address": "o@example.com", "from_display_name": "Orchestrator, Finance",
                "smtp_host": "h", "smtp_port": 25}
    msg = build_message(settings, ["a@example.com"], "My subject", "My body", "host", "t")
    assert msg["From"] == '"Orchestrator, Finance" <o@example.com>'
    assert msg["Subject"] == "My subject"
    assert msg.get_content() == "My body\n"


def test_resolve_fails_as_dns_failure():
    with pytest.raises(MailError) as info:
        _smtp.resolve("no-such-host.invalid", 25, timeout=2)
    assert info.value.cause == "dns_failure"


def test_a_resolver_that_hangs_costs_one_timeout(monkeypatch):
    def hanging(*_args, **_kwargs):
        time.sleep(3)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(_smtp.socket, "getaddrinfo", hanging)
    started = time.monotonic()
    with pytest.raises(MailError) as info:
        _smtp.resolve("smtp.example.com", 587, timeout=0.3)
    assert info.value.cause == "dns_failure" and "within 0.3s" in info.value.message
    assert time.monotonic() - started < 1.5


def test_explicit_settings_default_to_587_and_secure():
    settings, label = resolve_settings({"smtp_host": "smtp.example.com"})
    assert settings == {"smtp_host": "smtp.example.com", "smtp_port": 587, "secure": True}
    assert label == "host"


def test_a_store_without_passwords_needs_an_explicit_one(monkeypatch):
    class Session(object):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, scopes):
            stored = dict((FIELDS_BY_NAME[name].key, to_store(name, value)) for name, value in (
                ("smtp_host", "smtp.example.com"), ("smtp_username", "u"), ("smtp_password", "********")))
            return dict((scope, stored) for scope in scopes)

    class Store(object):
        name = "identity"
        password_readable = False

        def session(self, write=False):
            return Session()

        def close(self):
            pass

    monkeypatch.setattr(_smtp, "open_store", lambda params: Store())
    with pytest.raises(MailError) as info:
        resolve_settings({"store_type": "identity"})
    assert info.value.cause == "password_required" and "smtp_password" in info.value.message
    settings, _label = resolve_settings({"store_type": "identity", "smtp_password": "given"})
    assert settings["smtp_password"] == "given"
    settings, _label = resolve_settings({"store_type": "identity"}, need_password=False)
    assert settings["smtp_username"] == "u"
