"""The loopback SMTP server's CLI (used by the demo and molecule): ready file, STARTTLS + AUTH with
the CA it writes, a .eml per message in the maildir, a clean stop on SIGTERM."""
import email
import email.policy
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import time

from tests.lib.ansible_runner import ROOT

SCRIPT = os.path.join(ROOT, "tests", "lib", "smtp_servers.py")


def wait_for(path, proc, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no ready file within %ss" % seconds)


def test_serve_until_sigterm(tmp_path):
    maildir, ca_out, ready = tmp_path / "mail", tmp_path / "ca.pem", tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, SCRIPT, "serve", "--mode", "starttls", "--auth", "cli:pa:ss",
                             "--maildir", str(maildir), "--ca-out", str(ca_out), "--ready-file", str(ready)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(str(ready), proc)
        with open(str(ready)) as handle:
            info = json.load(handle)
        assert info["host"] == "127.0.0.1" and info["pid"] == proc.pid
        assert info["ca_path"] == str(ca_out) and os.path.exists(info["ca_path"])

        context = ssl.create_default_context(cafile=info["ca_path"])
        with smtplib.SMTP(info["host"], info["port"], timeout=5) as client:
            client.starttls(context=context)
            client.login("cli", "pa:ss")  # the password may contain a colon
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: cli test\r\nX-Token: t1\r\n\r\nhello\r\n")
        files = os.listdir(str(maildir))
        assert len(files) == 1 and files[0].endswith(".eml")
        with open(os.path.join(str(maildir), files[0]), "rb") as handle:
            message = email.message_from_bytes(handle.read(), policy=email.policy.default)
        assert message["X-Token"] == "t1" and message["Subject"] == "cli test"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert proc.returncode == 0
    assert not os.path.exists(str(ready)), "the ready file is removed on exit"
