"""Pendamping KUBE: the Telegram bot for mentors of KUBE groups."""
