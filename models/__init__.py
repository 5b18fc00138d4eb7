"""The records and their rules: SQLModel tables (``models.tables``), query functions (each takes
a keyword-only ``session``), the rules of each save (``models.saving``), the Excel exchange
(``models.exchange``) and the migrations. Builds on ``bot.core`` only."""
