"""The identity store in-process against the strict emulator (no ansible-playbook): what the
vendor's published API requires (whole-scope PUTs, grants per scope, partitions, URL forms, 409,
Retry-After bounds, error bodies, transport), plus token reuse, retries, secrets and timeouts."""
import json
import ssl
import time

import pytest
import trustme

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._commands import read_settings
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._engine import apply_config
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._errors import (
    StoreApiError,
    StoreAuthenticationError,
    StoreConnectionError,
    StoreError,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._identity_store import (
    MAX_ATTEMPTS,
    IdentityStore,
)
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._store import Scope, ScopeChange
from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import validate_config
from tests.lib.backends import IdentityBackend
from tests.lib.http_proxy import ForwardingProxy

SECRET_PASSWORD = "Client-Test-Smtp-Password-51"
BASE = {"Host": "relay.example.com", "Port": "25", "FromEmail": "ops@example.com"}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_EMAIL_RETRY_BASE", "0.01")


@pytest.fixture
def backend():
    backend = IdentityBackend()
    yield backend
    backend.close()


def open_store(backend, **params):
    options = dict(backend.module_defaults, **params)
    return IdentityStore.from_params(options)


def orgs(backend, count):
    return [Scope.org("org%02d" % i, backend.partition_id("org%02d" % i)) for i in range(count)]


def put(scope, **values):
    """A whole scope (Host, Port and FromEmail, as the server needs) with ``values`` on top."""
    values = dict(BASE, **values)
    return ScopeChange(scope, set_values=dict(("Email.Smtp." + k, v) for k, v in values.items()))


def stored(**values):
    return dict(("Email.Smtp." + k, v) for k, v in dict(BASE, **values).items())


def api(backend, method):
    return [r for r in backend.emulator.api_requests() if r["method"] == method]


def normalized(backend, host=None, **org_decls):
    config = {}
    if host is not None:
        config["host"] = host
    if org_decls:
        config["organizations"] = dict((name, dict(decl, partition_id=backend.partition_id(name)))
                                       for name, decl in org_decls.items())
    errors, _warnings, result = validate_config(config)
    assert not errors, errors
    return result


HOST_DECL = {"smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_username": "mailer",
             "smtp_password": SECRET_PASSWORD, "from_address": "mailer@example.com",
             "from_display_name": "Orchestrator"}


# -- 1. whole-scope PUTs ------------------------------------------------------------------------
def test_a_one_field_change_sends_the_scope_s_whole_set_without_the_password(backend):
    store = open_store(backend)
    try:
        apply_config(store, normalized(backend, host=HOST_DECL))
        first = json.loads(api(backend, "PUT")[-1]["body"])
        assert {s["key"]: s["value"] for s in first["settings"]}["Email.Smtp.Password"] == SECRET_PASSWORD
        result = apply_config(store, normalized(backend, host=dict(HOST_DECL, from_display_name="Ops")))
        assert result["changed"] is True and [r["field"] for r in result["changes"]] == ["from_display_name"]
        sent = {s["key"]: s["value"] for s in json.loads(api(backend, "PUT")[-1]["body"])["settings"]}
        assert sent == {"Email.Smtp.Host": "smtp.example.com", "Email.Smtp.Port": "587",
                        "Email.Smtp.UserName": "mailer", "Email.Smtp.EnableSsl": "true",
                        "Email.Smtp.UseDefaultCredentials": "false", "Email.Smtp.FromEmail": "mailer@example.com",
                        "Email.Smtp.FromDisplayName": "Ops", "Email.Smtp.Domain": ""}  # omitted: cleared
        # a port change is a new destination: the password goes with it (servers may clear it)
        apply_config(store, normalized(backend, host=dict(HOST_DECL, smtp_port=465)))
        sent = {s["key"]: s["value"] for s in json.loads(api(backend, "PUT")[-1]["body"])["settings"]}
        assert sent["Email.Smtp.Port"] == "465" and sent["Email.Smtp.Password"] == SECRET_PASSWORD
        # a blanked optional field is sent as "" together with the rest
        apply_config(store, normalized(backend, host=dict((k, v) for k, v in HOST_DECL.items()
                                                          if k != "from_display_name")))
        sent = {s["key"]: s["value"] for s in json.loads(api(backend, "PUT")[-1]["body"])["settings"]}
        assert sent["Email.Smtp.FromDisplayName"] == "" and sent["Email.Smtp.Host"] == "smtp.example.com"
        assert "Email.Smtp.FromDisplayName" not in backend.read_back()["host"]
        assert backend.read_back()["host"]["Email.Smtp.Password"] == SECRET_PASSWORD
    finally:
        store.close()


def test_a_partial_scope_is_refused_before_any_request(backend):
    store = open_store(backend)
    try:
        with store.session(write=True) as session, pytest.raises(StoreError) as info:
            session.write([ScopeChange(Scope.host(), set_values={"Email.Smtp.Port": "465"})])
        assert info.value.cause == "incomplete_scope" and "Email.Smtp.FromEmail" in str(info.value)
        assert api(backend, "PUT") == []
    finally:
        store.close()


# -- 2. UseDefaultCredentials ---------------------------------------------------------------------
def test_default_credentials_left_true_are_drift_and_corrected(backend):
    store = open_store(backend)
    try:
        apply_config(store, normalized(backend, host=HOST_DECL))
        backend.emulator.state[None]["Email.Smtp.UseDefaultCredentials"] = "true"  # the vendor's workaround
        drift = apply_config(store, normalized(backend, host=HOST_DECL), check_mode=True)
        assert drift["changed"] is True
        assert [(r["field"], r["before"], r["after"]) for r in drift["changes"]] == [
            ("use_default_credentials", True, False)]
        info = read_settings(store)
        assert info["host"]["settings"]["use_default_credentials"] is True
        apply_config(store, normalized(backend, host=HOST_DECL))
        assert backend.read_back()["host"]["Email.Smtp.UseDefaultCredentials"] == "false"
    finally:
        store.close()


# -- 3. who may manage what -----------------------------------------------------------------------
def test_the_host_with_an_application_is_refused_and_the_message_says_what_the_host_needs(backend):
    store = IdentityStore.from_params(dict(backend.single_client_defaults))
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read([Scope.host()])
        msg = str(info.value)
        assert "for host was refused (403" in msg and "host_admin_username" in msg
        assert "client_id %r" % backend.emulator.client_id in msg and "check your scopes" not in msg
    finally:
        store.close()


def test_an_organization_with_another_organization_s_application_is_refused_by_name(backend):
    fin, hr = orgs(backend, 2)
    wrong = dict(backend.module_defaults)
    wrong["organization_clients"] = [dict(entry, organization=hr.name) if entry["organization"] == fin.name
                                     else dict(entry, organization=fin.name)
                                     for entry in wrong["organization_clients"]]
    store = IdentityStore.from_params(wrong)
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read([fin])
        msg = str(info.value)
        assert "for organizations.org00 was refused (403" in msg and "registered in organization org00" in msg
        assert "organization_clients entry of org00" in msg
    finally:
        store.close()


def test_host_as_host_admin_and_each_organization_with_its_own_application(backend):
    scopes = orgs(backend, 3)
    store = open_store(backend)
    try:
        with store.session(write=True) as session:
            session.write([put(Scope.host())] + [put(s) for s in scopes])
            assert session.read([Scope.host()] + scopes)[scopes[2]] == stored()
        logins = [r for r in backend.emulator.requests if r["path"] == "/api/account/authenticate"]
        assert len(logins) == 1 and json.loads(logins[0]["body"])["TenancyName"] == "host"
        assert store.client.token_requests == 4  # one host-admin login, one token per application
        assert backend.emulator.state[None] == stored()
    finally:
        store.close()


def test_one_application_for_everything_where_the_server_allows_it():
    backend = IdentityBackend(single_client=True)
    try:
        store = IdentityStore.from_params(dict(backend.single_client_defaults))
        fin = Scope.org("finance", backend.partition_id("finance"))
        with store.session(write=True) as session:
            session.write([put(Scope.host()), put(fin)])
        assert store.client.token_requests == 1 and len(backend.read_back()) == 2
        store.close()
    finally:
        backend.close()


def test_a_wrong_host_admin_password_names_the_login_and_never_the_password(backend):
    store = open_store(backend, host_admin_password="Wrong-Host-Password-99")
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read([Scope.host()])
        msg = str(info.value)
        assert "host administrator 'host-admin'" in msg and "Invalid user name or password" in msg
        assert "Wrong-Host-Password-99" not in msg
    finally:
        store.close()


# -- 4. transport ---------------------------------------------------------------------------------
def test_requests_go_through_the_environment_s_proxy_with_a_user_agent(backend, monkeypatch):
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with ForwardingProxy() as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        store = open_store(backend)
        try:
            with store.session() as session:
                session.read([Scope.host()])
        finally:
            store.close()
        assert len(proxy.forwarded) == 2  # the login and the GET
        assert all(agent.startswith("mailops.orchestrator_email/") for agent in
                   (r["headers"].get("User-Agent") for r in backend.emulator.requests))
        store = open_store(backend, identity_use_proxy=False, identity_http_agent="pipeline/1.0")
        try:
            with store.session() as session:
                session.read([Scope.host()])
        finally:
            store.close()
        assert len(proxy.forwarded) == 2 and backend.emulator.requests[-1]["headers"]["User-Agent"] == "pipeline/1.0"


def test_a_client_certificate_is_presented_when_the_server_requires_one(tmp_path):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    ca_file, cert_file = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client_cert = ca.issue_cert("pipeline@example.com")
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    backend = IdentityBackend(tls_context=context)
    try:
        without = open_store(backend, identity_ca_path=str(ca_file), request_timeout=5)
        with without.session() as session, pytest.raises(StoreConnectionError):
            session.read([Scope.host()])
        without.close()
        store = open_store(backend, identity_ca_path=str(ca_file), identity_client_cert=str(cert_file))
        with store.session() as session:
            assert session.read([Scope.host()]) == {Scope.host(): {}}
        store.close()
    finally:
        backend.close()


def test_a_redirect_is_not_followed_and_is_explained(backend):
    store = open_store(backend)
    try:
        backend.emulator.inject("status", 302, target="settings", body={})
        with store.session() as session, pytest.raises(StoreApiError) as info:
            session.read([Scope.host()])
        assert "302" in str(info.value) and "not followed" in str(info.value)
    finally:
        store.close()


# -- 5. reads -------------------------------------------------------------------------------------
def test_the_host_omits_partition_and_inherited_host_rows_are_not_an_override():
    backend = IdentityBackend(inherit_host_rows=True)
    fin = Scope.org("finance", backend.partition_id("finance"))
    store = open_store(backend)
    try:
        with store.session(write=True) as session:
            session.write([put(Scope.host())])
            current = session.read([Scope.host(), fin])
        assert current[fin] == {} and current[Scope.host()] == stored()
        gets = api(backend, "GET")
        host_get = [g for g in gets if "partitionGlobalId" not in g["query"]]
        assert len(host_get) == 1 and len(gets) == 2
        assert json.loads(api(backend, "PUT")[0]["body"])["partitionGlobalId"] is None
        info = read_settings(store, "finance", partition_id=fin.partition_id)
        assert info["organizations"]["finance"]["configured"] is False
        assert info["organizations"]["finance"]["effective_source"] == "host"
    finally:
        store.close()
        backend.close()


# -- 6. base URL forms ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/identity", "/identity_", "/myorg/identity_"])
def test_each_identity_url_form_works(path):
    backend = IdentityBackend(path=path)
    store = open_store(backend)
    try:
        with store.session(write=True) as session:
            session.write([put(Scope.host())])
        assert backend.read_back() == {"host": stored()}
        assert api(backend, "PUT")[0]["path"] == path + "/api/Setting"
    finally:
        store.close()
        backend.close()


# -- 7. conflicts, limits and errors --------------------------------------------------------------
def test_a_409_is_re_read_and_retried_once_then_fails_naming_the_scope(backend):
    scopes = orgs(backend, 1)
    partition = scopes[0].partition_id
    store = open_store(backend)
    decl = {"smtp_host": "relay.example.com", "smtp_port": 25, "secure": False, "from_address": "ops@example.com"}
    try:
        apply_config(store, normalized(backend, org00=decl))

        def another_writer():  # changes the scope between our read and our write
            backend.emulator.state[partition]["Email.Smtp.UserName"] = "someone-else"
        backend.emulator.inject("status", 409, target="settings", method="PUT", message="concurrency conflict",
                                func=another_writer)
        result = apply_config(store, normalized(backend, org00=dict(decl, from_display_name="Ops")))
        assert result["changed"] is True
        assert [r["method"] for r in backend.emulator.api_requests()][-3:] == ["PUT", "GET", "PUT"]
        # the retried PUT is the scope's whole declared state, not a patch of the stale read
        assert "Email.Smtp.UserName" not in backend.emulator.state[partition]
        assert backend.emulator.state[partition]["Email.Smtp.FromDisplayName"] == "Ops"
        backend.emulator.inject("status", 409, target="settings", method="PUT", count=2)
        with pytest.raises(StoreApiError) as info:
            apply_config(store, normalized(backend, org00=dict(decl, smtp_port=2525)))
        assert info.value.cause == "conflict" and "organizations.org00" in str(info.value)
        assert "409 Conflict twice" in str(info.value)
    finally:
        store.close()


def test_retry_after_is_honoured_over_the_backoff(backend):
    store = open_store(backend)
    try:
        backend.emulator.inject("status", 429, target="settings", method="GET", retry_after=1)
        with store.session() as session:
            assert session.read([Scope.host()]) == {Scope.host(): {}}
        gets = api(backend, "GET")
        assert len(gets) == 2
        assert gets[1]["time"] - gets[0]["time"] >= 0.95  # Retry-After: 1, not the 0.01 s base
    finally:
        store.close()


def test_a_retry_after_beyond_the_bound_fails_at_once_saying_how_long(backend):
    store = open_store(backend, identity_max_retry_wait=5)
    try:
        backend.emulator.inject("status", 429, target="settings", method="PUT", retry_after=240,
                                message="Too many requests")
        started = time.monotonic()
        with store.session(write=True) as session, pytest.raises(StoreApiError) as info:
            session.write([put(Scope.host())])
        assert time.monotonic() - started < 2 and len(api(backend, "PUT")) == 1
        assert "asked to wait 240s" in str(info.value) and "identity_max_retry_wait (5s)" in str(info.value)
        assert info.value.details["retry_after"] == 240
    finally:
        store.close()


def test_5xx_is_bounded_and_names_endpoint_status_and_message(backend):
    store = open_store(backend)
    try:
        backend.emulator.inject("status", 503, target="settings", method="GET", count=MAX_ATTEMPTS,
                                message="maintenance window")
        with store.session() as session, pytest.raises(StoreApiError) as info:
            session.read([Scope.host()])
        assert len(api(backend, "GET")) == MAX_ATTEMPTS
        msg = str(info.value)
        assert "GET /identity/api/Setting" in msg and "503" in msg and "maintenance window" in msg
        assert "%d attempts" % MAX_ATTEMPTS in msg and info.value.details["status"] == 503
    finally:
        store.close()


def test_an_errors_body_is_shown_and_secrets_are_never_echoed(backend):
    store = open_store(backend)
    try:
        echo = "rejected value %s for %s" % (SECRET_PASSWORD, backend.emulator.host_admin[1])
        body = {"errors": {"settings": [echo]},
                "title": "One or more validation errors occurred."}
        backend.emulator.inject("status", 400, target="settings", method="PUT", body=body)
        with store.session(write=True) as session, pytest.raises(StoreApiError) as info:
            session.write([put(Scope.host(), Password=SECRET_PASSWORD)])
        assert len(api(backend, "PUT")) == 1
        msg = str(info.value)
        assert "for host answered 400" in msg and "settings: rejected value ********" in msg
        assert "One or more validation errors occurred." in msg
        assert SECRET_PASSWORD not in msg and backend.emulator.host_admin[1] not in msg
        assert "host" in info.value.details["scopes_failed"] and backend.emulator.state == {}
    finally:
        store.close()


def test_a_server_that_echoes_the_request_never_gets_a_secret_into_the_error():
    """Issue 11: a token endpoint that echoes the form it was sent (URL-encoded), as JSON and as
    base64. The secret has characters that each encoding changes, so a mask of the plain text only
    leaves every echo readable."""
    from urllib.parse import quote, quote_plus, urlencode
    import base64
    secret = "Echo+Secret/=&% Zürich-\"77\""
    backend = IdentityBackend(single_client=True, client_secret=secret)
    store = IdentityStore.from_params(dict(backend.single_client_defaults))
    echoes = [urlencode({"client_secret": secret}), quote(secret), json.dumps(secret), json.dumps(secret)[1:-1],
              base64.b64encode(secret.encode()).decode()]
    backend.emulator.inject("status", 400, target="token", body={
        "error": "invalid_request", "error_description": "got " + " | ".join(echoes)})
    try:
        with pytest.raises(StoreError) as info:
            with store.session(write=False) as session:
                session.read([Scope.host()])
        text = str(info.value) + json.dumps(info.value.to_result())
        assert "invalid_request" in text and "got client_secret=********" in text, text
        for form in [secret, quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
                     base64.b64encode(secret.encode()).decode()]:
            assert form not in text, form
    finally:
        store.close()
        backend.close()


# -- tokens, retries, timeouts -----------------------------------------------------------------------
def test_one_token_per_grant_for_many_calls_and_one_refresh_when_it_expires_under_the_pool():
    backend = IdentityBackend(single_client=True)
    store = IdentityStore.from_params(dict(backend.single_client_defaults))
    scopes = orgs(backend, 24)
    try:
        with store.session(write=True) as session:
            session.write([put(s) for s in scopes])
            assert len(session.read(scopes)) == 24
            assert store.client.token_requests == 1
            backend.emulator.expire_tokens()
            current = session.read([Scope.host()] + scopes)
        # every worker got a 401; one of them fetched the new token, the others reused it
        assert store.client.token_requests == 2 and len(backend.emulator.tokens) == 2
        assert all(current[s] == stored() for s in scopes)
    finally:
        store.close()
        backend.close()


def test_a_masked_password_is_never_written_back(backend):
    org = orgs(backend, 1)[0]
    store = open_store(backend)
    try:
        with store.session(write=True) as session, pytest.raises(StoreError) as info:
            session.write([put(Scope.host()), put(org, Password="********")])
        assert info.value.cause == "masked_value"
        assert api(backend, "PUT") == [] and backend.emulator.state == {}  # nothing sent, no scope
    finally:
        store.close()


def test_a_token_without_the_write_scope_reads_but_cannot_write(backend):
    org = orgs(backend, 1)[0]
    store = open_store(backend, scopes="PM.Setting.Read")
    try:
        with store.session(write=True) as session:
            assert session.read([org]) == {org: {}}
            with pytest.raises(StoreAuthenticationError) as info:
                session.write([put(org)])
        msg = str(info.value)
        assert "PUT /identity/api/Setting for organizations.org00 was refused (403" in msg
        assert "PM.Setting or PM.Setting.Write" in msg and info.value.cause == "store_authentication_failed"
    finally:
        store.close()


def test_an_unknown_scope_is_refused_at_the_token_endpoint(backend):
    org = orgs(backend, 1)[0]
    store = open_store(backend, scopes="OR.Settings")
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read([org])
        assert "invalid_scope" in str(info.value) and "Org-App-Secret" not in str(info.value)
    finally:
        store.close()


def test_a_timed_out_put_is_retried_but_a_timed_out_test_email_is_not(backend):
    store = open_store(backend, request_timeout=0.5)
    try:
        backend.emulator.inject("delay", target="settings", method="PUT", seconds=1.5)
        with store.session(write=True) as session:
            session.write([put(Scope.host())])
        assert len(api(backend, "PUT")) == 2
        assert backend.read_back() == {"host": stored()}
        backend.emulator.inject("delay", target="verify", seconds=1.5)
        started = time.monotonic()
        with pytest.raises(StoreConnectionError) as info:
            store.send_test_email(Scope.host(), ["ops@example.com"])
        assert "timed out" in str(info.value) and "VerifySmtpSettings" in str(info.value)
        assert len([r for r in api(backend, "POST") if r["path"].endswith("VerifySmtpSettings")]) == 1
        assert time.monotonic() - started < 1.4
    finally:
        store.close()


def test_a_test_email_is_not_sent_again_after_a_gateway_error(backend):
    store = open_store(backend)
    try:
        backend.emulator.inject("status", 502, target="verify", message="Bad gateway")
        with pytest.raises(StoreApiError) as info:
            store.send_test_email(Scope.host(), ["ops@example.com"])
        assert "502" in str(info.value)
        assert len([r for r in api(backend, "POST") if r["path"].endswith("VerifySmtpSettings")]) == 1
    finally:
        store.close()


def test_a_refused_credential_is_asked_once_not_once_per_scope():
    backend = IdentityBackend(single_client=True)
    store = IdentityStore.from_params(dict(backend.single_client_defaults, client_secret="Wrong-Secret-Value-123"))
    scopes = orgs(backend, 20)
    try:
        with store.session() as session, pytest.raises(StoreAuthenticationError) as info:
            session.read(scopes)
        assert "invalid_client" in str(info.value) and "Wrong-Secret-Value-123" not in str(info.value)
        assert len([r for r in backend.emulator.requests if r["path"].endswith("/connect/token")]) == 1
    finally:
        store.close()
        backend.close()


def test_a_netrc_entry_never_replaces_the_bearer_token(backend, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password Netrc-Password-42\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    org = orgs(backend, 1)[0]
    store = open_store(backend)
    try:
        with store.session() as session:
            session.read([org])
        settings = backend.emulator.api_requests()
        assert settings and all(r["headers"]["Authorization"].startswith("Bearer ") for r in settings)
        assert not any("Basic" in (r["headers"].get("Authorization") or "") for r in backend.emulator.requests)
    finally:
        store.close()


def test_the_server_test_email_takes_one_recipient(backend):
    store = open_store(backend)
    try:
        with pytest.raises(StoreError) as info:
            store.send_test_email(Scope.host(), ["a@example.com", "b@example.com"])
        assert "one recipient" in str(info.value) and api(backend, "POST") == []
    finally:
        store.close()


def test_pascal_case_answers_are_read():
    backend = IdentityBackend(pascal_case=True)
    store = open_store(backend)
    try:
        with store.session(write=True) as session:
            session.write([put(Scope.host(), Password=SECRET_PASSWORD)])
            current = session.read([Scope.host()])[Scope.host()]
        assert current == stored(Password="********")
    finally:
        store.close()
        backend.close()


def test_missing_partition_id_fails_before_any_request(backend):
    store = open_store(backend)
    try:
        with store.session(write=True) as session, pytest.raises(StoreError) as info:
            session.write([put(Scope.host()), put(Scope.org("finance"))])
        assert info.value.cause == "missing_partition_id" and "'finance'" in str(info.value)
        assert backend.emulator.requests == []
    finally:
        store.close()


# -- 8. the vendor's default mailer ------------------------------------------------------------------
def test_the_vendor_default_mailer_is_named_and_can_be_declared(backend):
    store = open_store(backend)
    try:
        backend.emulator.state[None] = {"Email.Smtp.Host": "SendGrid", "Email.Smtp.FromEmail": "no-reply@uipath.com",
                                        "Email.Smtp.UseDefaultCredentials": "true"}
        info = read_settings(store)
        assert info["host"]["mailer"] == "vendor default mailer"
        drift = apply_config(store, normalized(backend, host=HOST_DECL), check_mode=True)
        assert drift["diff"][0]["before"]["mailer"] == "vendor default mailer"
        assert drift["diff"][0]["after"]["mailer"] == "custom"
        host_row = [r for r in drift["changes"] if r["field"] == "smtp_host"][0]
        assert host_row["before"] == "SendGrid (vendor default mailer)"
        apply_config(store, normalized(backend, host=HOST_DECL))
        back = apply_config(store, normalized(backend, host={"vendor_default_mailer": True}))
        assert back["changed"] is True
        assert backend.read_back()["host"]["Email.Smtp.Host"] == "SendGrid"
        assert backend.read_back()["host"]["Email.Smtp.UseDefaultCredentials"] == "true"
        assert "Email.Smtp.UserName" not in backend.read_back()["host"]
        assert apply_config(store, normalized(backend, host={"vendor_default_mailer": True}))["changed"] is False
    finally:
        store.close()
