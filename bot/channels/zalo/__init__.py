"""The Zalo channel: the Zalo Bot Platform API over aiohttp, long polling, numbered menus and plain text."""
