"""Stand-in app server for the nginx_default scenario (Puma or Unicorn in its place).

    backend.py tcp:127.0.0.1:3000
    backend.py unix:/srv/www/sample/shared/tmp/sockets/unicorn.sock

Answers every request with JSON: where it listens, the method, path, headers, the size of
the body, and every path it has been asked for so far (so a test can tell which requests
never reached it).
"""

from __future__ import annotations

import json
import os
import socketserver
import sys
from http.server import BaseHTTPRequestHandler

SEEN: list[str] = []


class Handler(BaseHTTPRequestHandler):
    listen = ""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        SEEN.append(self.path)
        data = json.dumps(
            {
                "listen": self.listen,
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body_bytes": len(body),
                "seen": SEEN,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def address_string(self) -> str:  # a UNIX socket's peer has no address
        return "-"

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main(listen: str) -> None:
    Handler.listen = listen
    kind, _, where = listen.partition(":")
    if kind == "unix":
        if os.path.exists(where):
            os.unlink(where)
        server = UnixServer(where, Handler)
        os.chmod(where, 0o660)
    else:
        host, _, port = where.rpartition(":")
        server = TCPServer((host, int(port)), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
