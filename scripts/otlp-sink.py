#!/usr/bin/env python3
"""A local OTLP/HTTP receiver for benchmarks: accepts every export (traces,
metrics, logs) with an empty protobuf answer, counts requests and bytes.
Usage: otlp-sink.py PORT   (listens on 127.0.0.1; prints counts on SIGTERM)"""
import http.server, signal, sys, threading

counts = {"requests": 0, "bytes": 0}
lock = threading.Lock()

class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        self.rfile.read(n)
        with lock:
            counts["requests"] += 1
            counts["bytes"] += n
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
def stop(*_):
    print(f"otlp-sink: {counts['requests']} exports, {counts['bytes']} bytes", flush=True)
    threading.Thread(target=srv.shutdown).start()
signal.signal(signal.SIGTERM, stop)
srv.serve_forever()
