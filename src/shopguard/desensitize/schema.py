"""The names and types of the facts desensitize produces: what rules and filters may read."""

from __future__ import annotations

NUM, STR, BOOL = "num", "str", "bool"

# Entity kinds: the facts holding an identity (pseudonym, or a clear business id).
# Lists, feature keys and distinct counts work on these. ``address`` is the canonical
# address (desensitize/address.py): the variants of one address are one pseudonym.
PSEUDONYMIZED = (
    "account",
    "device",
    "ip",
    "ip24",
    "phone",
    "email",
    "card",
    "address",
    "id_number",
    "user_agent",  # the exact string: a link signal too (docs/events.md, "Link signals")
    "referrer",
    # link signals: keys many accounts of one ring share, each a pseudonym like the rest
    "phone_block",  # the phone without its last phone_block_digits digits
    "address_building",  # the canonical address without unit, room or floor
    "email_pattern",  # the e-mail local part's shape at its domain
    "device_model",  # the device's model and OS
    "ip16",  # the IPv4 /16 or IPv6 /32
)
CLEAR_IDS = (
    "merchant",
    "campaign",
    "coupon",
    "cabinet",
    "sku",
    "product_code",
    "terminal",
    "order_id",
    "session_id",
)
ENTITY_KINDS = frozenset(PSEUDONYMIZED + CLEAR_IDS)

FACT_TYPES: dict[str, str] = {
    **{kind: STR for kind in ENTITY_KINDS},
    "event_id": STR,
    "type": STR,
    "tenant": STR,
    "channel": STR,
    "time": NUM,
    "hour": NUM,
    "device_emulator": BOOL,
    "device_rooted": BOOL,
    "device_hooked": BOOL,
    "device_proxy": BOOL,
    "device_os": STR,
    "ip_version": NUM,
    "phone_country": STR,
    "phone_segment": STR,
    "phone_virtual": BOOL,
    "phone_hashed": BOOL,
    "email_domain": STR,
    "email_disposable": BOOL,
    "card_bin": STR,
    "ua_bot": BOOL,
    "ua_headless": BOOL,
    # per event type
    "invite_code": STR,
    "success": BOOL,
    "method": STR,
    "purpose": STR,
    "value": NUM,
    "amount": NUM,
    "discount": NUM,
    "quantity": NUM,
    "currency": STR,
    "reason": STR,
    "paid": BOOL,
    "duration_s": NUM,
    "region": STR,
    "path": STR,
    "status": NUM,
    "is_static": BOOL,
    "items_count": NUM,
    "items_value": NUM,
    "billed_count": NUM,
    "billed_value": NUM,
    "weight_removed_g": NUM,
    "rfid_missing_count": NUM,
    # cabinet reconciliation against the pack's product catalog (cabinet.py)
    "expected_weight_g": NUM,
    "weight_gap_g": NUM,
    "rfid_unbilled": NUM,
    "unbilled_value": NUM,
    "unknown_skus": NUM,
    "amount_owed": NUM,
    # case.label: a confirmed case, at the time it became known
    "verdict": STR,
    "labelled_event": STR,
    "loss": NUM,
    # review.post
    "rating": NUM,
    "text_length": NUM,
    "media_count": NUM,
    "verified_purchase": BOOL,
    # campaign budgets from the pack's campaigns.yaml (campaigns.py)
    "campaign_daily_budget": NUM,
}
