"""Parts of button data shared by the handlers' anchored callback patterns.

Whatever a pattern lets through reaches int() and then SQL, so numbers are bounded: a database
id fits 64 bits, and a modified client can send any data up to Telegram's 64 bytes.
"""

ID = r"\d{1,12}"
