"""Telegram plumbing shared by handlers and jobs: the typed context, persistence of
conversations, the per-user update processor, the rate limiter and the HTTP transport. Built on
``models``; knows no conversation."""
