"""The account link graph of one window of the journal, per tenant.

One pass over the journal's records (the DecisionLog protocol): per tenant, every account
seen in the window with what its events did (harm, money, denials), and per link value
(a pseudonym of a device, card, phone block...) the accounts that used it. A value used
by more accounts than its kind's cap is a *hub* (a public Wi-Fi IP, a popular phone
model, a mall's address): it links nobody, and stops being tracked once it is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shopguard.labels.health import event_money
from shopguard.labels.label import LOSS_KINDS
from shopguard.outcome import Outcome
from shopguard.state import DecisionLog
from shopguard.state.protocol import LogRecord

# What a member's event does to a shop: gifts claimed, coupons redeemed, goods ordered,
# money paid or refunded, prizes drawn. Their money is what is at stake (event_money).
HARM_TYPES = frozenset(
    {
        "promo.claim",
        "promo.redeem",
        "lottery.draw",
        "flashsale.order",
        "order.create",
        "payment",
        "refund",
    }
)


@dataclass(frozen=True)
class LinkKind:
    """How a kind of link value joins accounts. ``weight``: how much one shared value says
    two accounts are run by one hand (1.0 joins them alone, less needs other links too);
    ``cap``: more accounts than this on one value make it a hub, which joins nobody."""

    weight: float
    cap: int


# Why these numbers (docs/rings.md): a device, card, phone, exact address or e-mail is
# personal, shared only by a household or a family, so one is enough; a phone block, a
# building, an IP are shared by neighbours, dorms and offices, so they need company;
# a user agent, a device model, an e-mail's shape, an IP /16 or a referrer are shared by
# thousands of honest people and only add to stronger links.
LINK_KINDS: dict[str, LinkKind] = {
    "device": LinkKind(1.0, 8),
    "card": LinkKind(1.0, 8),
    "phone": LinkKind(1.0, 8),
    "email": LinkKind(1.0, 8),
    "address": LinkKind(1.0, 12),
    "phone_block": LinkKind(0.5, 40),
    "address_building": LinkKind(0.5, 60),
    "ip": LinkKind(0.5, 40),
    "email_pattern": LinkKind(0.25, 100),
    "user_agent": LinkKind(0.25, 100),
    "device_model": LinkKind(0.2, 100),
    "ip16": LinkKind(0.2, 100),
    "referrer": LinkKind(0.2, 100),
}


@dataclass
class Member:
    """One account's window, from its own events."""

    first_seen: float
    last_seen: float
    events: int = 0
    harm_events: int = 0
    harm_money: float = 0.0
    denied: int = 0
    fraud_labels: int = 0


@dataclass
class TenantGraph:
    tenant: str
    accounts: dict[str, int] = field(default_factory=dict)  # pseudonym -> index
    members: list[Member] = field(default_factory=list)
    # (kind, value) -> indexes of the accounts that used it; None once it is a hub
    values: dict[tuple[str, str], set[int] | None] = field(default_factory=dict)
    masks: dict[tuple[str, str], str] = field(default_factory=dict)
    hubs: int = 0

    def account(self, pseudonym: str, when: float) -> int:
        index = self.accounts.get(pseudonym)
        if index is None:
            index = self.accounts[pseudonym] = len(self.members)
            self.members.append(Member(when, when))
        return index

    def names(self) -> list[str]:
        """Account pseudonyms by index."""
        names = [""] * len(self.members)
        for name, index in self.accounts.items():
            names[index] = name
        return names

    def links(self) -> Iterable[tuple[str, str, set[int]]]:
        """The non-hub values two or more accounts share."""
        for (kind, value), users in self.values.items():
            if users is not None and len(users) > 1:
                yield kind, value, users


@dataclass
class LinkGraph:
    start: float
    end: float
    tenants: dict[str, TenantGraph] = field(default_factory=dict)
    records: int = 0  # records read (in the window or not)


def newest_time(log: DecisionLog) -> float | None:
    """The newest event time in the journal: one aggregate query where the log is SQLite,
    else a pass over its records."""
    reader = getattr(log, "reader", None)
    if reader is not None:
        row = reader().execute("SELECT MAX(time) FROM decisions WHERE redacted != 2").fetchone()
        return None if row is None or row[0] is None else float(row[0])
    times = [r.time for r in log.records_after(0)]
    return max(times) if times else None


def read_window(
    log: DecisionLog,
    window_s: float,
    end: float | None = None,
    kinds: dict[str, LinkKind] | None = None,
    progress: Callable[[int], None] | None = None,
) -> LinkGraph:
    """The graph of events in [end - window_s, end] (end: the newest event by default)."""
    kinds = LINK_KINDS if kinds is None else kinds
    end = newest_time(log) if end is None else end
    if end is None:
        return LinkGraph(0.0, 0.0)
    graph = LinkGraph(end - window_s, end)
    labelled: list[tuple[str, str | None, str | None]] = []
    for record in log.records_after(0):
        graph.records += 1
        if progress is not None and graph.records % 4096 == 0:
            progress(4096)
        if graph.start <= record.time <= end:
            _add(graph, record, kinds, labelled)
    if progress is not None:
        progress(graph.records % 4096)
    for tenant in graph.tenants.values():
        _imported_labels(log, tenant)
    for tenant_name, account, event_id in labelled:
        _label(log, graph.tenants[tenant_name], account, event_id)
    return graph


def _add(
    graph: LinkGraph,
    record: LogRecord,
    kinds: dict[str, LinkKind],
    labelled: list[tuple[str, str | None, str | None]],
) -> None:
    facts = record.facts
    tenant = graph.tenants.get(record.tenant)
    if tenant is None:
        tenant = graph.tenants[record.tenant] = TenantGraph(record.tenant)
    if record.type == "case.label":  # known later than its event: matched at the end
        if facts.get("verdict") in LOSS_KINDS:
            labelled.append((record.tenant, facts.get("account"), facts.get("labelled_event")))
        return
    pseudonym = facts.get("account")
    if not pseudonym:
        return
    index = tenant.account(pseudonym, record.time)
    member = tenant.members[index]
    member.first_seen = min(member.first_seen, record.time)
    member.last_seen = max(member.last_seen, record.time)
    member.events += 1
    if record.type in HARM_TYPES:
        member.harm_events += 1
        member.harm_money += event_money(record.type, facts)[1]
    if record.outcome == Outcome.DENY:
        member.denied += 1
    values = tenant.values
    for kind, link in kinds.items():
        value = facts.get(kind)
        if not value:
            continue
        key = (kind, value)
        users = values.get(key, ())
        if users is None:  # a hub already
            continue
        if not users:
            values[key] = users = set()
        users.add(index)
        if len(users) > link.cap:
            values[key] = None
            tenant.hubs += 1


def _imported_labels(log: DecisionLog, tenant: TenantGraph) -> None:
    """Cases imported with ``shopguard labels import``: on an account, or on an event."""
    for label in log.labels(tenant.tenant):
        if label.kind not in LOSS_KINDS:
            continue
        if label.entity_kind == "account":
            _label(log, tenant, label.entity, None)
        elif label.event_id:
            _label(log, tenant, None, label.event_id)


def _label(
    log: DecisionLog, tenant: TenantGraph, account: str | None, event_id: str | None
) -> None:
    if not account and event_id:
        facts = log.facts_of(tenant.tenant, event_id)
        account = facts.get("account") if facts else None
    index = tenant.accounts.get(account) if account else None
    if index is not None:
        tenant.members[index].fraud_labels += 1
