#!/usr/bin/env python3
"""Start-up to first request of a plugin: starts a tiny HTTP server on
127.0.0.1, runs `wasp run PLUGIN -u 1` against it, and prints the seconds from
launching wasp to the server's first request. Usage:
    startup.py WASP PLUGIN CACHE_DIR      (an empty CACHE_DIR: a cold start)"""
import http.server
import os
import subprocess
import sys
import threading
import time

first = threading.Event()
stamp = {}


class Handler(http.server.BaseHTTPRequestHandler):
    def _ok(self):
        if not first.is_set():
            stamp["t"] = time.monotonic()
            first.set()
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _ok

    def log_message(self, *a):
        pass


def main():
    wasp, plugin, cache = sys.argv[1:4]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ, WASP_CACHE_DIR=cache)
    t0 = time.monotonic()
    p = subprocess.Popen([wasp, "run", plugin, "-H", f"http://127.0.0.1:{srv.server_port}", "-u", "1", "-t", "60s",
                          "--wait", "1s", "--only-summary", "-L", "warn"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = first.wait(120)
    p.terminate()
    p.wait(30)
    srv.shutdown()
    print(f"{stamp['t'] - t0:.3f}" if ok else "none")


if __name__ == "__main__":
    main()
