"""Telegram handlers. Each module exports ``HANDLERS`` (a list); bot.app adds them in order."""
