"""A local HTTP receiver for webhook deliveries, and the verification recipe of docs/api.md.

Deliveries are checked with the `standardwebhooks` library, as an integrator would, never with
our own signing code. Shared by the webhook tests and the generated-client test (plain module,
not a conftest).
"""

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

API_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def verifies_with(self, secret: str) -> bool:
        """What the Standard Webhooks library says of this delivery under `secret`."""
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split(" ")


class Receiver:
    """A tiny threaded HTTP server on 127.0.0.1 that records every POST and answers as told."""

    def __init__(self):
        self.received: list[Received] = []
        self.answers: deque = deque()  # (status, body) per request; then 200 "ok"
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(Received(headers=dict(self.headers.items()), body=body))
                status, reply = receiver.answers.popleft() if receiver.answers else (200, b"ok")
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *answers):
        for item in answers:
            self.answers.append(item if isinstance(item, tuple) else (item, b"status %d" % item))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def load_verify_recipe():
    """The signature check exactly as docs/api.md tells integrators to write it."""
    block = re.search(r"<!-- verify-recipe:start -->\s*```python\n(.*?)```\s*<!-- verify-recipe:end -->", API_GUIDE.read_text(), re.S)
    assert block, "docs/api.md lost its verification recipe"
    namespace: dict = {}
    exec(compile(block.group(1), str(API_GUIDE), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_tuckbox_webhook"]
