"""``shopguard mapping draft``: a starting mapping from a file's header and first rows.

Each column gets a role from its name and its values (an id, a time and its format, an
amount, an IP, an e-mail, a label...); the event type follows from the roles. Whatever
could not be placed is written as a commented suggestion, and every guess the user must
check is marked ``TODO``, so the draft replays as it is and says where it is unsure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_CLASSES, BaseEvent
from shopguard.replay.draft_yaml import Column, Draft, EventDraft, render
from shopguard.replay.sample import Sample, read_sample

_BY_TYPE: dict[str, type[BaseEvent]] = {str(c.__struct_config__.tag): c for c in EVENT_CLASSES}
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
)
_LABELS = {"class", "label", "target", "y", "fraud", "is_fraud", "isfraud", "is_attributed"}
_LABEL_WORDS = {"fraud": "1", "legit": "0", "yes": "1", "no": "0", "true": "1", "false": "0"}
_PERSONAL = {"sex", "gender", "age", "dob", "birth", "birthday", "ssn", "job", "name"}
_FLAGS = {"0", "1", "true", "false", "t", "f", "yes", "no", "y", "n"}
_REGISTER_TIME = ("signup", "sign_up", "register", "registration", "created")
# role -> (name tokens, field path), tried in this order: first match wins a field
_BY_NAME: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "account",
        (
            "user_id",
            "customer_id",
            "account_id",
            "account",
            "client_id",
            "member_id",
            "userid",
            "customerid",
            "user",
            "customer",
            "shopper",
            "buyer",
            "member",
            "entity_id",
        ),
        "account",
    ),
    (
        "device",
        ("device_id", "deviceid", "device", "fingerprint", "device_fingerprint"),
        "device.id",
    ),
    ("os", ("os", "device_os", "platform"), "device.os"),
    ("phone", ("phone", "phone_number", "mobile", "msisdn", "billing_phone", "tel"), "phone"),
    ("user_agent", ("user_agent", "useragent", "ua"), "user_agent"),
    ("address", ("address", "billing_address", "shipping_address", "street"), "address"),
    ("merchant", ("merchant", "merchant_id", "shop", "store", "seller", "store_id"), "merchant"),
    ("terminal", ("terminal", "terminal_id", "pos_id"), "terminal"),
    ("order_id", ("order_id", "orderid", "order"), "order_id"),
    ("currency", ("currency", "payment_currency"), "currency"),
    ("card", ("card", "card_number", "pan", "card_id"), "card"),
    (
        "amount",
        (
            "amount",
            "tx_amount",
            "purchase_value",
            "order_price",
            "price",
            "value",
            "total",
            "order_amount",
            "transaction_amount",
            "amt",
        ),
        "amount",
    ),
)
_EVENT_ID = ("transaction_id", "event_id", "tx_id", "txn_id", "id", "trans_id", "order_id")


def tokens(name: str) -> str:
    """``TX_DATETIME``, ``signupTime`` -> ``tx_datetime``, ``signup_time``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def _all(values: list[str], test: Callable[[str], bool]) -> bool:
    present = [v for v in values if v]
    return bool(present) and all(test(v) for v in present)


def _float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def time_format(values: list[str]) -> str | None:
    """The format every sample value parses in (iso, epoch_s, epoch_ms, a strptime one)."""
    present = [v for v in values if v][:200]
    if not present:
        return None
    if _all(present, lambda v: v.isdigit() and 9 <= len(v) <= 10):
        return "epoch_s"
    if _all(present, lambda v: v.isdigit() and len(v) == 13):
        return "epoch_ms"
    if _all(present, lambda v: not v.isdigit() and _parses(v, None)):
        return "iso"
    for fmt in _TIME_FORMATS:
        if _all(present, lambda v, f=fmt: _parses(v, f)):  # type: ignore[misc]
            return fmt
    return None


def _parses(text: str, fmt: str | None) -> bool:
    try:
        datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def _label(column: Column, values: list[str]) -> bool:
    name = column.key
    distinct = {v.strip().lower() for v in values if v}
    if name in _LABELS or "fraud" in name or name.endswith("_label") or name == "event_label":
        return 0 < len(distinct) <= 12
    return False


def classify(sample: Sample) -> list[Column]:
    columns = [Column(name, tokens(name)) for name in sample.header]
    for i, column in enumerate(columns):
        values = [row[i] for row in sample.rows]
        column.values = values
        column.unique = len(set(values)) == len(values) and all(values)
        fmt = time_format(values) if not _all(values, lambda v: len(v) < 6) else None
        timeish = any(w in column.key for w in ("time", "date", "timestamp", "_at", "when"))
        if _label(column, values) and not fmt:
            column.role = "label"
            words = {v.strip().lower() for v in values if v}
            if words and not words <= {"0", "1"} and words <= set(_LABEL_WORDS):
                column.label_map = {
                    v: _LABEL_WORDS[v.strip().lower()] for v in sorted(set(values)) if v
                }
        elif fmt and (timeish or fmt in ("iso",) or "%" in fmt):
            column.role, column.time_format = "time", fmt
        elif _all(values, lambda v: bool(_IPV4.match(v))) or (
            "ip" in column.key.split("_") and _all(values, _float)
        ):
            column.role = "ip"
            column.cast = (
                "str" if _IPV4.match(next((v for v in values if v), "")) else "ipv4_from_number"
            )
            if column.cast != "str" and _all(values, lambda v: float(v) < 2**24):
                column.note = "TODO: small numbers (below 1.0.0.0): an encoded id, not an IP?"
        elif "email" in column.key or (values and _all(values, lambda v: bool(_EMAIL.match(v)))):
            column.role = "email"
        elif column.key in _PERSONAL or column.key.endswith(("_name", "first_name", "last_name")):
            column.role = "personal"
        elif _all(values, lambda v: v.startswith("Mozilla/")):
            column.role = "user_agent"
    taken: set[str] = set()
    for role, names, _ in _BY_NAME:
        for column in columns:
            if column.role is None and column.key in names and role not in taken:
                column.role = role
                taken.add(role)
    for column in columns:
        if column.role == "amount" and not _all(column.values, _float):
            column.role = None
        if column.role is None:
            flags = {v.strip().lower() for v in column.values if v}
            if flags and flags <= _FLAGS and not flags <= {"0", "1"}:
                column.cast = "bool"
            else:
                column.cast = "number" if _all(column.values, _float) else "str"
    return columns


def _event_id(columns: list[Column], prefix: str) -> tuple[str, str]:
    """A unique id column, else the row number (a TODO when none looked unique)."""
    for name in _EVENT_ID:
        for column in columns:
            if column.key == name and column.unique:
                column.role = column.role or "event_id"
                return f"{prefix}{{{column.name}}}", ""
    for column in columns:  # one order or one account a row: its id is the event's
        if column.role in ("order_id", "account") and column.unique:
            return f"{prefix}{{{column.name}}}", ""
    return f"{prefix}{{_row}}", "no unique id column found: the row number is the event id"


def build_draft(path: Path, sample: Sample) -> Draft:
    columns = classify(sample)
    times = [c for c in columns if c.role == "time" and "label" not in c.key]
    for column in columns:
        if column.role == "time" and "label" in column.key:
            column.role, column.note = None, "when the label became known (see --label-delay)"
    register = next((c for c in times if any(w in c.key for w in _REGISTER_TIME)), None)
    main = [c for c in times if c is not register]
    roles = {c.role for c in columns}
    name = tokens(path.name.split(".")[0])
    keys = {c.key for c in columns}
    if "review.post" in _BY_TYPE and ("review" in name or "rating" in keys):
        kind = "review.post"  # a product review (the catalog's fields: TODO lines)
    elif "amount" in roles:
        kind = "payment"
    elif any(w in name for w in ("login", "signin")):
        kind = "account.login"
    else:
        kind = "account.register"
    events: list[EventDraft] = []
    if register is not None and main and kind != "account.register":
        events.append(EventDraft("account.register", register, *_event_id(columns, "reg-")))
    time = main[0] if main else register
    prefix = "pay-" if events else ""
    event = EventDraft(kind, time, *_event_id(columns, prefix))
    if time is None:
        event.todo.append("no time column: times are made up from start and step")
    named = any(w in name for w in ("login", "signin", "regist", "signup", "review"))
    if not events and not named:  # the file's name did not say it, nor a sign-up time
        event.todo.append(f"event type guessed as {kind} from the columns")
    events.append(event)
    for extra in main[1:]:
        extra.role, extra.note = None, "another time column"
    return Draft(
        source=path,
        tenant=name.replace("_", "-")[:64] or "tenant",
        file=sample.file,
        columns=columns,
        events=events,
        sort_by_time=len(events) > 1,
        classes=_BY_TYPE,
        guessed_header=sample.guessed_header,
    )


def draft_mapping(path: Path, rows: int = 2000) -> str:
    """The drafted mapping's YAML text."""
    sample = read_sample(path, rows)
    if not sample.header:
        raise ConfigError(f"{path}: empty, no header row to draft a mapping from")
    return render(build_draft(path, sample))
