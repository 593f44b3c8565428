"""A webhook receiver for the API tests: an independent check of Erratum's
signatures with the `standardwebhooks` package from PyPI (the reference
implementation of the Standard Webhooks specification).

    python3 receiver.py PORT LOG [SECRET]

Listens on 127.0.0.1:PORT (0: any free port, printed on the first line of
stdout). Every POST is appended to LOG as one JSON line:
{"id", "verified", "body", "headers"}. With SECRET the signature is checked
(401 when it does not verify); without, the body is only recorded (chat).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, LOG = int(sys.argv[1]), sys.argv[2]
SECRET = sys.argv[3] if len(sys.argv) > 3 else None
verifier = Webhook(SECRET) if SECRET else None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = None
        if verifier is not None:
            try:
                verifier.verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        record = {
            "id": headers.get("webhook-id"),
            "verified": verified,
            "body": json.loads(body),
            "headers": {k: v for k, v in headers.items() if k.startswith("webhook-") or k == "content-type"},
        }
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(401 if verified is False else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
