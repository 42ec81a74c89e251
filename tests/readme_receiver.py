"""A webhook receiver written the README's way: it runs the README's own Python check
(`verify` and `verify_github`, taken from the README's ```python block, standard library only).

Usage:
  python readme_receiver.py README.md example SECRET ID TIMESTAMP BODY STANDARD_SIG GITHUB_SIG
      checks the README's worked example (with the clock set to TIMESTAMP); prints
      "standard=True github=True" when both signatures verify.
  python readme_receiver.py README.md serve SECRET
      listens on a free 127.0.0.1 port, prints "port N", then prints one JSON line per POST:
      {"id": webhook-id, "standard": bool, "github": bool}, and answers 200.
"""

import http.server
import json
import re
import sys
import time


def readme_code(readme_path):
    """The README's ```python block that defines verify()."""
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if "def verify(" in block:
            return block
    sys.exit("the README has no ```python block defining verify()")


def load_checks(readme_path):
    namespace = {}
    exec(compile(readme_code(readme_path), "README.md", "exec"), namespace)
    for name in ("verify", "verify_github"):
        if name not in namespace:
            sys.exit(f"the README's Python block defines no {name}()")
    return namespace


def example(checks, secret, msg_id, ts, body, standard_sig, github_sig):
    # The worked example is from 2021: run the replay check at that time.
    checks["time"].time = lambda: float(ts)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": standard_sig,
        "x-hub-signature-256": github_sig,
    }
    body = body.encode()
    standard = checks["verify"](secret, headers, body)
    github = checks["verify_github"](secret, headers, body)
    print(f"standard={standard} github={github}", flush=True)


def serve(checks, secret):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = {
                "id": headers.get("webhook-id", ""),
                "standard": checks["verify"](secret, headers, body),
                "github": checks["verify_github"](secret, headers, body),
            }
            print(json.dumps(record), flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


def main():
    checks = load_checks(sys.argv[1])
    mode = sys.argv[2]
    if mode == "example":
        example(checks, *sys.argv[3:9])
    elif mode == "serve":
        serve(checks, sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
