"""The users' side of the server: what simulated users do, and what a test reads back."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from typing import Any

from bot.localapi.markup import _utf16_len
from bot.localapi.records import (
    AnswerListener,
    CallbackAnswer,
    LocalUser,
    SentListener,
    SentMessage,
    _fake_jpeg,
    _QueuedUpdate,
)


class UserSide:
    """The users' actions (updates queued for the bot) and the inspection of what it sent."""

    # ----------------------------------------------------------------------------------------
    # Users and injected updates
    # ----------------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Pengguna",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        phone_number: str | None = None,
    ) -> LocalUser:
        """Registers (or updates) a simulated user, so updates carry a realistic ``from``."""
        user = LocalUser(user_id, first_name, last_name, username, language_code, phone_number)
        self._users[user_id] = user
        return user

    def get_user(self, user_id: int) -> LocalUser:
        """The registered user, or a plain default one registered on the fly."""
        if user_id not in self._users:
            self.user(user_id, first_name=f"Pengguna {user_id}")
        return self._users[user_id]

    def send_text(self, user_id: int, text: str) -> int:
        """The user sends ``text``; a leading "/command" gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        name = command[1:].split("@", 1)[0]
        valid = all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        if name and len(name) <= 32 and valid:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message(user_id, content)

    def share_contact(self, user_id: int, phone_number: str, first_name: str | None = None,
                      *, contact_user_id: int | None = None) -> int:
        """The user shares their own contact (as the request_contact button does), or with
        ``contact_user_id`` someone else's."""
        user = self.get_user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
            "user_id": contact_user_id if contact_user_id is not None else user_id,
        }
        if user.last_name:
            contact["last_name"] = user.last_name
        return self._user_message(user_id, {"contact": contact})

    def share_location(self, user_id: int, latitude: float, longitude: float) -> int:
        """The user shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(user_id, {"location": location})

    def send_photo(
        self, user_id: int, file_id: str | None = None, caption: str | None = None
    ) -> int:
        """The user sends a photo; three sizes, each downloadable through getFile."""
        sizes = []
        for index, (width, height) in enumerate(((90, 68), (320, 240), (800, 600))):
            content = _fake_jpeg(width, height)
            wanted_id = file_id if (file_id and index == 2) else None
            stored = self._store_file(content, "photos", ".jpg", mime_type="image/jpeg",
                                      file_id=wanted_id)
            sizes.append({
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(content),
            })
        content_payload: dict[str, Any] = {"photo": sizes}
        if caption:
            content_payload["caption"] = caption
        return self._user_message(user_id, content_payload)

    def send_document(self, user_id: int, filename: str, content_bytes: bytes,
                      mime_type: str | None = None, caption: str | None = None) -> int:
        """The user sends a file."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._store_file(content_bytes, "documents", "", mime_type=mime,
                                  file_name=filename)
        payload: dict[str, Any] = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime,
                "file_size": len(content_bytes),
            }
        }
        if caption:
            payload["caption"] = caption
        return self._user_message(user_id, payload)

    def send_sticker(self, user_id: int, emoji: str = "👍") -> int:
        """The user sends a sticker (something most bots do not expect)."""
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", ".webp",
                                  mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._user_message(user_id, {"sticker": sticker})

    def press_button(self, user_id: int, message_id: int, callback_data: str, *,
                     strict: bool = True) -> int:
        """The user presses an inline button of the bot's message ``message_id``.

        With ``strict`` (the default) the message must exist and carry a button with exactly
        this callback data; ``strict=False`` forges any data, as a malicious client could.
        """
        sent = self._sent.get(user_id, {}).get(message_id)
        if strict:
            if sent is None or sent.deleted:
                raise LookupError(f"chat {user_id} has no bot message {message_id}")
            datas = [b.get("callback_data") for b in sent.inline_buttons]
            if callback_data not in datas:
                raise LookupError(
                    f"message {message_id} has no button with callback_data {callback_data!r}; "
                    f"it has {datas}"
                )
        user = self.get_user(user_id)
        self._started_chats.add(user_id)
        query_id = f"{user_id}{next(self._callback_counter):08d}"
        self._callback_queries[query_id] = (user_id, False)
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.user_payload(),
            "chat_instance": str(-(user_id * 7919 % 10**12)),
            "data": callback_data,
        }
        if sent is not None and not sent.deleted:
            query["message"] = self._message_payload(sent)
        else:
            # What Telegram sends for a message the bot cannot see any more.
            query["message"] = {"chat": self._chat_payload(user_id), "message_id": message_id,
                                "date": 0}
        return self._enqueue({"callback_query": query})

    def send_raw_update(self, update: dict[str, Any]) -> int:
        """Queues any update; ``update_id`` is assigned unless given."""
        payload = dict(update)
        if "update_id" not in payload:
            return self._enqueue(payload)
        update_id = int(payload["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._all_updates[update_id] = payload
        # An explicit id may be below the bot's offset already; deliver it once regardless.
        self._queue.append(_QueuedUpdate(payload, redelivered=True))
        self._queue.sort(key=lambda item: item.update_id)
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> int:
        """Queues an already delivered update again, same update_id (Telegram after a crash)."""
        payload = self._all_updates.get(update_id)
        if payload is None:
            raise KeyError(f"update {update_id} was never queued")
        if not any(item.update_id == update_id for item in self._queue):
            self._queue.append(_QueuedUpdate(payload, redelivered=True))
            self._queue.sort(key=lambda item: item.update_id)
        self._notify()
        return update_id

    @property
    def pending_updates(self) -> list[int]:
        """Ids of updates the bot has not confirmed yet."""
        return [item.update_id for item in self._queue]

    async def wait_fetched(self, update_id: int, timeout: float = 5) -> None:
        """Waits until the bot confirmed ``update_id`` with a getUpdates offset above it.

        PTB's Updater asks with a new offset only after it has put the previous batch into
        ``application.update_queue``, so afterwards ``update_queue.join()`` covers the update.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while any(item.update_id == update_id for item in self._queue):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(
                    f"the bot did not fetch update {update_id} within {timeout}s "
                    "(is the Application polling this server?)"
                )
            await self._wait_change(remaining)


    # ----------------------------------------------------------------------------------------
    # Inspection
    # ----------------------------------------------------------------------------------------

    def on_sent(self, callback: SentListener) -> Callable[[], None]:
        """Calls ``callback(message)`` on every send, edit (``message.edits`` grew) and delete
        (``message.deleted``). May be a coroutine function. Returns an unsubscribe function."""
        self._sent_listeners.append(callback)
        return lambda: self._sent_listeners.remove(callback)

    def on_callback_answer(self, callback: AnswerListener) -> Callable[[], None]:
        """Calls ``callback(answer)`` on every answerCallbackQuery. Returns an unsubscribe."""
        self._answer_listeners.append(callback)
        return lambda: self._answer_listeners.remove(callback)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (to one chat, or to all), oldest first, in their current state."""
        chats = [chat_id] if chat_id is not None else list(self._sent)
        messages = [m for chat in chats for m in self._sent.get(chat, {}).values()]
        if chat_id is None:
            messages.sort(key=lambda m: (m.date, m.chat_id, m.message_id))
        return messages

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """One message the bot sent."""
        return self._sent[chat_id][message_id]

    def last_message(self, chat_id: int) -> SentMessage | None:
        """The newest message the bot sent to the chat (deleted ones included)."""
        messages = self._sent.get(chat_id)
        return next(reversed(messages.values())) if messages else None

    def log_position(self, chat_id: int) -> int:
        """A marker for :meth:`sent_since`."""
        return len(self._events.get(chat_id, []))

    def sent_since(self, chat_id: int, position: int) -> list[SentMessage]:
        """Messages sent, edited or deleted in the chat since ``position``, each once, in order
        of their first change."""
        seen: dict[int, SentMessage] = {}
        for message in self._events.get(chat_id, [])[position:]:
            seen.setdefault(id(message), message)
        return list(seen.values())

    def reply_keyboard(self, chat_id: int) -> list[list[dict[str, Any]]] | None:
        """The reply keyboard the chat shows now (rows of KeyboardButton dicts), or None."""
        markup = self._reply_keyboards.get(chat_id)
        return None if markup is None else markup["keyboard"]

    def reply_keyboard_markup(self, chat_id: int) -> dict[str, Any] | None:
        """The whole ReplyKeyboardMarkup the chat shows now, or None."""
        return self._reply_keyboards.get(chat_id)

    def callback_answers(self, user_id: int | None = None) -> list[CallbackAnswer]:
        """answerCallbackQuery calls, oldest first."""
        return [a for a in self._callback_answers if user_id is None or a.user_id == user_id]

    def commands(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The command menu set for this language and scope (default scope if None)."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))
