"""The engine: channel- and feature-neutral runtime.

Events, the router, the handler contract, dialogs, the outbox, the scheduler, clock, config and access.
"""
