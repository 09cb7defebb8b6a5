"""A partner's endpoint: where a tenant's messages go, which kinds, and which of them
(filters). The types here are the API's too (docs/openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from shopguard.lists.store import ListName

Kind = Literal["alerts", "list_changes", "recommendations"]
KINDS: tuple[Kind, ...] = ("alerts", "list_changes", "recommendations")
Status = Literal["enabled", "disabled"]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
_Text = Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]
_Few = Annotated[list[_Name], msgspec.Meta(max_length=100)]


class Filters(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    """Which messages of the subscribed kinds are sent; an empty list lets all through.
    ``outcomes``, ``tags``, ``merchants``, ``event_types`` narrow alerts and
    recommendations (a tag matches any fired rule's tag); ``lists`` and ``list_kinds``
    narrow list changes (the list's name: allow, deny, watch; the entity kind)."""

    outcomes: list[Literal["allow", "review", "challenge", "deny"]] = []
    tags: _Few = []
    merchants: _Few = []
    event_types: _Few = []
    lists: list[ListName] = []
    list_kinds: _Few = []


class Endpoint(msgspec.Struct):
    """A registered endpoint (its secrets are never shown again after creation)."""

    id: str
    tenant: str
    url: str
    description: str
    kinds: list[Kind]
    filters: Filters
    status: Status
    disabled_reason: str
    created: float
    rotating_until: float | None = None  # the previous secret still signs until then


class NewEndpoint(msgspec.Struct, forbid_unknown_fields=True):
    url: _Url
    description: _Text = ""
    kinds: Annotated[list[Kind], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["alerts"]
    )
    filters: Filters = Filters()


class EndpointChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What PATCH changes (fields left out stay); ``status: enabled`` turns an endpoint
    disabled by a 410 back on."""

    url: _Url | None = None
    description: _Text | None = None
    kinds: Annotated[list[Kind], msgspec.Meta(min_length=1)] | None = None
    filters: Filters | None = None
    status: Status | None = None


class WithSecret(msgspec.Struct):
    """An endpoint and its signing secret, shown this once (creation, rotation)."""

    endpoint: Endpoint
    secret: str


class Endpoints(msgspec.Struct):
    endpoints: list[Endpoint]


def matches(endpoint: Endpoint, kind: Kind, data: dict[str, Any]) -> bool:
    """Whether a message of ``kind`` with this ``data`` goes to ``endpoint``."""
    if kind not in endpoint.kinds or endpoint.status != "enabled":
        return False
    f = endpoint.filters
    if kind == "list_changes":
        return (not f.lists or data.get("list") in f.lists) and (
            not f.list_kinds or data.get("kind") in f.list_kinds
        )
    tags = data.get("tags") or []
    return (
        (not f.outcomes or data.get("outcome") in f.outcomes)
        and (not f.merchants or data.get("merchant") in f.merchants)
        and (not f.event_types or data.get("event_type") in f.event_types)
        and (not f.tags or any(t in f.tags for t in tags))
    )
