"""Telegram handlers. Each module exports ``handlers()`` (new handlers for each Application);
bot.app adds them in order."""
