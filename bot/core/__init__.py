"""The ground floor: dates, amounts, names, NIK and phone numbers, places and time zones, texts,
formatting, the clock and the settings. Pure Python: nothing here knows Telegram or the
database, and nothing here imports another layer of the project (tests/test_layers.py)."""
