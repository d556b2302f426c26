"""Shared test helpers: a person chatting with the bot through the sandbox, and a small roster."""
