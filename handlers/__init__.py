"""The chat flows, written once for every channel: onboarding, help, language, join requests and invites.

Handlers receive a ``Ctx`` (the neutral event, who sent it, the dialog and the repositories of the update's
transaction) and answer with ``ctx.say``; the table that wires commands and buttons to them is ``routes.py``.
"""
