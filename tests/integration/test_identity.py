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
    for secret in (PASSWORD, store.emulator.client_secret):
        assert secret not in result.output
        assert secret not in repr(result.records)
    for haystack in store.secret_haystacks():
        assert PASSWORD not in haystack and store.emulator.client_secret not in haystack


def test_token_expiry_mid_run_fetches_one_new_token(ansible):
    store = IdentityBackend()
    try:
        assert ansible.playbook(apply(store, config(store))).rc == 0
        store.emulator.expire_tokens()
        tokens_before = len(store.emulator.tokens)
        result = ansible.playbook(apply(store, config(store, port=465)), verbosity=3)
        assert result.rc == 0, result
        assert result.task("apply")["changed"] is True
        assert len(store.emulator.tokens) == tokens_before + 1
        assert store.read_back()["host"]["Email.Smtp.Port"] == "465"
        assert_no_secret(result, store)
    finally:
        store.close()


def test_429_with_retry_after_then_success(ansible):
    store = IdentityBackend()
    try:
        store.emulator.fail_next(2, status=429, retry_after=0, method="GET")
        store.emulator.fail_next(1, status=429, retry_after=0, method="PUT")
        result = ansible.playbook(apply(store, config(store)), env=FAST_RETRY)
        assert result.rc == 0, result
        assert result.task("apply")["changed"] is True
        assert store.read_back()["host"]["Email.Smtp.Host"] == "smtp.example.com"
        api = store.emulator.api_requests()
        assert len([r for r in api if r["method"] == "GET"]) == 2 + 2  # host + finance, 2 refused
        assert len([r for r in api if r["method"] == "PUT"]) == 2 + 1
        again = ansible.playbook(apply(store, config(store)))
        assert again.rc == 0 and again.task("apply")["changed"] is False
    finally:
        store.close()


def test_token_endpoint_500_on_every_attempt_fails_clearly(ansible):
    store = IdentityBackend()
    try:
        store.emulator.fail_next(50, status=500, method="POST")
        result = ansible.playbook(apply(store, config(store)), env=FAST_RETRY, verbosity=3)
        assert result.rc != 0
        failure = result.task("apply")
        assert failure["cause"] == "store_api_error"
        assert "POST /identity/connect/token failed after 4 attempts: 500" in failure["msg"]
        assert len(store.emulator.requests) == 4 and store.snapshot() == {}
        assert_no_secret(result, store)
    finally:
        store.close()


def test_500_on_every_put_fails_clearly_and_half_applies_no_scope(ansible):
    store = IdentityBackend()
    try:
        assert ansible.playbook(apply(store, config(store))).rc == 0
        before = store.snapshot()
        changed = config(store, port=465)
        changed["organizations"]["finance"].update(smtp_port=2525, from_display_name="Finance")
        store.emulator.fail_next(50, status=500, method="PUT")
        result = ansible.playbook(apply(store, changed), env=FAST_RETRY, verbosity=3)
        assert result.rc != 0
        failure = result.task("apply")
        assert failure["cause"] == "store_api_error"
        assert "PUT /identity/api/Setting failed after 4 attempts: 500" in failure["msg"]
        assert failure["scopes_written"] == []
        assert sorted(failure["scopes_failed"]) == ["host", "organizations.finance"]
        # each scope is one bulk PUT: the failed one changed nothing, the next was never sent
        assert len([r for r in store.emulator.api_requests() if r["method"] == "PUT"]) == 2 + 4
        assert store.snapshot() == before
        store.emulator.faults.clear()
        rerun = ansible.playbook(apply(store, changed))
        assert rerun.rc == 0 and store.read_back()["host"]["Email.Smtp.Port"] == "465"
        assert store.read_back()["organizations.finance"]["Email.Smtp.FromDisplayName"] == "Finance"
        assert_no_secret(result, store)
    finally:
        store.close()


def test_wrong_client_secret_is_an_authentication_error(ansible):
    store = IdentityBackend()
    try:
        defaults = dict(store.module_defaults, client_secret="Wrong-Secret-Value-123")
        play = render_play([{"name": "apply", "mailops.orchestrator_email.settings": {"config": config(store)}}],
                           defaults)
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
        assert len({r["client"] for r in store.emulator.requests}) <= 5  # keep-alive, 4 workers (+ token)
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
