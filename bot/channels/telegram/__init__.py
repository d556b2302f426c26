"""The Telegram channel: python-telegram-bot with an aiohttp transport: updates in,
replies and deliveries out.
"""
