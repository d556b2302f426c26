"""Repositories: one per table family, each bound to a connection, each the only place its SQL is written."""
