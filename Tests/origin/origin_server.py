"""A small image origin on loopback for the URL-upload tests (the emulator fetches `url` uploads from it).

Usage: origin_server.py DIRECTORY [USER:PASSWORD]. Prints `listening on http://127.0.0.1:PORT` once ready.
Routes: /files/NAME serves DIRECTORY/NAME; /private/NAME the same behind HTTP basic auth (USER:PASSWORD);
/status/CODE answers CODE; /slow/NAME waits 30 s before serving NAME; /text answers plain text.
Every request is appended to DIRECTORY/requests.log as `METHOD PATH AUTHORIZATION-HEADER-PRESENT`.
"""
import base64
import http.server
import os
import sys
import time

DIRECTORY = sys.argv[1]
CREDENTIALS = sys.argv[2] if len(sys.argv) > 2 else "user:s3cret"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # quiet: the test reads requests.log instead
        pass

    def send_bytes(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def serve_file(self, name):
        path = os.path.join(DIRECTORY, os.path.basename(name))
        if not os.path.isfile(path):
            return self.send_bytes(404, b"not found", "text/plain")
        with open(path, "rb") as handle:
            self.send_bytes(200, handle.read(), "application/octet-stream")

    def do_GET(self):
        authorization = self.headers.get("Authorization")
        with open(os.path.join(DIRECTORY, "requests.log"), "a") as log:
            log.write(f"GET {self.path} {'auth' if authorization else 'noauth'}\n")
        parts = self.path.split("?", 1)[0].strip("/").split("/", 1)
        route, rest = parts[0], parts[1] if len(parts) > 1 else ""
        if route == "files":
            return self.serve_file(rest)
        if route == "private":
            expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
            if authorization != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="origin"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.serve_file(rest)
        if route == "status":
            return self.send_bytes(int(rest), b"origin error", "text/plain")
        if route == "slow":
            time.sleep(30)
            return self.serve_file(rest)
        if route == "text":
            return self.send_bytes(200, b"hello, this is not an image\n", "text/plain")
        self.send_bytes(404, b"not found", "text/plain")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
