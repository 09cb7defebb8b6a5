"""The event catalog and its decoder: the edge where JSON becomes typed structs.

Everything after this stage works on validated structs; a bad event is rejected here with
the path of the offending field and nothing downstream runs.
"""

from shopguard.events.catalog import EVENT_TYPES, Event
from shopguard.events.decode import decode_event, decode_events

__all__ = ["EVENT_TYPES", "Event", "decode_event", "decode_events"]
