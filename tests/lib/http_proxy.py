"""A forwarding HTTP proxy on loopback (plain http only): it records each request it forwards, so a
test can prove that a client honours ``http_proxy``."""
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class ForwardingProxy(object):
    def __init__(self):
        self.forwarded = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                target = urlsplit(self.path)  # a proxy gets the absolute URI
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.forwarded.append((self.command, self.path, dict(self.headers)))
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("proxy-connection",))
                conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
                try:
                    conn.request(self.command, target.path + ("?" + target.query if target.query else ""),
                                 body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
