"""preflight and verify through ansible-playbook against real SMTP servers on loopback.

Every diagnosis code is produced by a real fault, and each test asserts the exact code.
"""
import ssl

from tests.lib.backends import SqliteBackend, render_play
from tests.lib.smtp_servers import (
    Authority,
    FilteredPort,
    SilentServer,
    SmtpServer,
    closed_port,
    revocation_cert,
)

PASSWORD = "Mail-Path-Secret-5d1e"
USER = "mailer"


def smtp(server, **extra):
    args = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "secure": server.mode != "plain", "timeout": 3}
    if server.ca_path:
        args["ca_path"] = server.ca_path
    args.update(extra)
    return args


def preflight_task(name, args):
    return {"name": name, "mailops.orchestrator_email.preflight": dict(args, fail_on_error=False)}


def assert_no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.output
        assert secret not in repr(result.records)


def test_preflight_diagnoses_every_fault(ansible, tmp_path):
    authority = Authority(str(tmp_path))
    servers = {
        "good": SmtpServer("starttls", auth=(USER, PASSWORD), authority=authority),
        "plain": SmtpServer("plain"),
        "implicit": SmtpServer("implicit", auth=(USER, PASSWORD), authority=authority),
        "expired": SmtpServer("starttls", authority=authority, context=authority.expired_context()),
        "other_name": SmtpServer("starttls", authority=authority,
                                 context=authority.server_context("other.example.net")),
        "tls12": SmtpServer("starttls", authority=authority,
                            context=authority.server_context(max_version=ssl.TLSVersion.TLSv1_2)),
    }
    revocation_context, revocation_ca, crl_url, _ocsp = revocation_cert(str(tmp_path), closed_port(), closed_port())
    servers["revocation"] = SmtpServer("starttls", authority=authority, context=revocation_context)
    for server in servers.values():
        server.start()
    silent = SilentServer().__enter__()
    filtered = FilteredPort()
    try:
        good = servers["good"]
        cases = {
            "ok": (smtp(good, smtp_username=USER, smtp_password=PASSWORD, check_auth=True), None),
            "dns_failure": (dict(smtp(good), smtp_host="no-such-host.invalid"), "dns_failure"),
            "port_closed": (dict(smtp(good), smtp_port=closed_port()), "port_closed"),
            "port_filtered": (dict(smtp(good), smtp_port=filtered.port, timeout=1), "port_filtered"),
            "not_smtp": (dict(smtp(good), smtp_port=silent.port, secure=False, timeout=1), "not_smtp"),
            "starttls_not_offered": (smtp(servers["plain"], secure=True), "starttls_not_offered"),
            "implicit_on_starttls_port": (smtp(servers["implicit"], timeout=1), "tls_mode_mismatch"),
            "starttls_server_as_implicit": (smtp(servers["plain"], secure=True, tls_mode="implicit"),
                                            "tls_mode_mismatch"),
            "certificate_untrusted": (dict(smtp(good), ca_path=None), "certificate_untrusted"),
            "certificate_expired": (smtp(servers["expired"]), "certificate_expired"),
            "hostname_mismatch": (smtp(servers["other_name"]), "hostname_mismatch"),
            "revocation_unreachable": (smtp(servers["revocation"], ca_path=revocation_ca), "revocation_unreachable"),
            "tls_version_mismatch": (smtp(servers["tls12"], min_tls_version="1.3"), "tls_version_mismatch"),
            "auth_failed": (smtp(good, smtp_username=USER, smtp_password=PASSWORD + "-wrong", check_auth=True),
                            "auth_failed"),
            "no_auth_in_clear_text": (smtp(servers["plain"], smtp_username=USER, smtp_password=PASSWORD,
                                           check_auth=True), None),
        }
        for args, _code in cases.values():
            if args.get("ca_path") is None:
                args.pop("ca_path", None)
        tasks = [preflight_task(name, args) for name, (args, _code) in cases.items()]
        tasks.append({"name": "fails by default", "mailops.orchestrator_email.preflight": cases["port_closed"][0],
                      "ignore_errors": True})
        result = ansible.playbook(render_play(tasks), check=True, verbosity=3, timeout=240)
    finally:
        filtered.__exit__()
        silent.__exit__()
        for server in servers.values():
            server.stop()

    for name, (_args, code) in cases.items():
        outcome = result.task(name)
        assert outcome["changed"] is False, name
        codes = [d["code"] for d in outcome["diagnosis"]]
        if code is None:
            assert outcome["ok"] is True and codes == [], (name, outcome["checks"])
        else:
            assert codes and codes[0] == code, (name, codes, outcome["checks"])
            assert outcome["diagnosis"][0]["remedy"], name

    ok = result.task("ok")
    assert [c["name"] for c in ok["checks"]] == ["dns", "tcp", "smtp", "tls", "revocation", "auth"]
    assert [c["status"] for c in ok["checks"]] == ["ok", "ok", "ok", "ok", "skipped", "ok"]
    assert ok["tls"]["tls_version"].startswith("TLSv1.")
    assert ok["settings"]["smtp_password"] == "********"

    revocation = result.task("revocation_unreachable")
    failed = [c for c in revocation["checks"] if c["status"] == "failed"]
    assert {c["target"] for c in failed} == {"127.0.0.1:%s" % crl_url.split(":")[2].split("/")[0],
                                             "127.0.0.1:%s" % _ocsp.split(":")[2].split("/")[0]}
    assert revocation["tls"]["crl_urls"] == [crl_url]
    assert [c["status"] for c in revocation["checks"] if c["name"] == "tls"] == ["ok"]

    filtered_check = [c for c in result.task("port_filtered")["checks"] if c["name"] == "tcp"][0]
    assert 900 <= filtered_check["elapsed_ms"] < 3000, "a filtered port must cost one timeout"
    assert [c["status"] for c in result.task("port_closed")["checks"]][2:] == ["skipped"] * 4

    assert result.status("fails by default") == "failed"
    assert result.task("fails by default")["cause"] == "port_closed"
    clear = result.task("no_auth_in_clear_text")
    assert [c["status"] for c in clear["checks"] if c["name"] == "auth"] == ["warning"]
    assert servers["plain"].logins == []
    assert_no_secret(result, PASSWORD)


def verify_task(name, args, **task):
    entry = {"name": name, "mailops.orchestrator_email.verify": args}
    entry.update(task)
    return entry


def test_verify_delivers_over_starttls_with_auth(ansible):
    with SmtpServer("starttls", auth=("CORP\\" + USER, PASSWORD)) as server:
        args = smtp(server, smtp_username=USER, smtp_domain="CORP", smtp_password=PASSWORD,
                    from_address="orchestrator@example.com", from_display_name="Orchestrator System Notifications",
                    to=["ops@example.com", "oncall@example.com"])
        result = ansible.playbook(render_play([verify_task("check", args), verify_task("send", args)]),
                                  check=False, verbosity=3, args=())
        assert result.rc == 0, result
        sent = result.task("send")
        assert sent["changed"] is True and sent["sent"] is True
        assert sent["accepted"] == ["ops@example.com", "oncall@example.com"] and sent["refused"] == {}
        assert sent["tls_version"].startswith("TLSv1.")
        assert sent["server_reply"].startswith("250")
        assert len(server.messages) == 2
        message = server.messages[-1]
        assert message["X-Orchestrator-Email-Verification"] == sent["token"]
        assert message["Message-ID"] == sent["message_id"]
        assert message["From"] == '"Orchestrator System Notifications" <orchestrator@example.com>' or \
            message["From"] == "Orchestrator System Notifications <orchestrator@example.com>"
        assert message["To"] == "ops@example.com, oncall@example.com"
        assert message["Date"]
        assert "host" in message["Subject"]
        assert sent["token"] in message.get_content()
        assert server.logins[-1] == ("CORP\\" + USER, True)
        assert_no_secret(result, PASSWORD)


def test_verify_check_mode_sends_nothing(ansible):
    with SmtpServer("starttls", auth=(USER, PASSWORD)) as server:
        args = smtp(server, smtp_username=USER, smtp_password=PASSWORD, from_address="o@example.com",
                    to=["ops@example.com"])
        result = ansible.playbook(render_play([verify_task("check", args)]), check=True, verbosity=3)
        outcome = result.task("check")
        assert outcome["changed"] is False and outcome["sent"] is False
        assert outcome["accepted"] == ["ops@example.com"]
        assert "RSET" in outcome["server_reply"]
        assert server.messages == []
        assert server.logins == [(USER, True)]
        assert_no_secret(result, PASSWORD)


def test_verify_implicit_tls_plain_and_failures(ansible):
    with SmtpServer("implicit", auth=(USER, PASSWORD)) as implicit, SmtpServer("plain") as plain, \
            SmtpServer("plain", auth=(USER, PASSWORD)) as plain_auth, \
            SmtpServer("starttls", auth=(USER, PASSWORD), refuse={"nobody@example.com"}) as strict:
        tasks = [
            verify_task("implicit", smtp(implicit, tls_mode="implicit", smtp_username=USER, smtp_password=PASSWORD,
                                         from_address="o@example.com", to=["a@example.com"])),
            verify_task("anonymous", smtp(plain, from_address="o@example.com", to=["a@example.com"])),
            verify_task("plaintext refused", smtp(plain_auth, smtp_username=USER, smtp_password=PASSWORD,
                                                  from_address="o@example.com", to=["a@example.com"]),
                        ignore_errors=True),
            verify_task("plaintext allowed", smtp(plain_auth, smtp_username=USER, smtp_password=PASSWORD,
                                                  allow_plaintext_auth=True, from_address="o@example.com",
                                                  to=["a@example.com"])),
            verify_task("wrong password", smtp(strict, smtp_username=USER, smtp_password="nope-" + PASSWORD,
                                               from_address="o@example.com", to=["a@example.com"]),
                        ignore_errors=True),
            verify_task("refused recipient", smtp(strict, smtp_username=USER, smtp_password=PASSWORD,
                                                  from_address="o@example.com", to=["nobody@example.com"]),
                        ignore_errors=True),
            verify_task("no fallback to clear text", smtp(plain, secure=True, from_address="o@example.com",
                                                          to=["a@example.com"]), ignore_errors=True),
        ]
        result = ansible.playbook(render_play(tasks), verbosity=3)
        assert result.task("implicit")["tls_version"].startswith("TLSv1.")
        assert len(implicit.messages) == 1
        assert result.task("anonymous")["tls_version"] is None
        assert len(plain.messages) == 1
        assert result.task("plaintext refused")["cause"] == "plaintext_auth_refused"
        assert result.task("plaintext allowed")["changed"] is True and len(plain_auth.messages) == 1
        wrong = result.task("wrong password")
        assert wrong["cause"] == "auth_failed" and wrong["attempts"] == 1
        assert "535" in wrong["msg"]
        refused = result.task("refused recipient")
        assert refused["cause"] == "recipient_refused" and "550" in refused["msg"]
        assert result.task("no fallback to clear text")["cause"] == "starttls_not_offered"
        assert strict.messages == []
        assert_no_secret(result, PASSWORD)


def test_verify_retries_a_421_once(ansible):
    with SmtpServer("starttls", auth=(USER, PASSWORD), fail_mail=1) as server:
        args = smtp(server, smtp_username=USER, smtp_password=PASSWORD, from_address="o@example.com",
                    to=["a@example.com"], retry_delay=0.2)
        result = ansible.playbook(render_play([verify_task("send", args)]))
        sent = result.task("send")
        assert sent["changed"] is True and sent["attempts"] == 2
        assert len(server.messages) == 1
        assert server.fail_mail == 0


def test_verify_and_preflight_use_stored_settings(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    with SmtpServer("starttls", auth=(USER, PASSWORD)) as host_server, \
            SmtpServer("starttls", auth=("fin", PASSWORD + "-fin")) as org_server:
        config = {"host": {"smtp_host": "127.0.0.1", "smtp_port": host_server.port, "smtp_username": USER,
                           "smtp_password": PASSWORD, "from_address": "host@example.com"},
                  "organizations": {"finance": {"smtp_host": "127.0.0.1", "smtp_port": org_server.port,
                                                "smtp_username": "fin", "smtp_password": PASSWORD + "-fin",
                                                "from_address": "fin@example.com",
                                                "from_display_name": "Finance"}}}
        tasks = [
            {"name": "apply", "mailops.orchestrator_email.settings": {"config": config}},
            {"name": "preflight org", "mailops.orchestrator_email.preflight": {
                "organization": "finance", "ca_path": org_server.ca_path, "check_auth": True, "timeout": 3}},
            {"name": "verify org", "mailops.orchestrator_email.verify": {
                "organization": "finance", "ca_path": org_server.ca_path, "to": ["a@example.com"]}},
            {"name": "verify hr (inherits host)", "mailops.orchestrator_email.verify": {
                "organization": "hr", "ca_path": host_server.ca_path, "to": ["a@example.com"]}},
            {"name": "via store", "mailops.orchestrator_email.verify": {"via": "store", "to": ["a@example.com"]},
             "ignore_errors": True},
        ]
        result = ansible.playbook(render_play(tasks, store.module_defaults), verbosity=3)
        assert result.task("preflight org")["ok"] is True
        assert result.task("preflight org")["scope"] == "organization finance"
        assert result.task("verify org")["changed"] is True
        assert org_server.messages[0]["From"].endswith("<fin@example.com>")
        assert "organization finance" in org_server.messages[0]["Subject"]
        assert result.task("verify hr (inherits host)")["scope"] == "organization hr (host settings)"
        assert host_server.messages[0]["From"] == "host@example.com"
        assert result.task("via store")["cause"] == "unsupported"
        assert_no_secret(result, PASSWORD)
