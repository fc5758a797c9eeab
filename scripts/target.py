#!/usr/bin/env python3
"""A tiny local target for trying wasp: GET / and POST /items (JSON), on 127.0.0.1.

Prints the port it listens on, then serves until killed.
"""
import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to some answers.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200, {"hello": "wasp"})

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        try:
            item = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return self._answer(400, {"error": "bad json"})
        self._answer(201 if isinstance(item, dict) else 400, {"created": item})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
