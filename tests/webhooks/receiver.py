"""A partner's webhook receiver, run as its own process by the tests.

Every request's signature is checked with the reference ``standardwebhooks`` package
against each secret listed in the secrets file (re-read per request, so a test can
rotate): a request is genuine when one of them verifies, and the line records how many
did (during a rotation, 2: the new and the old secret's signatures are both in the
header). Each verified request is appended to the output file as one JSON line
(webhook-id, the signature count, the secrets that verified, the payload) before it is
answered; a refused one is appended with its error and answered 400.

    python receiver.py PORT SECRETS_FILE OUT_FILE [--status CODE] [--die-after N]

``--any-time``: check signatures whatever the timestamp (a
sender on a test's clock). ``--status``: answer every request with this code (500,
410...). ``--die-after N``: after recording the N-th request, exit at once without
answering it (a crash between the receiver doing the work and the sender hearing so:
the sender must redeliver).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

_lock = Lock()
_seen = [0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("secrets", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--die-after", type=int, default=0)
    parser.add_argument("--any-time", action="store_true")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            line: dict[str, object] = {
                "id": headers.get("webhook-id"),
                "signatures": len(headers.get("webhook-signature", "").split()),
                "secrets": 0,
            }
            # As a partner verifies during a rotation: the request is genuine when one
            # trusted secret's signature matches ("secrets" counts those that do: a request
            # signed before the rotation carries the old secret's only).
            errors: list[str] = []
            for secret in [s for s in args.secrets.read_text().split() if s]:
                try:
                    if args.any_time:  # a sender on a test's clock, days ahead
                        _verify_any_time(Webhook(secret), body, headers)
                    else:
                        Webhook(secret).verify(body, headers)
                    line["secrets"] = int(str(line["secrets"])) + 1
                except (WebhookVerificationError, ValueError) as exc:
                    errors.append(str(exc) or type(exc).__name__)
            if line["secrets"]:
                line["payload"] = json.loads(body)
                status = args.status
            else:
                line["error"] = "; ".join(errors) or "no secret to verify with"
                status = 400
            with _lock, args.out.open("a") as out:
                out.write(json.dumps(line) + "\n")
                out.flush()
                os.fsync(out.fileno())
                _seen[0] += 1
                if args.die_after and _seen[0] >= args.die_after:
                    os._exit(3)  # recorded, never answered
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def _verify_any_time(hook: Webhook, body: bytes, headers: dict[str, str]) -> None:
    """The reference signature, whatever the timestamp's distance from our clock."""
    when = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = hook.sign(headers["webhook-id"], when, body.decode())
    if expected not in headers["webhook-signature"].split():
        raise WebhookVerificationError("No matching signature found")


if __name__ == "__main__":
    main()
