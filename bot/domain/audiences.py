"""Who a message to a subtree goes to: everyone, or members by their registration or initiatives in a
campaign.

``Audience`` is defined beside the outbox query that filters by it (storage imports nothing above it);
handlers choose an audience through this module, never through storage.
"""

from __future__ import annotations

from storage.repos.outbox import Audience

__all__ = ["Audience"]
