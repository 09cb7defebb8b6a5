"""Links: the online graph of accounts joined by the link values they share.

Each tenant's accounts are joined through the link values (device, card, phone, phone
block, canonical address...) seen on their events within a window (``config``, from the
pack's links.yaml). ``graph`` folds every decided event in (with the other effects),
``ring`` reads an event's ring as of before it (the ``ring_*`` values rules and the model
see), ``persist`` writes the graph into snapshots. The batch view of the same links, with
communities and scores, is ``shopguard.rings``.
"""

from shopguard.links.config import LinkConfig, load_links, ring_names
from shopguard.links.graph import LinkGraph
from shopguard.links.ring import read_ring

__all__ = ["LinkConfig", "LinkGraph", "load_links", "read_ring", "ring_names"]
