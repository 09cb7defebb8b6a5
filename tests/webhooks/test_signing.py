"""Our signer against the reference implementation (the ``standardwebhooks`` package)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shopguard.webhooks import signing


def test_signatures_verify_with_the_reference_package() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    body, now = b'{"type":"decision.alert","data":{"event_id":"e1"}}', int(time.time())
    headers = signing.headers([secret], "msg_1", now, body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "decision.alert",
        "data": {"event_id": "e1"},
    }
    reference = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), body.decode())
    assert headers["webhook-signature"] == reference


def test_during_a_rotation_either_secret_verifies() -> None:
    new, old = signing.new_secret(), signing.new_secret()
    body, now = b"{}", int(time.time())
    headers = signing.headers([new, old], "msg_2", now, body)
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_changed_body_id_or_time_fails_verification() -> None:
    secret = signing.new_secret()
    now = int(time.time())
    headers = signing.headers([secret], "msg_3", now, b'{"a":1}')
    for body, changed in ((b'{"a":2}', {}), (b'{"a":1}', {"webhook-id": "msg_4"}),
                          (b'{"a":1}', {"webhook-timestamp": str(now + 1)})):  # fmt: skip
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**headers, **changed})
