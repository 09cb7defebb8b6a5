"""Signed webhooks to partners: the alerts outbox, list changes and recommendations,
delivered at least once to each tenant's own endpoints per the Standard Webhooks
specification (docs/webhooks.md)."""

from shopguard.webhooks.signing import new_secret, sign, signature_header

__all__ = ["new_secret", "sign", "signature_header"]
