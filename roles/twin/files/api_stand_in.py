"""A stand-in for an outside HTTP API in the local twin: it answers every request and logs it.

The bot stack's tasks reply through the LINE Messaging API (BOT_API_BASE). In the twin that
variable points at this process instead (the container <stack>-api, roles/twin/tasks/ecs.yml),
so nothing leaves the machine and a check can read what the bot sent: playbooks/bot/smoke.yml
looks in the request log (twin_outputs.api_requests_file) for the reply to its webhook.

    python3 api_stand_in.py serve PORT LOG_FILE

Every request, any method and path, is answered 200 with the JSON body `{}`, except
`GET /__health`, answered 200 `ok` (the container's health check; neither logged nor printed).
Every other request is appended to LOG_FILE as one JSON line, written whole and flushed at once:

    {"time": ISO-8601 UTC, "method", "path", "authorization_sha256", "content_type", "body"}

`authorization_sha256` is the hex SHA-256 of the whole Authorization header value ("Bearer
<token>"), or null without one: the value itself is a secret and is never written anywhere, to
the log file or to stdout, so a check compares hashes. `body` is the JSON the request carried,
parsed, or else its text; null when there is none. At most the first 64 KiB of a body are read
(a longer one is not JSON any more: it is logged as text).

One short line per request goes to stdout (method, path, body size; no header). The first line
says where it listens (PORT 0 takes a free port). SIGTERM or SIGINT: the requests in flight are
answered, then the process exits 0.
"""

import datetime
import hashlib
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024
HEALTH_PATH = "/__health"
USAGE = "usage: api_stand_in.py serve PORT LOG_FILE"


class RequestLog:
    """The request log: one JSON object per line, each written whole under a lock and flushed."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass  # there from the start: a reader finds it empty rather than missing

    def append(self, record):
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()


def read_body(handler):
    """The request body's first MAX_BODY bytes; the rest is read and dropped (the connection stays sane)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        kept = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(kept)
            chunk = handler.rfile.read(size)
            handler.rfile.readline()  # the CRLF after the chunk
            kept += chunk[: max(0, MAX_BODY - len(kept))]
    try:
        length = max(0, int(handler.headers.get("Content-Length") or 0))
    except ValueError:
        length = 0
    kept = handler.rfile.read(min(length, MAX_BODY))
    left = length - len(kept)
    while left > 0:
        dropped = handler.rfile.read(min(left, MAX_BODY))
        if not dropped:
            break
        left -= len(dropped)
    return kept


def parse_body(raw):
    """The body as JSON when it is JSON, else as text; None when empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class Handler(BaseHTTPRequestHandler):
    server_version = "kumo-api-stand-in"
    timeout = 10  # seconds: a silent client cannot hold a thread (or the shutdown) for long
    request_log: RequestLog  # set by serve()

    def __getattr__(self, name):
        # http.server calls do_<METHOD>: every method gets the same answer.
        if name.startswith("do_"):
            return self.answer
        raise AttributeError(name)

    def answer(self):
        raw = read_body(self)
        if self.command == "GET" and self.path == HEALTH_PATH:
            self.send(b"ok", "text/plain")
            return
        auth = self.headers.get("Authorization")
        self.request_log.append(
            {
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                "method": self.command,
                "path": self.path,
                "authorization_sha256": hashlib.sha256(auth.encode("utf-8")).hexdigest() if auth is not None else None,
                "content_type": self.headers.get("Content-Type"),
                "body": parse_body(raw),
            }
        )
        print(f"{self.command} {self.path} {len(raw)} bytes -> 200", flush=True)
        self.send(b"{}", "application/json")

    def send(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        pass  # answer() prints its own line; the health checks print nothing

    def log_message(self, format, *args):
        # Errors only (a malformed request): the request line at most, never a header.
        print(format % args, flush=True)


def serve(port, log_file):
    Handler.request_log = RequestLog(log_file)
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = False  # server_close() waits for the requests in flight

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so not from this (its) thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"api stand-in listening on 0.0.0.0:{server.server_address[1]}, logging to {log_file}", flush=True)
    server.serve_forever()
    server.server_close()
    print("api stand-in stopped", flush=True)
    return 0


def main(argv):
    if len(argv) != 4 or argv[1] != "serve" or not argv[2].isdigit() or int(argv[2]) > 65535:
        print(USAGE, file=sys.stderr)
        return 2
    return serve(int(argv[2]), argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
