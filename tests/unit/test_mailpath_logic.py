"""Pure parts of the mail path: cause codes, remedies, TLS mode, login name, probe targets, message."""
import ssl

import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._mailpath import (
    TOKEN_HEADER,
    _probe_targets,
    build_message,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp import (
    REMEDIES,
    classify_tls_error,
    login_name,
    uses_implicit_tls,
)

CODES = ["dns_failure", "port_closed", "port_filtered", "not_smtp", "starttls_not_offered", "tls_mode_mismatch",
         "certificate_untrusted", "certificate_expired", "hostname_mismatch", "revocation_unreachable",
         "tls_version_mismatch", "auth_failed"]


def test_every_issue_code_has_a_remedy():
    for code in CODES:
        assert REMEDIES[code].endswith(".")


def cert_error(code, message):
    exc = ssl.SSLCertVerificationError(1, message)
    exc.verify_code = code
    exc.verify_message = message
    return exc


@pytest.mark.parametrize("exc,cause", [
    (cert_error(10, "certificate has expired"), "certificate_expired"),
    (cert_error(62, "Hostname mismatch, certificate is not valid for 'x'."), "hostname_mismatch"),
    (cert_error(64, "IP address mismatch, certificate is not valid for '127.0.0.1'."), "hostname_mismatch"),
    (cert_error(20, "unable to get local issuer certificate"), "certificate_untrusted"),
    (cert_error(19, "self-signed certificate in certificate chain"), "certificate_untrusted"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "tls_mode_mismatch"),
    (ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"), "tls_version_mismatch"),
    (ssl.SSLError(1, "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF"), "tls_error"),
])
def test_classify_tls_error(exc, cause):
    assert classify_tls_error(exc) == cause


@pytest.mark.parametrize("port,secure,mode,implicit", [
    (465, True, "auto", True), (587, True, "auto", False), (465, False, "auto", False),
    (2525, True, "implicit", True), (465, True, "starttls", False),
])
def test_tls_mode(port, secure, mode, implicit):
    assert uses_implicit_tls({"smtp_port": port, "secure": secure}, mode) is implicit


def test_login_name_carries_the_domain():
    assert login_name({"smtp_username": "u", "smtp_domain": "CORP"}) == "CORP\\u"
    assert login_name({"smtp_username": "CORP\\u", "smtp_domain": "CORP"}) == "CORP\\u"
    assert login_name({"smtp_username": "u@example.com"}) == "u@example.com"


def test_probe_targets_from_certificate_and_extra_hosts():
    tls = {"crl_urls": ["http://crl.example.com/ca.crl", "http://127.0.0.1:8080/x.crl"],
           "ocsp_urls": ["http://ocsp.example.com", "http://crl.example.com/other"]}
    assert _probe_targets(tls, ["proxy.example.com", "10.0.0.1:8081"]) == [
        ("crl.example.com", 80), ("127.0.0.1", 8080), ("ocsp.example.com", 80), ("proxy.example.com", 80),
        ("10.0.0.1", 8081)]
    assert _probe_targets(None, []) == []


def test_verification_message():
    settings = {"from_address": "o@example.com", "from_display_name": "Orchestrator System Notifications",
                "smtp_host": "smtp.example.com", "smtp_port": 587}
    msg = build_message(settings, ["a@example.com", "b@example.com"], None, None, "organization finance", "tok123")
    assert msg["From"] == "Orchestrator System Notifications <o@example.com>"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg[TOKEN_HEADER] == "tok123"
    assert msg["Message-ID"].endswith("@example.com>")
    assert "organization finance" in msg["Subject"] and msg["Date"]
    assert "tok123" in msg.get_content() and "organization finance" in msg.get_content()
