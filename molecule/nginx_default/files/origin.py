"""Stand-in CloudFront origin for the nginx_default scenario's sorry site.

    origin.py CERT KEY ROOT

Serves HTTPS on port 443 (all addresses) with CERT/KEY (issued by the scenario's test CA for
the fake distribution names, which Docker's DNS resolves to this container). A request for
Host H and path P gets ROOT/H/P, or 403 when there is no such file (as CloudFront in front of
S3 answers a missing key). Every answer says what the origin saw: X-Origin-Host (the Host
header), X-Origin-Sni (the TLS server name) and X-Origin-Uri (the request target), and carries
a long Cache-Control, which the sorry page must not pass on to the client.
"""

from __future__ import annotations

import mimetypes
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Handler(BaseHTTPRequestHandler):
    root = Path("/")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = unquote(urlsplit(self.path).path)
        site = (self.root / host).resolve()
        target = (site / path.lstrip("/")).resolve()
        found = host and target.is_relative_to(site) and target.is_file()
        body = target.read_bytes() if found else b"<Error><Code>AccessDenied</Code></Error>"
        self.send_response(200 if found else 403)
        self.send_header("Content-Type", (mimetypes.guess_type(target.name)[0] if found else None) or "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=86400")
        self.send_header("X-Origin-Host", self.headers.get("Host") or "")
        self.send_header("X-Origin-Sni", getattr(self.connection, "sni", None) or "")
        self.send_header("X-Origin-Uri", self.path)
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    cert, key, root = sys.argv[1:4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, _ctx: setattr(sock, "sni", name)
    Handler.root = Path(root)
    server = ThreadingHTTPServer(("0.0.0.0", 443), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
