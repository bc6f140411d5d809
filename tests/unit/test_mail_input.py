"""The mail path never crashes on input (issue 11): options of preflight and verify are checked
like the declared fields, credentials go out as UTF-8, and a server that echoes what it was sent
never gets a secret into the result. The property tests drive the real verify/preflight code
against a real aiosmtpd server on loopback: whatever the options, the outcome is a result or an
OrchestratorEmailError with a cause, never another exception (which the module reports as
``internal_error``)."""
import base64
import json
import smtplib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    InvalidOptionsError,
    MailError,
    OrchestratorEmailError,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._mailpath import preflight, verify
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._masking import (
    mask_wire,
    wire_forms,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._smtp import SmtpSession, authenticate
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import check_mail_options
from tests.lib.smtp_servers import SmtpServer, closed_port

USER = "mailer@example.com"
UNICODE_PASSWORD = "Pässwörd-Zürich-€-密码-77"


def base_params(port, **extra):
    params = {"smtp_host": "127.0.0.1", "smtp_port": port, "secure": False, "timeout": 2, "validate_certs": True,
              "ca_path": None, "min_tls_version": None, "tls_mode": "auto", "allow_plaintext_auth": True,
              "retries": 0, "retry_delay": 0.0, "via": "smtp", "to": ["ops@example.com"],
              "from_address": "mailer@example.com", "store_type": "sqlite", "check_auth": False,
              "http_probe_hosts": [], "fail_on_error": True}
    params.update(extra)
    return params


def paths(params):
    return [e["path"] for e in check_mail_options(params)]


# -- the options, checked like the declared fields ---------------------------------------------
@pytest.mark.parametrize("option, value, path", [
    ("to", ["not an address"], "to[0]"),
    ("to", ["ops@example.com", "a@b.example\r\nBcc: x@evil.example"], "to[1]"),
    ("to", ["Ops <ops@example.com>"], "to[0]"),
    ("to", ["ops@example.com", "Ünïcode@example.com"], "to[1]"),  # like from_address: no SMTPUTF8
    ("to", [], "to"),
    ("to", ["a%d@example.com" % i for i in range(101)], "to"),
    ("subject", "hello\r\nBcc: x@evil.example", "subject"),
    ("subject", "bell\x07", "subject"),
    ("subject", "x" * 999, "subject"),
    ("body", "nul\x00byte", "body"),
    ("from_address", "not-an-address", "from_address"),
    ("from_display_name", "Ops\nInjected: yes", "from_display_name"),
    ("from_display_name", "esc\x1b[31m", "from_display_name"),
    ("smtp_host", "smtp://relay.example.com", "smtp_host"),
    ("smtp_host", "relay.example.com:587", "smtp_host"),
    ("smtp_port", 0, "smtp_port"),
    ("smtp_port", 70000, "smtp_port"),
    ("smtp_password", "pass\x00word", "smtp_password"),
    ("smtp_password", "********", "smtp_password"),
    ("smtp_username", "user\r\nname", "smtp_username"),
    ("organization", "", "organization"),
    ("organization", "fin\nance", "organization"),
    ("partition_id", "not-a-guid", "partition_id"),
    ("timeout", 0, "timeout"),
    ("timeout", -1.0, "timeout"),
    ("timeout", float("nan"), "timeout"),
    ("timeout", float("inf"), "timeout"),
    ("retries", -1, "retries"),
    ("retries", 11, "retries"),
    ("retry_delay", 301.0, "retry_delay"),
    ("http_probe_hosts", ["crl.example.com:http"], "http_probe_hosts[0]"),
    ("http_probe_hosts", ["crl.example.com:0"], "http_probe_hosts[0]"),
    ("http_probe_hosts", ["http://crl.example.com"], "http_probe_hosts[0]"),
    ("http_probe_hosts", [""], "http_probe_hosts[0]"),
])
def test_a_bad_option_is_an_error_with_its_path(option, value, path):
    assert path in paths(base_params(25, **{option: value}))


@pytest.mark.parametrize("option, value", [
    ("to", ["ops@example.com", "Ops.Team+alerts@sub.example.com"]),
    ("subject", "Prüfung: Orchestrator ✉"),
    ("body", "line one\r\nline two\n\ttabbed"),
    ("from_display_name", "Orchestrator Notifications, Zürich"),
    ("smtp_password", UNICODE_PASSWORD),
    ("http_probe_hosts", ["crl.example.com", "ocsp.example.com:8080", "[::1]:80", "::1", "127.0.0.1:80"]),
    ("timeout", 0.5),
    ("retries", 0),
    ("partition_id", "6F9619FF-8B86-D011-B42D-00C04FC964FF"),
])
def test_a_good_option_passes(option, value):
    assert paths(base_params(25, **{option: value})) == []


def test_errors_never_quote_a_password():
    secret = "S3cret-\x00-Value-Never-Shown"
    errors = check_mail_options(base_params(25, smtp_password=secret))
    assert errors and all("S3cret" not in e["message"] for e in errors)


def test_bad_options_raise_before_any_connection():
    with SmtpServer("plain") as server:
        with pytest.raises(InvalidOptionsError) as info:
            verify(base_params(server.port, to=["ops@example.com", "not an address"]), check_mode=False)
        assert info.value.cause == "invalid_option" and "to[1]" in str(info.value)
        assert "nothing was sent" in str(info.value)
        with pytest.raises(InvalidOptionsError):
            preflight(base_params(server.port, http_probe_hosts=["crl.example.com:http"]))
        assert server.envelopes == [] and server.messages == []


# -- credentials are UTF-8 on the wire ---------------------------------------------------------
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_non_ascii_password_authenticates_as_utf8(mechanism):
    exclude = [m for m in ("PLAIN", "LOGIN") if m != mechanism]
    with SmtpServer("plain", auth=(USER, UNICODE_PASSWORD), exclude_auth=exclude) as server:
        result = verify(base_params(server.port, smtp_username=USER, smtp_password=UNICODE_PASSWORD,
                                    subject="Prüfung ✉", body="Grüße\n"), check_mode=False)
        assert result["sent"] is True and result["auth_mechanism"] == mechanism
        assert server.logins == [(USER, True)]
        assert server.messages[0]["Subject"] == "Prüfung ✉"


def test_cram_md5_with_a_non_ascii_password():
    """CRAM-MD5 over the UTF-8 bytes: checked against the digest computed independently."""
    import hmac

    class FakeClient(object):
        def __init__(self):
            self.sent = []

        def docmd(self, cmd, args=""):
            self.sent.append((cmd, args))
            if cmd == "AUTH":
                return 334, base64.b64encode(b"<1896.697170952@example.com>")
            return 235, b"ok"

    client = FakeClient()
    authenticate(client, "CRAM-MD5", USER, UNICODE_PASSWORD)
    digest = hmac.new(UNICODE_PASSWORD.encode("utf-8"), b"<1896.697170952@example.com>", "md5").hexdigest()
    assert base64.b64decode(client.sent[1][0]) == (USER + " " + digest).encode("utf-8")


def test_a_refused_login_raises_the_servers_reply():
    with SmtpServer("plain", auth=(USER, "right")) as server:
        with pytest.raises(MailError) as info:
            verify(base_params(server.port, smtp_username=USER, smtp_password=UNICODE_PASSWORD), check_mode=False)
        assert info.value.cause == "auth_failed" and "535" in str(info.value)
        assert server.logins == [(USER, False)]


# -- a server that echoes what it was sent ---------------------------------------------------------
def test_wire_forms_cover_url_json_and_base64():
    secret = "a+b/c=d&e f\"ü"
    forms = wire_forms(secret)
    assert "a%2Bb%2Fc%3Dd%26e%20f%22%C3%BC" in forms and "a%2Bb%2Fc%3Dd%26e+f%22%C3%BC" in forms
    assert 'a+b/c=d&e f\\"\\u00fc' in forms and 'a+b/c=d&e f\\"ü' in forms
    assert base64.b64encode(secret.encode("utf-8")).decode() in forms


def independent_forms(secret):
    """The wire forms, computed here rather than by the code under test."""
    from urllib.parse import quote, quote_plus
    return [secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
            base64.b64encode(secret.encode("utf-8")).decode()]


def test_an_echoed_auth_token_is_masked():
    class EchoingClient(object):
        def docmd(self, cmd, args=""):
            return 535, ("5.7.8 rejected %s (password %s, base64 %s)" % (
                args, UNICODE_PASSWORD, base64.b64encode(UNICODE_PASSWORD.encode()).decode())).encode("utf-8")

    session = SmtpSession({"smtp_host": "127.0.0.1", "smtp_port": 25, "smtp_username": USER,
                           "smtp_password": UNICODE_PASSWORD}, 2, None, allow_plaintext_auth=True)
    session.client = EchoingClient()
    session.client.esmtp_features = {"auth": "PLAIN"}
    with pytest.raises(MailError) as info:
        session.login()
    text = str(info.value)
    assert info.value.cause == "auth_failed" and "rejected PLAIN ********" in text
    plain_token = base64.b64encode(("\0%s\0%s" % (USER, UNICODE_PASSWORD)).encode("utf-8")).decode()
    for form in independent_forms(UNICODE_PASSWORD) + [plain_token]:
        assert form not in text


def test_mask_wire_masks_the_longest_form_first():
    secret = "abc+def"
    assert mask_wire("x abc%2Bdef y abc+def", [secret]) == "x ******** y ********"
    assert mask_wire("ab", ["ab"]) == "ab"  # too short to mask without hiding the message


# -- no input reaches internal_error -----------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
ADDRESSISH = st.one_of(TEXT, st.from_regex(r"[a-zA-Z0-9._%+-]{1,20}@[a-z0-9-]{1,10}\.example", fullmatch=True),
                       st.sampled_from(["ops@example.com", "Ünï@example.com", "a@b", "@example.com", "a@@b.c"]))
OPTIONS = st.fixed_dictionaries({}, optional={
    "to": st.lists(ADDRESSISH, max_size=4),
    "subject": TEXT,
    "body": st.text(st.characters(codec="utf-8"), max_size=200),
    "from_address": ADDRESSISH,
    "from_display_name": TEXT,
    "smtp_username": st.one_of(TEXT, st.just(USER)),
    "smtp_password": st.one_of(TEXT, st.just(UNICODE_PASSWORD)),
    "smtp_domain": TEXT,
    "organization": TEXT,
    "partition_id": TEXT,
    "timeout": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(1.0)),
    "retries": st.integers(-5, 20),
    "retry_delay": st.floats(-1, 400, allow_nan=False),
    "http_probe_hosts": st.lists(st.one_of(TEXT, st.sampled_from(["127.0.0.1:%d" % closed_port(), "[::1]:1"])),
                                 max_size=3),
    "secure": st.booleans(),
    "tls_mode": st.sampled_from(["auto", "starttls", "implicit"]),
    "check_auth": st.booleans(),
})


@pytest.fixture(scope="module")
def auth_server():
    with SmtpServer("plain", auth=(USER, UNICODE_PASSWORD)) as server:
        yield server


def bounded(params):
    """Valid waits made short, so that 250 examples stay within seconds; invalid ones kept as drawn."""
    if isinstance(params["timeout"], float) and 0 < params["timeout"] <= 300:
        params["timeout"] = min(params["timeout"], 1.0)
    if 0 <= params["retry_delay"] <= 300:
        params["retry_delay"] = min(params["retry_delay"], 0.01)
    if 0 <= params["retries"] <= 10:
        params["retries"] = min(params["retries"], 1)
    return params


def _run(function, params):
    try:
        result = function(params)
    except OrchestratorEmailError as exc:
        assert exc.cause and exc.cause != "internal_error"
        result = exc.to_result()
    assert isinstance(result, dict)
    text = repr(result)
    if params.get("smtp_password") == UNICODE_PASSWORD:
        for form in independent_forms(UNICODE_PASSWORD):
            assert form not in text
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=OPTIONS, check_mode=st.booleans())
def test_verify_never_raises_anything_but_its_own_errors(auth_server, options, check_mode):
    _run(lambda p: verify(p, check_mode), bounded(base_params(auth_server.port, **options)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=OPTIONS)
def test_preflight_never_raises_anything_but_its_own_errors(auth_server, options):
    _run(preflight, bounded(base_params(auth_server.port, **options)))


def test_the_property_reaches_the_server(auth_server):
    """The properties above are not vacuous: valid options get through to a delivered message."""
    before = len(auth_server.messages)
    params = base_params(auth_server.port, smtp_username=USER, smtp_password=UNICODE_PASSWORD)
    result = _run(lambda p: verify(p, False), params)
    assert result["sent"] is True and len(auth_server.messages) == before + 1


def test_smtplib_alone_would_fail_on_the_password():
    """Why authenticate() exists: smtplib's own AUTH encodes credentials as ASCII."""
    with SmtpServer("plain", auth=(USER, UNICODE_PASSWORD)) as server:
        client = smtplib.SMTP("127.0.0.1", server.port, timeout=2)
        try:
            client.ehlo()
            with pytest.raises(UnicodeEncodeError):
                client.login(USER, UNICODE_PASSWORD)
        finally:
            client.close()
