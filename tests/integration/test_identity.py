"""store_type: identity against the emulator: tokens, retries, failures, TLS, scale, verify via store."""
import ssl

import trustme

from tests.lib.backends import IdentityBackend, render_play
from tests.lib.smtp_servers import SmtpServer

PASSWORD = "Identity-Smtp-Secret-77aa"
FAST_RETRY = {"ORCHESTRATOR_EMAIL_RETRY_BASE": "0.05"}


def config(store, orgs=("finance",), port=587):
    out = {"host": {"smtp_host": "smtp.example.com", "smtp_port": port, "smtp_username": "mailer",
                    "smtp_password": PASSWORD, "from_address": "mailer@example.com"},
           "organizations": {}}
    for name in orgs:
        out["organizations"][name] = dict({"smtp_host": "relay.example.com", "smtp_port": 25, "secure": False,
                                           "from_address": "%s@example.com" % name}, **store.org_extra(name))
    return out


def apply(store, cfg, name="apply", **extra):
    return render_play([{"name": name, "mailops.orchestrator_email.settings": dict({"config": cfg}, **extra)}],
                       store.module_defaults)


def assert_no_secret(result, store):
    for secret in (PASSWORD, store.emulator.client_secret, store.emulator.host_admin[1]):
        assert secret not in result.output
        assert secret not in repr(result.records)
    for haystack in store.secret_haystacks():
        assert PASSWORD not in haystack and store.emulator.host_admin[1] not in haystack


def token_requests(store, path="/connect/token"):
    return [r for r in store.emulator.requests if r["path"].endswith(path)]


def puts(store):
    return [r for r in store.emulator.api_requests() if r["method"] == "PUT"]


def test_token_expiry_mid_run_fetches_one_new_token(ansible):
    # Proven by disabling the refresh-on-401 in IdentityClient.call: the finance PUT then fails.
    store = IdentityBackend()
    try:
        store.emulator.inject("expire", target="settings", method="PUT", nth=2)  # between the two PUTs
        result = ansible.playbook(apply(store, config(store)), verbosity=3)
        assert result.rc == 0, result
        assert result.task("apply")["changed"] is True
        assert len(token_requests(store, "/api/account/authenticate")) == 1  # the host's PUT came first
        assert len(token_requests(store)) == 2  # finance's token, then one new token after the 401
        assert len(puts(store)) == 3  # host, finance refused (401), finance again
        assert store.read_back()["organizations.finance"]["Email.Smtp.Port"] == "25"
        assert_no_secret(result, store)
    finally:
        store.close()


def test_429_with_retry_after_on_a_settings_put_is_waited_for(ansible):
    # Proven by ignoring the Retry-After header in backoff(): the retry then comes after 0.05 s.
    store = IdentityBackend()
    try:
        store.emulator.inject("status", 429, target="settings", method="PUT", nth=2, retry_after=1)
        result = ansible.playbook(apply(store, config(store)), env=FAST_RETRY)
        assert result.rc == 0, result
        assert result.task("apply")["changed"] is True
        host_put, refused, retried = puts(store)
        assert store.partition_id("finance") in refused["body"] and refused["body"] == retried["body"]
        assert retried["time"] - refused["time"] >= 0.95
        assert store.read_back()["organizations.finance"]["Email.Smtp.Host"] == "relay.example.com"
        again = ansible.playbook(apply(store, config(store)))
        assert again.rc == 0 and again.task("apply")["changed"] is False
    finally:
        store.close()


def test_token_endpoint_500_on_every_attempt_fails_clearly(ansible):
    store = IdentityBackend()
    try:
        store.emulator.inject("status", 500, target="token", count=50)
        result = ansible.playbook(apply(store, config(store)), env=FAST_RETRY, verbosity=3)
        assert result.rc != 0
        failure = result.task("apply")
        assert failure["cause"] == "store_api_error"
        assert "POST /api/account/authenticate failed after 4 attempts: 500" in failure["msg"]
        assert len(store.emulator.requests) == 4 and store.snapshot() == {}
        assert_no_secret(result, store)
    finally:
        store.close()


def test_a_failure_in_the_middle_of_a_multi_scope_apply_says_which_scopes_were_written(ansible):
    # Proven by reporting no scope as written in _IdentitySession.write (scopes_written = []), and
    # by not retrying a dropped connection (hr is then not written).
    store = IdentityBackend()
    names = ("finance", "hr", "it")
    try:
        assert ansible.playbook(apply(store, config(store, orgs=names))).rc == 0
        before = store.snapshot()
        changed = config(store, orgs=names, port=465)
        for name in names:
            changed["organizations"][name].update(smtp_port=2525, from_display_name=name.upper())
        store.emulator.inject("status", 500, target="settings", method="PUT", count=4,
                              contains=store.partition_id("finance"))
        store.emulator.inject("drop", target="settings", method="PUT", contains=store.partition_id("hr"))
        result = ansible.playbook(apply(store, changed), env=FAST_RETRY, verbosity=3)
        assert result.rc != 0
        failure = result.task("apply")
        assert failure["cause"] == "store_api_error"
        assert "failed after 4 attempts: 500" in failure["msg"] and "organizations.finance" in failure["msg"]
        assert sorted(failure["scopes_written"]) == ["host", "organizations.hr", "organizations.it"]
        assert failure["scopes_failed"] == ["organizations.finance"]
        after = store.read_back()
        assert after["host"]["Email.Smtp.Port"] == "465"
        assert after["organizations.hr"]["Email.Smtp.FromDisplayName"] == "HR"  # retried after the drop
        assert after["organizations.it"]["Email.Smtp.FromDisplayName"] == "IT"
        assert store.snapshot()[store.partition_id("finance")] == before[store.partition_id("finance")]
        rerun = ansible.playbook(apply(store, changed))
        assert rerun.rc == 0 and rerun.task("apply")["summary"]["scopes_changed"] == 1
        assert store.read_back()["organizations.finance"]["Email.Smtp.FromDisplayName"] == "FINANCE"
        assert_no_secret(result, store)
    finally:
        store.close()


def test_wrong_client_secret_is_an_authentication_error(ansible):
    store = IdentityBackend()
    try:
        cfg = config(store)
        defaults = dict(store.module_defaults)
        defaults["organization_clients"] = [dict(e, client_secret="Wrong-Secret-Value-123")
                                            for e in defaults["organization_clients"]]
        play = render_play([{"name": "apply", "mailops.orchestrator_email.settings": {"config": cfg}}], defaults)
        result = ansible.playbook(play, verbosity=3)
        assert result.rc != 0
        failure = result.task("apply")
        assert failure["cause"] == "store_authentication_failed"
        assert "client credentials" in failure["msg"] and "invalid_client" in failure["msg"]
        assert "Wrong-Secret-Value-123" not in result.output
        assert store.snapshot() == {}
    finally:
        store.close()


def test_tls_verification_against_the_emulator(ansible, tmp_path):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_path = str(tmp_path / "identity-ca.pem")
    ca.cert_pem.write_to_path(ca_path)
    store = IdentityBackend(tls_context=context)
    try:
        assert store.emulator.url.startswith("https://")
        untrusted = ansible.playbook(apply(store, config(store)))
        assert untrusted.rc != 0
        assert untrusted.task("apply")["cause"] == "store_tls_error"
        assert "identity_ca_path" in untrusted.task("apply")["msg"]
        trusted = ansible.playbook(apply(store, config(store), identity_ca_path=ca_path))
        assert trusted.rc == 0, trusted
        assert store.read_back()["host"]["Email.Smtp.Host"] == "smtp.example.com"
        lab = ansible.playbook(apply(store, config(store, port=465), identity_validate_certs=False))
        assert lab.rc == 0, lab  # the documented opt-out for a lab
        assert store.read_back()["host"]["Email.Smtp.Port"] == "465"
    finally:
        store.close()


def test_many_organizations_use_a_bounded_pool(ansible):
    store = IdentityBackend()
    try:
        names = ["org%03d" % i for i in range(200)]
        result = ansible.playbook(apply(store, config(store, orgs=names)))
        assert result.rc == 0, result
        assert result.task("apply")["summary"]["scopes_changed"] == 201
        api = store.emulator.api_requests()
        assert len([r for r in api if r["method"] == "GET"]) == 201
        assert len([r for r in api if r["method"] == "PUT"]) == 201
        # keep-alive: a connection per worker and server, not one per request (logins come first)
        assert len({r["client"] for r in api}) <= 4
        again = ansible.playbook(apply(store, config(store, orgs=names)))
        assert again.task("apply")["changed"] is False
    finally:
        store.close()


def test_missing_partition_id_is_a_clear_error(ansible):
    store = IdentityBackend()
    try:
        cfg = config(store)
        del cfg["organizations"]["finance"]["partition_id"]
        result = ansible.playbook(apply(store, cfg))
        assert result.rc != 0
        assert "partition_id" in result.task("apply")["msg"] and "finance" in result.task("apply")["msg"]
        assert store.snapshot() == {}
    finally:
        store.close()


def test_verify_via_store_delivers_a_message(ansible):
    store = IdentityBackend()
    try:
        with SmtpServer("plain") as server:
            store.emulator.smtp_target = ("127.0.0.1", server.port)
            tasks = [
                {"name": "apply", "mailops.orchestrator_email.settings": {"config": config(store)}},
                {"name": "check", "mailops.orchestrator_email.verify": dict(
                    {"via": "store", "organization": "finance", "to": ["ops@example.com"]},
                    **store.org_extra("finance")), "check_mode": True},
                {"name": "verify", "mailops.orchestrator_email.verify": dict(
                    {"via": "store", "organization": "finance", "to": ["ops@example.com"],
                     "subject": "Identity test"}, **store.org_extra("finance"))},
            ]
            result = ansible.playbook(render_play(tasks, store.module_defaults), verbosity=3)
            assert result.rc == 0, result
            assert result.task("check")["changed"] is False
            assert result.task("verify")["changed"] is True and result.task("verify")["via"] == "store"
            assert len(server.messages) == 1
            message = server.messages[0]
            assert message["Subject"] == "Identity test" and message["To"] == "ops@example.com"
            assert message["From"] == "finance@example.com"
            assert message["X-Identity-Partition"] == store.partition_id("finance")
            assert_no_secret(result, store)
    finally:
        store.close()
