"""Desensitize: the only stage that ever sees raw personal data.

It turns a decoded event into *facts* (keyed pseudonyms, derived non-PII attributes and
clear business ids) and a *display* record of masks. Nothing raw leaves this folder.
"""

from shopguard.desensitize.desensitizer import Desensitizer
from shopguard.desensitize.keys import KeyRing

__all__ = ["Desensitizer", "KeyRing"]
