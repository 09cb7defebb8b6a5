"""Operations besides deciding stay inside one tenant: erasure above all."""

from __future__ import annotations

from tests.conftest import event, make_engine


def test_an_erasure_touches_only_the_requesting_tenants_data() -> None:
    """Tenant "shop" names another tenant's pseudonym (raw=False) and a shared entry's
    value: neither the rival's state nor the shared entry may go."""
    engine = make_engine()
    for tenant in ("shop", "rival"):
        engine.decide(event("sms.send", "s1", tenant=tenant, phone="13812345678", ip="1.2.3.4"))
    rivals = engine.desensitize.entity("rival", "phone", "13812345678")
    engine.list_add("deny", "phone", rivals, tenant="rival", raw=False, reason="theirs")
    engine.list_add("watch", "phone", rivals, raw=False, reason="shared")
    held = len(engine.store)
    counts = engine.erase("shop", "phone", rivals)
    assert counts["state"] == 0 and counts["list_entries"] == 0
    assert len(engine.store) == held
    assert {e.tenant for e in engine.lists.entries()} == {"rival", ""}
    assert engine.find("rival", "s1") is not None
    # the rival's own request erases its own, and leaves the shared entry to the operator
    mine = engine.erase("rival", "phone", "13812345678", raw=True)
    assert mine["state"] > 0 and mine["list_entries"] == 1
    assert {e.tenant for e in engine.lists.entries()} == {""}
