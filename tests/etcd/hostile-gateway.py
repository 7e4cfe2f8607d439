#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A member of an etcd cluster gone bad (or a proxy in its place), on loopback.

    hostile-gateway.py MODE PORTFILE LOGFILE [ARG]

Listens on 127.0.0.1, a free port the kernel picks, written to PORTFILE once
it listens; appends every request (path and headers, as Python reprs) to
LOGFILE; stops after 120 s whatever happens. With GATEWAY_CERT and
GATEWAY_KEY (PEM files) in the environment it speaks HTTPS. MODE:

  body JSON           every POST is answered 200 with JSON
  succeeded-string    a write (a txn with compares) is answered
                      {"succeeded": "false"}: a string, not etcd's boolean;
                      reads get empty ranges
  token-crlf          /v3/auth/authenticate answers a token holding CR/LF and
                      a header of the member's choice; the rest, empty ranges
  oversized MIB       every POST is answered with MIB MiB of small key-values
  records N           reads get N distinct, well-formed vifmac records
  proxy               not HTTP: records each connection ("connect") and closes
"""
import base64
import json
import os
import ssl
import socketserver
import sys
import threading
import http.server

mode, portfile, logfile = sys.argv[1:4]
arg = sys.argv[4] if len(sys.argv) > 4 else ""


def log(line):
    with open(logfile, "a") as f:
        f.write(line + "\n")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def empty_ranges(request):
    n = len(request.get("success", []))
    return {"header": {"revision": "5"}, "responses": [{"response_range": {"header": {}}}] * n}


def record(i):
    mac = "02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)
    rec = {"mac": mac, "scope": "*", "state": "active", "domain": "dom%d" % i,
           "uuid": "11111111-1111-4111-8111-%012x" % i, "devid": 0, "bridge": "xenbr0",
           "ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255), "host": "h",
           "created": 1, "updated": 1, "note": "", "source": ""}
    return {"key": b64("/vifmac/m/%s/*" % mac), "value": b64(json.dumps(rec)), "mod_revision": "3"}


class Gateway(http.server.BaseHTTPRequestHandler):
    def answer(self, body):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client refused to read it all: what an oversized answer is for

    def do_POST(self):
        log(repr(self.path) + " " + repr(sorted(self.headers.items())))
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            request = {}
        if mode == "body":
            self.answer(arg.encode())
        elif mode == "succeeded-string":
            if request.get("compare"):
                self.answer({"header": {"revision": "5"}, "succeeded": "false"})
            else:
                self.answer(empty_ranges(request))
        elif mode == "token-crlf":
            if self.path == "/v3/auth/authenticate":
                self.answer({"header": {}, "token": "tok\r\nX-Injected: by-the-member"})
            else:
                self.answer(empty_ranges(request))
        elif mode == "oversized":
            kv = json.dumps({"key": b64("/vifmac/m/x"), "value": ""}).encode()
            n = int(arg) * 1024 * 1024 // (len(kv) + 1)
            self.answer(b'{"header":{"revision":"5"},"responses":[{"response_range":{"kvs":['
                        + b",".join([kv] * n) + b"]}}]}")
        elif mode == "records":
            kvs = [record(i) for i in range(int(arg))]
            n = len(request.get("success", [])) or 1
            self.answer({"header": {"revision": "5"},
                         "responses": [{"response_range": {"kvs": kvs}}] + [{"response_range": {}}] * (n - 1)})

    def log_message(self, *args):
        pass


class Proxy(socketserver.BaseRequestHandler):
    def handle(self):
        log("connect")
        self.request.close()


if mode == "proxy":
    srv = socketserver.TCPServer(("127.0.0.1", 0), Proxy)
else:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    if os.environ.get("GATEWAY_CERT"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(os.environ["GATEWAY_CERT"], os.environ["GATEWAY_KEY"])
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
stop = threading.Timer(120, srv.shutdown)
stop.daemon = True
stop.start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
