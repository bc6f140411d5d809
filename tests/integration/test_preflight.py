"""preflight through ansible-playbook against real SMTP servers and real faults on loopback.

One playbook (check mode, -vvv) runs every case against servers started here; each test then
asserts on its task's result: the exact diagnosis code of each fault, the checks, the timings.
"""
import ssl

import pytest

from tests.lib.ansible_runner import Ansible
from tests.lib.backends import render_play
from tests.lib.smtp_servers import (
    Authority,
    FilteredPort,
    SilentServer,
    SmtpServer,
    closed_port,
    revocation_cert,
)

PASSWORD = "Preflight-Secret-5d1e"
USER = "mailer"
CHECKS = ["dns", "tcp", "smtp", "tls", "revocation", "auth"]


def smtp(server, **extra):
    args = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "secure": server.mode != "plain", "timeout": 2,
            "fail_on_error": False}
    if server.ca_path:
        args["ca_path"] = server.ca_path
    args.update(extra)
    return dict((k, v) for k, v in args.items() if v is not None)


def creds(**extra):
    # As users pass vaulted variables (a literal in the playbook would be shown by ansible-core 2.19
    # itself, in the source lines it prints around a failed task).
    return dict(smtp_username=USER, smtp_password="{{ smtp_password }}", **extra)


@pytest.fixture(scope="module")
def run(collections_path, tmp_path_factory):
    """Start every server and fault, run one playbook with a task per case, stop them all."""
    workdir = tmp_path_factory.mktemp("preflight")
    authority = Authority(str(workdir))
    servers = {
        "starttls": SmtpServer("starttls", auth=(USER, PASSWORD), authority=authority),
        "implicit": SmtpServer("implicit", auth=(USER, PASSWORD), authority=authority),
        "plain": SmtpServer("plain"),
        "plain_auth": SmtpServer("plain", auth=(USER, PASSWORD)),
        "expired": SmtpServer("starttls", authority=authority, context=authority.expired_context()),
        "other_name": SmtpServer("starttls", authority=authority,
                                 context=authority.server_context("other.example.net")),
        "tls12": SmtpServer("starttls", authority=authority,
                            context=authority.server_context(max_version=ssl.TLSVersion.TLSv1_2)),
    }
    # A certificate whose CRL and OCSP URLs name closed loopback ports: the port-80 substitutes.
    crl_port, ocsp_port = closed_port(), closed_port()
    context, revocation_ca, crl_url, ocsp_url = revocation_cert(str(workdir), crl_port, ocsp_port)
    servers["revocation"] = SmtpServer("starttls", authority=authority, context=context)
    # ... and one whose URLs name a listening port (the STARTTLS server's).
    reach_dir = workdir / "reachable"
    reach_dir.mkdir()
    good_port = servers["starttls"].port
    reach_context, reach_ca, _crl, _ocsp = revocation_cert(str(reach_dir), good_port, good_port)
    servers["revocation_ok"] = SmtpServer("starttls", authority=authority, context=reach_context)
    for server in servers.values():
        server.start()
    silent = SilentServer().__enter__()
    filtered = FilteredPort()
    good = servers["starttls"]
    closed = closed_port()
    cases = {
        # the good paths
        "ok starttls": smtp(good, check_auth=True, **creds()),
        "ok implicit": smtp(servers["implicit"], tls_mode="implicit", check_auth=True, **creds()),
        "ok plain anonymous": smtp(servers["plain"]),
        "ok revocation reachable": smtp(servers["revocation_ok"], ca_path=reach_ca,
                                        http_probe_hosts=["127.0.0.1:%d" % good.port, "localhost:%d" % good.port]),
        # one real fault per diagnosis code
        "dns_failure": dict(smtp(good), smtp_host="no-such-host.invalid"),
        "port_closed": smtp(good, smtp_port=closed),
        "port_filtered": smtp(good, smtp_port=filtered.port, timeout=1),
        "not_smtp": smtp(good, smtp_port=silent.port, secure=False, timeout=1),
        "starttls_not_offered": smtp(servers["plain"], secure=True),
        "tls_mode_mismatch implicit TLS on the STARTTLS port": smtp(servers["implicit"], timeout=1),
        "tls_mode_mismatch STARTTLS server used as implicit": smtp(good, tls_mode="implicit"),
        "certificate_untrusted": smtp(good, ca_path=None),
        "certificate_expired": smtp(servers["expired"]),
        "hostname_mismatch": smtp(servers["other_name"]),
        "revocation_unreachable": smtp(servers["revocation"], ca_path=revocation_ca),
        "revocation_unreachable http_probe_hosts": smtp(good, http_probe_hosts=["127.0.0.1:%d" % closed]),
        "tls_version_mismatch": smtp(servers["tls12"], min_tls_version="1.3"),
        "auth_failed": smtp(good, check_auth=True, smtp_username=USER, smtp_password="{{ smtp_password }}-wrong"),
        # warnings, not failures
        "plaintext auth not sent": smtp(servers["plain_auth"], check_auth=True, **creds()),
        "plaintext auth allowed": smtp(servers["plain_auth"], check_auth=True, allow_plaintext_auth=True, **creds()),
        "certificate not validated": smtp(servers["expired"], validate_certs=False),
    }
    tasks = [{"name": name, "mailops.orchestrator_email.preflight": args} for name, args in cases.items()]
    failing = dict(cases["port_closed"])
    failing.pop("fail_on_error")
    tasks.append({"name": "fails by default", "mailops.orchestrator_email.preflight": failing,
                  "ignore_errors": True})
    ansible = Ansible(collections_path, str(workdir))
    try:
        result = ansible.playbook(render_play(tasks), extra_vars={"smtp_password": PASSWORD}, check=True, verbosity=3,
                                  timeout=180)
    finally:
        filtered.__exit__()
        silent.__exit__()
        for server in servers.values():
            server.stop()
    result.servers = servers
    result.urls = {"crl": crl_url, "ocsp": ocsp_url, "crl_port": crl_port, "ocsp_port": ocsp_port}
    return result


def by_name(outcome, name):
    return [c for c in outcome["checks"] if c["name"] == name]


def statuses(outcome):
    return [(c["name"], c["status"]) for c in outcome["checks"]]


FAULTS = [
    ("dns_failure", "dns_failure", "dns"),
    ("port_closed", "port_closed", "tcp"),
    ("port_filtered", "port_filtered", "tcp"),
    ("not_smtp", "not_smtp", "smtp"),
    ("starttls_not_offered", "starttls_not_offered", "smtp"),
    ("tls_mode_mismatch implicit TLS on the STARTTLS port", "tls_mode_mismatch", "smtp"),
    ("tls_mode_mismatch STARTTLS server used as implicit", "tls_mode_mismatch", "tls"),
    ("certificate_untrusted", "certificate_untrusted", "tls"),
    ("certificate_expired", "certificate_expired", "tls"),
    ("hostname_mismatch", "hostname_mismatch", "tls"),
    ("revocation_unreachable", "revocation_unreachable", "revocation"),
    ("revocation_unreachable http_probe_hosts", "revocation_unreachable", "revocation"),
    ("tls_version_mismatch", "tls_version_mismatch", "tls"),
    ("auth_failed", "auth_failed", "auth"),
]


@pytest.mark.parametrize("task,code,check", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_has_its_exact_diagnosis(run, task, code, check):
    outcome = run.task(task)
    assert outcome["changed"] is False and outcome["ok"] is False
    assert [d["code"] for d in outcome["diagnosis"]] == [code], outcome["checks"]
    assert outcome["diagnosis"][0]["check"] == check
    assert outcome["diagnosis"][0]["remedy"]
    failed = [c for c in outcome["checks"] if c["status"] == "failed"]
    assert failed and {c["name"] for c in failed} == {check}
    assert all(c["cause"] == code for c in failed)
    # Every planned check is reported once, in order; nothing runs after a connection-level failure.
    assert sorted(set(c["name"] for c in outcome["checks"]), key=CHECKS.index) == CHECKS
    if check not in ("revocation", "auth"):
        assert all(c["status"] == "skipped" for c in outcome["checks"][CHECKS.index(check) + 1:])


def test_all_checks_pass_over_starttls_with_auth(run):
    outcome = run.task("ok starttls")
    assert outcome["ok"] is True and outcome["diagnosis"] == [] and outcome["changed"] is False
    assert statuses(outcome) == [("dns", "ok"), ("tcp", "ok"), ("smtp", "ok"), ("tls", "ok"),
                                 ("revocation", "skipped"), ("auth", "ok")]
    smtp_check = by_name(outcome, "smtp")[0]
    assert smtp_check["detail"].startswith("banner 220 ") and "starttls" in smtp_check["detail"]
    assert "AUTH PLAIN" in by_name(outcome, "auth")[0]["detail"]
    tls = outcome["tls"]
    assert tls["tls_version"] in ("TLSv1.2", "TLSv1.3") and tls["cipher"]
    assert "IP Address:127.0.0.1" in tls["sans"] and tls["not_after"] and tls["issuer"]
    assert outcome["settings"]["smtp_password"] == "********"
    assert outcome["scope"] == "host"
    assert all(isinstance(c["elapsed_ms"], int) for c in outcome["checks"])
    assert run.servers["starttls"].logins[0] == (USER, True)


def test_implicit_tls_handshake_comes_before_smtp(run):
    outcome = run.task("ok implicit")
    assert outcome["ok"] is True
    assert [c["name"] for c in outcome["checks"]] == ["dns", "tcp", "tls", "smtp", "revocation", "auth"]
    assert all(c["status"] in ("ok", "skipped") for c in outcome["checks"])


def test_plain_anonymous_skips_tls_and_auth(run):
    outcome = run.task("ok plain anonymous")
    assert outcome["ok"] is True and outcome["tls"] is None
    assert dict(statuses(outcome))["tls"] == "skipped" and dict(statuses(outcome))["auth"] == "skipped"


def test_revocation_probes_every_crl_and_ocsp_url_on_its_port(run):
    outcome = run.task("revocation_unreachable")
    assert outcome["tls"]["crl_urls"] == [run.urls["crl"]]
    assert outcome["tls"]["ocsp_urls"] == [run.urls["ocsp"]]
    assert by_name(outcome, "tls")[0]["status"] == "ok"
    assert [(c["target"], c["status"]) for c in by_name(outcome, "revocation")] == [
        ("127.0.0.1:%d" % run.urls["crl_port"], "failed"), ("127.0.0.1:%d" % run.urls["ocsp_port"], "failed")]
    assert "port 80" in outcome["diagnosis"][0]["remedy"]

    reachable = run.task("ok revocation reachable")
    good_port = run.servers["starttls"].port
    assert reachable["ok"] is True, reachable["checks"]
    # The CRL and OCSP URLs and the first probe host are one target, probed once.
    assert [(c["target"], c["status"]) for c in by_name(reachable, "revocation")] == [
        ("127.0.0.1:%d" % good_port, "ok"), ("localhost:%d" % good_port, "ok")]


def test_a_filtered_port_costs_one_timeout(run):
    tcp = by_name(run.task("port_filtered"), "tcp")[0]
    assert 900 <= tcp["elapsed_ms"] < 2500
    closed = by_name(run.task("port_closed"), "tcp")[0]
    assert closed["elapsed_ms"] < 500, "a closed port is refused at once"


def test_tls_version_mismatch_names_the_servers_version(run):
    tls = by_name(run.task("tls_version_mismatch"), "tls")[0]
    assert "TLSv1.2" in tls["detail"]


def test_credentials_are_not_sent_in_clear_unless_allowed(run):
    withheld = run.task("plaintext auth not sent")
    assert withheld["ok"] is True and withheld["diagnosis"] == []
    auth = by_name(withheld, "auth")[0]
    assert auth["status"] == "warning" and "allow_plaintext_auth" in auth["detail"]
    allowed = run.task("plaintext auth allowed")
    assert by_name(allowed, "auth")[0]["status"] == "ok"
    assert run.servers["plain_auth"].logins == [(USER, True)]


def test_unvalidated_certificate_is_a_warning(run):
    outcome = run.task("certificate not validated")
    assert outcome["ok"] is True
    tls = by_name(outcome, "tls")[0]
    assert tls["status"] == "warning" and "NOT verified" in tls["detail"]


def test_fails_by_default_with_the_cause(run):
    assert run.status("fails by default") == "failed"
    outcome = run.task("fails by default")
    assert outcome["cause"] == "port_closed"
    assert [d["code"] for d in outcome["diagnosis"]] == ["port_closed"]
    assert "port_closed" in outcome["msg"]


def test_password_never_in_output(run):
    assert PASSWORD not in run.output
    assert PASSWORD not in repr(run.records)
