"""verify through ansible-playbook against real SMTP servers on loopback; every delivered message is
read back from the server (headers, token, body), every run is -vvv and swept for the password."""
import json
import os

from tests.lib.backends import SqliteBackend, render_play
from tests.lib.smtp_servers import SmtpServer

PASSWORD = "Verify-Secret-9c4b"
USER = "mailer"
FROM = "orchestrator@example.com"


def smtp(server, **extra):
    args = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "secure": server.mode != "plain", "timeout": 3,
            "from_address": FROM, "to": ["ops@example.com"]}
    if server.ca_path:
        args["ca_path"] = server.ca_path
    args.update(extra)
    return args


# Passwords reach the playbooks as users pass vaulted variables: from a vars file, templated into
# the task. (A literal in the playbook would be shown by ansible-core itself: 2.19 prints the source
# lines around a failed task.)
SECRETS = {"smtp_password": PASSWORD, "fin_password": PASSWORD + "-fin"}


def creds(**extra):
    return dict(smtp_username=USER, smtp_password="{{ smtp_password }}", **extra)


def task(name, args, **extra):
    entry = {"name": name, "mailops.orchestrator_email.verify": args}
    entry.update(extra)
    return entry


def assert_no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.output, "a secret leaked into ansible-playbook output"
        assert secret not in json.dumps(result.records), "a secret leaked into a task result"


def test_check_mode_then_delivery_over_starttls_with_domain_login(ansible, tmp_path):
    maildir = str(tmp_path / "maildir")
    os.makedirs(maildir)
    with SmtpServer("starttls", auth=("CORP\\" + USER, PASSWORD), maildir=maildir) as server:
        args = smtp(server, smtp_domain="CORP", from_display_name="Orchestrator System Notifications",
                    to=["ops@example.com", "oncall@example.com"], **creds())
        check = ansible.playbook(render_play([task("verify", args)]), extra_vars=SECRETS, check=True, verbosity=3)
        assert check.rc == 0, check
        checked = check.task("verify")
        assert checked["changed"] is False and checked["sent"] is False
        assert checked["accepted"] == ["ops@example.com", "oncall@example.com"]
        assert checked["server_reply"].startswith("RSET")
        assert server.messages == [] and os.listdir(maildir) == []
        assert server.logins == [("CORP\\" + USER, True)], "check mode proves the credentials"

        result = ansible.playbook(render_play([task("verify", args)]), extra_vars=SECRETS, verbosity=3)
        assert result.rc == 0, result
        sent = result.task("verify")
        assert sent["changed"] is True and sent["sent"] is True and sent["attempts"] == 1
        assert sent["accepted"] == ["ops@example.com", "oncall@example.com"] and sent["refused"] == {}
        assert sent["server_reply"] == "250 Message accepted for delivery"
        assert sent["tls_version"] in ("TLSv1.2", "TLSv1.3")
        assert sent["auth_mechanism"] == "PLAIN"
        assert sent["scope"] == "host" and isinstance(sent["elapsed_ms"], int)
        assert len(sent["token"]) == 32

        assert len(server.messages) == 1
        message = server.messages[0]
        assert message["X-Orchestrator-Email-Verification"] == sent["token"]
        assert message["Message-ID"] == sent["message_id"]
        assert message["From"].addresses[0].display_name == "Orchestrator System Notifications"
        assert message["From"].addresses[0].addr_spec == FROM
        assert message["To"] == "ops@example.com, oncall@example.com"
        assert message["Date"].datetime is not None
        assert message["Subject"] == sent["subject"] and "host" in message["Subject"]
        body = message.get_content()
        assert sent["token"] in body and "host" in body and "127.0.0.1:%d" % server.port in body
        assert server.envelopes == [{"mail_from": FROM, "rcpt_tos": ["ops@example.com", "oncall@example.com"]}]
        assert server.logins[-1] == ("CORP\\" + USER, True)
        # The maildir copy is the same message.
        files = os.listdir(maildir)
        assert len(files) == 1 and files[0].endswith(".eml")
        with open(os.path.join(maildir, files[0]), "rb") as handle:
            assert sent["token"].encode() in handle.read()
        assert_no_secret(check, PASSWORD)
        assert_no_secret(result, PASSWORD)


def test_tls_modes_auth_mechanisms_and_permanent_failures(ansible):
    with SmtpServer("implicit", auth=(USER, PASSWORD)) as implicit, SmtpServer("plain") as plain, \
            SmtpServer("plain", auth=(USER, PASSWORD)) as plain_auth, \
            SmtpServer("starttls", auth=(USER, PASSWORD), exclude_auth=["PLAIN"]) as login_only, \
            SmtpServer("starttls", auth=(USER, PASSWORD), refuse={"nobody@example.com"}) as strict:
        tasks = [
            task("implicit", smtp(implicit, tls_mode="implicit", subject="Custom subject", body="Custom body",
                                  **creds())),
            task("anonymous plain", smtp(plain)),
            task("plaintext refused", smtp(plain_auth, **creds()), ignore_errors=True),
            task("plaintext allowed", smtp(plain_auth, allow_plaintext_auth=True, **creds())),
            task("login only", smtp(login_only, **creds())),
            task("wrong password", smtp(strict, smtp_username=USER, smtp_password="{{ smtp_password }}-wrong"),
                 ignore_errors=True),
            task("refused recipient", smtp(strict, to=["nobody@example.com"], **creds()), ignore_errors=True),
            task("one of two refused", smtp(strict, to=["nobody@example.com", "ops@example.com"], **creds())),
            task("no fallback to clear text", smtp(plain, secure=True), ignore_errors=True),
            task("untrusted certificate", smtp(strict, ca_path=None, **creds()), ignore_errors=True),
        ]
        result = ansible.playbook(render_play(tasks), extra_vars=SECRETS, verbosity=3)

        done = result.task("implicit")
        assert done["tls_version"] in ("TLSv1.2", "TLSv1.3") and done["changed"] is True
        assert len(implicit.messages) == 1
        assert implicit.messages[0]["Subject"] == "Custom subject"
        assert implicit.messages[0].get_content().strip() == "Custom body"
        assert implicit.messages[0]["X-Orchestrator-Email-Verification"] == done["token"]

        anonymous = result.task("anonymous plain")
        assert anonymous["tls_version"] is None and anonymous["auth_mechanism"] is None
        assert len(plain.messages) == 1 and plain.messages[0]["From"] == FROM

        refused_auth = result.task("plaintext refused")
        assert result.status("plaintext refused") == "failed" and refused_auth["cause"] == "plaintext_auth_refused"
        assert result.task("plaintext allowed")["changed"] is True
        assert len(plain_auth.messages) == 1 and plain_auth.logins == [(USER, True)]

        assert result.task("login only")["auth_mechanism"] == "LOGIN" and len(login_only.messages) == 1

        wrong = result.task("wrong password")
        assert wrong["cause"] == "auth_failed" and wrong["attempts"] == 1, "permanent: no retry"
        assert "535" in wrong["msg"] and wrong["smtp_code"] == 535
        refused = result.task("refused recipient")
        assert refused["cause"] == "recipient_refused" and refused["attempts"] == 1
        assert "550" in refused["msg"] and "nobody@example.com" in refused["refused"]
        partial = result.task("one of two refused")
        assert partial["accepted"] == ["ops@example.com"]
        assert partial["refused"]["nobody@example.com"].startswith("550")
        assert len(strict.messages) == 1
        assert strict.envelopes[0]["rcpt_tos"] == ["ops@example.com"]

        assert result.task("no fallback to clear text")["cause"] == "starttls_not_offered"
        assert len(plain.messages) == 1, "nothing was sent in clear text after secure failed"
        assert result.task("untrusted certificate")["cause"] == "certificate_untrusted"
        assert_no_secret(result, PASSWORD)


def test_a_421_is_retried_once_and_one_message_is_delivered(ansible):
    with SmtpServer("starttls", auth=(USER, PASSWORD), fail_mail=1) as server:
        args = smtp(server, retry_delay=0.2, **creds())
        result = ansible.playbook(render_play([task("send", args)]), extra_vars=SECRETS, verbosity=3)
        sent = result.task("send")
        assert sent["changed"] is True and sent["attempts"] == 2
        assert server.fail_mail == 0
        assert len(server.messages) == 1
        assert server.messages[0]["X-Orchestrator-Email-Verification"] == sent["token"]
        assert server.logins == [(USER, True), (USER, True)], "the retry is a new session"
        assert_no_secret(result, PASSWORD)


def test_a_lasting_temporary_failure_gives_up_after_the_retries(ansible):
    with SmtpServer("starttls", auth=(USER, PASSWORD), fail_mail=10) as server:
        args = smtp(server, retries=2, retry_delay=0.1, **creds())
        result = ansible.playbook(render_play([task("send", args, ignore_errors=True)]), extra_vars=SECRETS,
                                  verbosity=3)
        failed = result.task("send")
        assert result.status("send") == "failed" and failed["cause"] == "transient_failure"
        assert failed["attempts"] == 3 and failed["smtp_code"] == 421
        assert "421" in failed["msg"]
        assert server.fail_mail == 7 and server.messages == []
        assert_no_secret(result, PASSWORD)


def test_stored_settings_and_via_store(ansible, tmp_path):
    store = SqliteBackend(str(tmp_path))
    with SmtpServer("starttls", auth=(USER, PASSWORD)) as host_server, \
            SmtpServer("starttls", auth=("fin", PASSWORD + "-fin")) as org_server:
        config = {"host": {"smtp_host": "127.0.0.1", "smtp_port": host_server.port, "smtp_username": USER,
                           "smtp_password": "{{ smtp_password }}", "from_address": "host@example.com"},
                  "organizations": {"finance": {"smtp_host": "127.0.0.1", "smtp_port": org_server.port,
                                                "smtp_username": "fin", "smtp_password": "{{ fin_password }}",
                                                "from_address": "fin@example.com",
                                                "from_display_name": "Finance"}}}
        tasks = [
            {"name": "apply", "mailops.orchestrator_email.settings": {"config": config}},
            {"name": "preflight org", "mailops.orchestrator_email.preflight": {
                "organization": "finance", "ca_path": org_server.ca_path, "check_auth": True, "timeout": 3}},
            task("verify org", {"organization": "finance", "ca_path": org_server.ca_path, "to": ["a@example.com"]}),
            task("verify hr (inherits host)", {"organization": "hr", "ca_path": host_server.ca_path,
                                               "to": ["a@example.com"]}),
            task("explicit option overrides stored", {"ca_path": host_server.ca_path, "to": ["a@example.com"],
                                                      "from_address": "override@example.com"}),
            task("via store", {"via": "store", "to": ["a@example.com"]}, ignore_errors=True),
        ]
        result = ansible.playbook(render_play(tasks, store.module_defaults), extra_vars=SECRETS, verbosity=3)
        assert result.task("preflight org")["ok"] is True
        assert result.task("preflight org")["scope"] == "organization finance"
        assert result.task("verify org")["changed"] is True
        assert result.task("verify org")["scope"] == "organization finance"
        assert org_server.messages[0]["From"].addresses[0].display_name == "Finance"
        assert org_server.messages[0]["From"].addresses[0].addr_spec == "fin@example.com"
        assert "organization finance" in org_server.messages[0]["Subject"]
        assert org_server.logins[-1] == ("fin", True)
        assert result.task("verify hr (inherits host)")["scope"] == "organization hr (host settings)"
        assert [m["From"] for m in host_server.messages] == ["host@example.com", "override@example.com"]
        via = result.task("via store")
        assert result.status("via store") == "failed" and via["cause"] == "unsupported"
        assert "sqlite" in via["msg"] and "via: smtp" in via["msg"]
        assert_no_secret(result, PASSWORD, PASSWORD + "-fin")


UNICODE_PASSWORD = "Pässwörd-Zürich-€-密码-77"


def test_non_ascii_credentials_and_bad_options_never_reach_internal_error(ansible):
    """Issue 11: a non-ASCII password (UTF-8 on the wire, as the vendor's .NET stack sends it)
    through preflight and verify, and options that cannot make a message (CR/LF in the subject, a
    recipient that is not an address) refused with the option's path before any connection."""
    with SmtpServer("starttls", auth=(USER, UNICODE_PASSWORD)) as server:
        secrets = {"smtp_password": UNICODE_PASSWORD}
        preflight_args = dict({k: v for k, v in smtp(server).items() if k not in ("to", "from_address")},
                              check_auth=True, **creds())
        tasks = [{"name": "preflight", "mailops.orchestrator_email.preflight": preflight_args},
                 task("verify", smtp(server, subject="Prüfung ✉", **creds())),
                 task("crlf subject", smtp(server, subject="hi\r\nBcc: evil@example.com", **creds()),
                      ignore_errors=True),
                 task("not an address", smtp(server, to=["ops@example.com", "not an address"], **creds()),
                      ignore_errors=True)]
        result = ansible.playbook(render_play(tasks), extra_vars=secrets, verbosity=3)
        assert result.rc == 0, result
        assert result.task("preflight")["ok"] is True
        assert [c["status"] for c in result.task("preflight")["checks"] if c["name"] == "auth"] == ["ok"]
        assert result.task("verify")["sent"] is True
        assert server.logins == [(USER, True), (USER, True)]
        assert len(server.messages) == 1 and server.messages[0]["Subject"] == "Prüfung ✉"
        for name, path in (("crlf subject", "subject"), ("not an address", "to[1]")):
            failed = result.task(name)
            assert result.status(name) == "failed" and failed["cause"] == "invalid_option", failed
            assert path in failed["msg"] and "nothing was sent" in failed["msg"]
        assert len(server.envelopes) == 1, "a refused option must not open a mail transaction"
        assert_no_secret(result, UNICODE_PASSWORD)
