"""Rings: communities of accounts found in batch over the journal's link graph.

``book`` holds what a batch run publishes (the ring book: each ring's members, the links
they share and its score), read by the engine (``ring_score``), the console's ring pages
and the review queue. The online, per-event view of the same links is ``shopguard.links``.
"""
