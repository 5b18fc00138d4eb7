"""Delivery: updates by long poll or webhook, and the faults injected on the way."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp

from bot.localapi.records import (
    _OPT_IN_UPDATES,
    FAULT_KINDS,
    BotApiError,
    Faults,
    _bad_request,
    _Params,
    _QueuedUpdate,
    _RateRule,
    _TargetedFault,
)


class Delivery:
    """getUpdates and the webhook, with the faults of a bad minute."""

    # ----------------------------------------------------------------------------------------
    # Fault injection
    # ----------------------------------------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends and edits to the chat answer 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def rate_limit(self, retry_after: int, count: int = 1, chat_id: int | None = None) -> None:
        """The next ``count`` sends (to ``chat_id``, or to any chat) answer 429 retry_after."""
        self._rate_rules.append(_RateRule(retry_after, count, chat_id))

    def enforce_limits(self, per_second_overall: int = 30, per_chat_per_second: int = 1) -> None:
        """Answers 429 when the bot sends faster than this (sliding one-second windows)."""
        self._limits = (per_second_overall, per_chat_per_second)
        self._recent_overall.clear()
        self._recent_per_chat.clear()

    def disable_limits(self) -> None:
        self._limits = None

    def set_faults(self, faults: Faults) -> None:
        """Injects these random faults from now on (``Faults()`` turns them off)."""
        self.faults = faults
        self._rng = random.Random(faults.seed)

    def fail_next(self, kind: str, method: str | None = None, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` (any method random faults affect when
        None) fail this way; for "duplicate", the next ``count`` updates handed out."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        self._targeted.append(_TargetedFault(kind, method.lower() if method else None, count))

    def _take_targeted(self, method: str, *, duplicate: bool) -> str | None:
        for fault in self._targeted:
            if (fault.kind == "duplicate") != duplicate:
                continue
            if not duplicate and not (fault.method == method or (
                    fault.method is None and self.faults.affects(method))):
                continue
            fault.remaining -= 1
            self._targeted = [f for f in self._targeted if f.remaining > 0]
            return fault.kind
        return None

    def _draw_fault(self, method: str) -> str | None:
        """The fault for this request of ``method`` (lower-case), if any; counted."""
        kind = self._take_targeted(method, duplicate=False)
        if kind is None and self._burst_left > 0 and self.faults.affects(method):
            self._burst_left -= 1
            kind = "burst_429"
        if kind is None and self.faults.affects(method):
            draw = self._rng.random()
            for name in ("error_5xx", "timeout", "drop", "slow", "burst_429"):
                draw -= getattr(self.faults, name)
                if draw < 0:
                    kind = name
                    if name == "burst_429":
                        self._burst_left = self.faults.burst_length - 1
                    break
        if kind is not None:
            self.fault_counts[kind] += 1
        return kind

    def _duplicate(self, item: _QueuedUpdate) -> None:
        """Maybe queues ``item`` for a second delivery (same update_id), as Telegram does when
        it did not see the first one confirmed."""
        if item.redelivered:
            return
        targeted = self._take_targeted("", duplicate=True)
        if targeted is None and not (self.faults.duplicate
                                     and self._rng.random() < self.faults.duplicate):
            return
        self.fault_counts["duplicate"] += 1
        self._queue.append(_QueuedUpdate(item.payload, redelivered=True))
        self._queue.sort(key=lambda queued: queued.update_id)
        self._notify()


    # ----------------------------------------------------------------------------------------
    # Bot API methods
    # ----------------------------------------------------------------------------------------

    async def _api_getMe(self, params: _Params) -> dict[str, Any]:
        return dict(self.bot_user)

    async def _api_logOut(self, params: _Params) -> bool:
        return True

    async def _api_close(self, params: _Params) -> bool:
        return True

    async def _api_getUpdates(self, params: _Params) -> list[dict[str, Any]]:
        if self.webhook:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                   "active; use deleteWebhook to delete the webhook first")
        offset = params.get_int("offset", 0) or 0
        limit = min(max(params.get_int("limit", 100) or 100, 1), 100)
        timeout = max(params.get_float("timeout", 0.0) or 0.0, 0.0)
        allowed = params.get_json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed)

        # Like Telegram, a newer poll ends an older one still waiting (409 for the older).
        self._poll_generation += 1
        generation = self._poll_generation
        self._confirm(offset)
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                break
            await self._wait_change(remaining)
            if generation != self._poll_generation:
                raise BotApiError(409, "Conflict: terminated by other getUpdates request; make "
                                       "sure that only one bot instance is running")
        for item in batch:
            item.delivered = True
            self._duplicate(item)
        return [item.payload for item in batch]

    def _confirm(self, offset: int) -> None:
        """Forgets updates confirmed by ``offset`` (negative: keep only the last -offset)."""
        before = len(self._queue)
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                item for item in self._queue
                if item.update_id >= offset or (item.redelivered and not item.delivered)
            ]
        if len(self._queue) != before:
            self._notify()

    async def _push_to_webhook(self) -> None:
        """Posts queued updates, one at a time and in order, to the webhook while one is set.

        Like Telegram: the secret token goes in X-Telegram-Bot-Api-Secret-Token, an update is
        done when the bot answers 2xx, and anything else is tried again a moment later.
        """
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
            while not self._closing:
                webhook = self.webhook
                batch = self._deliverable(1) if webhook else []
                if not batch:
                    await self._wait_change(1.0)
                    continue
                item = batch[0]
                headers = {}
                if webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
                try:
                    async with client.post(webhook["url"], json=item.payload,
                                           headers=headers) as response:
                        outcome = str(response.status)
                        ok = 200 <= response.status < 300
                except (aiohttp.ClientError, TimeoutError) as error:
                    outcome, ok = type(error).__name__, False
                self.webhook_attempts.append((item.update_id, outcome))
                if ok and self.webhook is webhook:
                    item.delivered = True
                    self._queue = [queued for queued in self._queue if queued is not item]
                    self._duplicate(item)
                    self._notify()
                elif not ok:
                    await asyncio.sleep(0.2)

    def _deliverable(self, limit: int) -> list[_QueuedUpdate]:
        if self.webhook and self.webhook.get("allowed_updates"):
            wanted = [item for item in self._queue
                      if item.kind in self.webhook["allowed_updates"]]
        elif self._allowed_updates:
            wanted = [item for item in self._queue if item.kind in self._allowed_updates]
        else:
            wanted = [item for item in self._queue if item.kind not in _OPT_IN_UPDATES]
        return wanted[:limit]

    async def _api_deleteWebhook(self, params: _Params) -> bool:
        self.webhook = None
        if params.get_bool("drop_pending_updates"):
            self._queue.clear()
            self._notify()
        return True

    async def _api_setWebhook(self, params: _Params) -> bool:
        url = params.get_str("url") or ""
        # Telegram wants https; this server also takes plain http to the same machine, where
        # the tests run the bot's webhook server.
        loopback = url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if url and not url.startswith("https://") and not loopback:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": params.get_str("secret_token"),
            "allowed_updates": params.get_json("allowed_updates"),
            "max_connections": params.get_int("max_connections", 40),
        } if url else None
        if params.get_bool("drop_pending_updates"):
            self._queue.clear()
        self._notify()  # a waiting getUpdates must learn that a webhook is now set
        return True

    async def _api_getWebhookInfo(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

