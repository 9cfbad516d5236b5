#!/usr/bin/env python3
"""Bounded request loop for the app-server scenarios (runs on the test host, stdlib only).

Sends GET / to a TCP address or a UNIX socket, a new connection each time, from a few
threads, until a stop file appears or --seconds have passed. It keeps a JSON summary in
--out (requests, failed, the first errors, how many answers each release gave, the last one),
rewritten every half second while it runs ("done": false) and once more at the end
("done": true), so a play can wait for "release X has answered" instead of sleeping a fixed
time that a slower machine would not meet.

    request_loop.py --tcp 127.0.0.1:3000 --out /root/loop.json --stop-file /root/loop.stop
    request_loop.py --unix /srv/www/sample/shared/tmp/sockets/unicorn.sock --out ... --stop-file ...
"""

import argparse
import collections
import http.client
import json
import os
import socket
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--tcp", help="host:port")
    target.add_argument("--unix", help="path of a UNIX socket")
    parser.add_argument("--out", required=True, help="where to write the JSON summary")
    parser.add_argument("--stop-file", required=True, help="stop once this file exists")
    # a bound, not a pace: the play stops the loop through the stop file as soon as it is done
    parser.add_argument("--seconds", type=float, default=900, help="stop after this long anyway")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds")
    args = parser.parse_args()

    def connection():
        if args.unix:
            return UnixHTTPConnection(args.unix, args.timeout)
        host, port = args.tcp.rsplit(":", 1)
        return http.client.HTTPConnection(host, int(port), timeout=args.timeout)

    lock = threading.Lock()
    answers = collections.Counter()
    errors = []
    counts = {"requests": 0, "failed": 0, "last": None}
    deadline = time.monotonic() + args.seconds

    def worker():
        while time.monotonic() < deadline and not os.path.exists(args.stop_file):
            conn = connection()
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                body = response.read().decode(errors="replace").strip()
                error = None if response.status == 200 else f"HTTP {response.status}: {body[:80]}"
            except (OSError, http.client.HTTPException) as exc:
                body, error = None, f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            with lock:
                counts["requests"] += 1
                if error:
                    counts["failed"] += 1
                    if len(errors) < 10:
                        errors.append(f"{time.strftime('%H:%M:%S')} {error}")
                else:
                    answers[body] += 1
                    counts["last"] = body
            time.sleep(0.02)

    def write(done):
        with lock:
            summary = dict(counts, errors=list(errors), answers=dict(answers), done=done)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as out:
            json.dump(summary, out)
        os.replace(tmp, args.out)

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        write(done=False)
        time.sleep(0.5)
    for thread in threads:
        thread.join()
    write(done=True)


if __name__ == "__main__":
    main()
