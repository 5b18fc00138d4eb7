"""The Bot API methods that put something into a chat or read it back."""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.localapi.markup import _apply_parse_mode, _utf16_len
from bot.localapi.records import (
    _CHAT_ACTIONS,
    _INLINE_BUTTON_ACTIONS,
    _NOT_MODIFIED,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    CallbackAnswer,
    SentMessage,
    _bad_request,
    _image_size,
    _Params,
    _StoredFile,
)


@dataclass
class _Upload:
    """A sendPhoto or sendDocument request, checked."""

    chat_id: int
    content: bytes | None
    file_name: str | None
    mime: str | None
    reference: str
    markup: dict[str, Any] | None
    caption: str | None
    raw: str | None
    entities: list[dict[str, Any]]
    parse_mode: str | None


class BotMethods:
    """sendMessage, edits, callback answers, commands, files: Telegram's checks included."""

    def _message_payload(self, sent: SentMessage) -> dict[str, Any]:
        """The Telegram ``Message`` for a recorded bot message, as PTB's de_json needs it."""
        payload: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": self._chat_payload(sent.chat_id),
            "from": dict(self.bot_user),
        }
        if sent.edit_date:
            payload["edit_date"] = sent.edit_date
        if sent.kind == "text":
            payload["text"] = sent.text
            if sent.entities:
                payload["entities"] = sent.entities
        elif sent.kind == "photo":
            payload["photo"] = sent.media
        elif sent.kind == "document":
            payload["document"] = sent.media
        elif sent.kind == "location":
            payload["location"] = {"latitude": sent.latitude, "longitude": sent.longitude}
        if sent.caption is not None:
            payload["caption"] = sent.caption
            if sent.entities:
                payload["caption_entities"] = sent.entities
        # Telegram echoes only inline keyboards; reply keyboards are not part of the Message.
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            payload["reply_markup"] = sent.reply_markup
        return payload

    def _reply_markup(self, params: _Params) -> dict[str, Any] | None:
        markup = params.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard button: InlineKeyboardMarkup "
                                   "must be an Array of Arrays")
            for button in (b for row in rows for b in row):
                self._check_inline_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            # Plain strings are allowed as buttons; store them the way clients see them.
            markup = {**markup, "keyboard": [
                [b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows
            ]}
            for button in (b for row in markup["keyboard"] for b in row):
                if not button.get("text"):
                    raise _bad_request("keyboard button text is empty")
        return markup

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed "
                               "in the inline keyboard")
        actions = [key for key in _INLINE_BUTTON_ACTIONS if key in button]
        if len(actions) != 1:
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed "
                               "in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
            raise _bad_request(f"inline keyboard button URL '{button['url']}' is invalid: "
                               "Wrong HTTP URL")

    def _note_reply_keyboard(self, chat_id: int, markup: dict[str, Any] | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards[chat_id] = None

    def _formatted(self, params: _Params, name: str, limit: int, too_long: str,
                   entities_name: str) -> tuple[str | None, str | None, list[dict[str, Any]]]:
        """(plain text, raw text, entities) for a text or caption parameter."""
        raw = params.get_str(name)
        if raw is None:
            return None, None, []
        entities = params.get_json(entities_name)
        text, parsed = _apply_parse_mode(raw, params.get_str("parse_mode"), entities)
        if _utf16_len(text) > limit:
            raise _bad_request(too_long)
        return text, raw, parsed

    async def _record(self, sent: SentMessage) -> dict[str, Any]:
        sent.date = int(time.time())
        self._sent.setdefault(sent.chat_id, {})[sent.message_id] = sent
        self._note_reply_keyboard(sent.chat_id, sent.reply_markup)
        await self._emit_sent(sent)
        return self._message_payload(sent)

    def _input_file(
        self, params: _Params, name: str
    ) -> tuple[bytes | None, str | None, str | None, str]:
        """(content, file name, mime type, file id / url) of a file parameter."""
        value = params.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.values.get(value.removeprefix("attach://"))
        if isinstance(value, web.FileField):
            content = value.file.read()
            if not content:
                raise _bad_request("file must be non-empty")
            return content, value.filename, value.content_type, ""
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {name} in the request")
        stored = self._files.get(value)
        if stored is not None:
            return stored.content, stored.file_name, stored.mime_type, value
        if value.startswith(("http://", "https://")):
            return None, value.rsplit("/", 1)[-1] or None, None, value
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _editable(self, params: _Params) -> SentMessage:
        if params.has("inline_message_id"):
            raise _bad_request("inline messages are not supported by LocalBotApi")
        chat_id = self._chat_id(params)
        message_id = params.require_int("message_id")
        sent = self._sent.get(chat_id, {}).get(message_id)
        if sent is None or sent.deleted:
            raise _bad_request("message to edit not found")
        return sent

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""


    async def _api_getChat(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        if self.strict_chats and chat_id not in self._users:
            raise _bad_request("chat not found")
        return {**self._chat_payload(chat_id), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False}}

    def _message_text(self, params: _Params
                      ) -> tuple[str, dict[str, Any] | None, str | None, list[dict[str, Any]]]:
        """(raw text, markup, plain text, entities) of sendMessage and editMessageText."""
        raw = params.require_str("text", "message text is empty")
        markup = self._reply_markup(params)
        text, _, entities = self._formatted(params, "text", MAX_TEXT_LENGTH,
                                            "message is too long", "entities")
        if not (text or "").strip():
            raise _bad_request("message text is empty")
        return raw, markup, text, entities

    async def _api_sendMessage(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        raw, markup, text, entities = self._message_text(params)
        self._check_chat(chat_id, "sendmessage")
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=text,
            reply_markup=markup, kind="text", parse_mode=params.get_str("parse_mode"),
            entities=entities, raw_text=raw,
        )
        return await self._record(sent)

    def _upload(self, params: _Params, name: str, method: str) -> _Upload:
        """What sendPhoto and sendDocument check alike, in Telegram's order."""
        chat_id = self._chat_id(params)
        content, file_name, mime, reference = self._input_file(params, name)
        markup = self._reply_markup(params)
        caption, raw, entities = self._formatted(params, "caption", MAX_CAPTION_LENGTH,
                                                 "message caption is too long", "caption_entities")
        self._check_chat(chat_id, method)
        return _Upload(chat_id, content, file_name, mime, reference, markup, caption, raw,
                       entities, params.get_str("parse_mode"))

    async def _send_upload(self, upload: _Upload, kind: str, stored: _StoredFile, *,
                           document_name: str | None, media: Any) -> dict[str, Any]:
        sent = SentMessage(
            message_id=self._new_message_id(upload.chat_id), chat_id=upload.chat_id, text=None,
            reply_markup=upload.markup, kind=kind, caption=upload.caption,
            # A file sent again by its file_id carries the stored bytes, as Telegram shows them.
            document_name=document_name,
            document_bytes=upload.content if upload.content is not None else stored.content,
            parse_mode=upload.parse_mode, entities=upload.entities, raw_text=upload.raw,
            file_id=stored.file_id, mime_type=stored.mime_type, media=media,
        )
        return await self._record(sent)

    async def _api_sendPhoto(self, params: _Params) -> dict[str, Any]:
        upload = self._upload(params, "photo", "sendphoto")
        content = upload.content
        sizes = []
        if upload.reference in self._files:
            largest = self._files[upload.reference]
        else:
            largest = self._store_file(content or b"", "photos", ".jpg",
                                       mime_type=upload.mime or "image/jpeg",
                                       file_name=upload.file_name)
        width, height = _image_size(content)
        for scale in (0.1125, 0.4, 1.0):
            stored = largest if scale == 1.0 else self._store_file(
                content or b"", "photos", ".jpg", mime_type=largest.mime_type)
            sizes.append({
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "width": max(1, int(width * scale)), "height": max(1, int(height * scale)),
                "file_size": len(stored.content),
            })
        return await self._send_upload(upload, "photo", largest, document_name=upload.file_name,
                                       media=sizes)

    async def _api_sendMediaGroup(self, params: _Params) -> list[dict[str, Any]]:
        """An album of 2-10 photos: one photo message each, the caption on the item that has
        one (no keyboard: Telegram allows none on an album)."""
        media = params.get_json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad_request("wrong number of media specified; must be 2-10")
        if any(not isinstance(item, dict) or item.get("type") != "photo" for item in media):
            raise _bad_request("unsupported media type in LocalBotApi (photos only)")
        sent = []
        for item in media:
            values = {key: value for key, value in params.values.items() if key != "media"}
            values.update(photo=item.get("media"), caption=item.get("caption"),
                          parse_mode=item.get("parse_mode"))
            sent.append(await self._api_sendPhoto(_Params(
                {key: value for key, value in values.items() if value is not None})))
        return sent

    async def _api_sendDocument(self, params: _Params) -> dict[str, Any]:
        upload = self._upload(params, "document", "senddocument")
        file_name = upload.file_name
        if upload.reference in self._files:
            stored = self._files[upload.reference]
        else:
            mime = (upload.mime or mimetypes.guess_type(file_name or "")[0]
                    or "application/octet-stream")
            stored = self._store_file(upload.content or b"", "documents", "", mime_type=mime,
                                      file_name=file_name)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return await self._send_upload(upload, "document", stored,
                                       document_name=stored.file_name, media=document)

    async def _api_sendLocation(self, params: _Params) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        latitude = params.get_float("latitude")
        longitude = params.get_float("longitude")
        if latitude is None or longitude is None or not (-90 <= latitude <= 90) or not (
            -180 <= longitude <= 180
        ):
            raise _bad_request("wrong location specified")
        markup = self._reply_markup(params)
        self._check_chat(chat_id, "sendlocation")
        sent = SentMessage(
            message_id=self._new_message_id(chat_id), chat_id=chat_id, text=None,
            reply_markup=markup, kind="location", latitude=latitude, longitude=longitude,
        )
        return await self._record(sent)

    async def _api_sendChatAction(self, params: _Params) -> bool:
        chat_id = self._chat_id(params)
        action = params.require_str("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._check_chat(chat_id, "sendchataction")
        return True

    async def _edit(
        self, sent: SentMessage, changes: dict[str, Any], **also: Any
    ) -> dict[str, Any]:
        """Applies an edit in place (history kept) unless it changes nothing visible.

        ``changes`` is what the user sees (compared for "not modified"); ``also`` is
        bookkeeping updated alongside (raw text, parse mode).
        """
        if all(getattr(sent, key) == value for key, value in changes.items()):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        self._check_chat(sent.chat_id, "editmessagetext")
        sent.edits.append(sent.snapshot())
        for key, value in {**changes, **also}.items():
            setattr(sent, key, value)
        sent.edit_date = int(time.time())
        await self._emit_sent(sent)
        return self._message_payload(sent)

    async def _api_editMessageText(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        raw, markup, text, entities = self._message_text(params)
        if sent.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        # Omitting reply_markup in an edit removes the inline keyboard, as in Telegram.
        return await self._edit(
            sent,
            {"text": text, "entities": entities, "reply_markup": markup},
            raw_text=raw, parse_mode=params.get_str("parse_mode"),
        )

    async def _api_editMessageCaption(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = self._reply_markup(params)
        caption, raw, entities = self._formatted(params, "caption", MAX_CAPTION_LENGTH,
                                                 "message caption is too long", "caption_entities")
        if sent.kind not in ("photo", "document"):
            raise _bad_request("there is no caption in the message to edit")
        return await self._edit(sent, {"caption": caption, "entities": entities,
                                       "reply_markup": markup}, raw_text=raw)

    async def _api_editMessageReplyMarkup(self, params: _Params) -> dict[str, Any]:
        sent = self._editable(params)
        markup = self._reply_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        return await self._edit(sent, {"reply_markup": markup})

    async def _api_deleteMessage(self, params: _Params) -> bool:
        chat_id = self._chat_id(params)
        message_id = params.require_int("message_id")
        sent = self._sent.get(chat_id, {}).get(message_id)
        if sent is None or sent.deleted:
            raise _bad_request("message to delete not found")
        sent.deleted = True
        await self._emit_sent(sent)
        return True

    async def _api_answerCallbackQuery(self, params: _Params) -> bool:
        query_id = params.require_str("callback_query_id")
        known = self._callback_queries.get(query_id)
        if known is None or known[1]:
            raise _bad_request("query is too old and response timeout expired or query ID is "
                               "invalid")
        text = params.get_str("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = (known[0], True)
        answer = CallbackAnswer(query_id, known[0], text or None, params.get_bool("show_alert"),
                                params.get_str("url"))
        self._callback_answers.append(answer)
        for listener in list(self._answer_listeners):
            await self._call_listener(listener, answer)
        return True

    async def _api_setMyCommands(self, params: _Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("parameter \"commands\" must be an Array of at most 100 commands")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not (1 <= len(name) <= 32) or not all(
                c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        self._commands[key] = [dict(c) for c in commands]
        return True

    async def _api_getMyCommands(self, params: _Params) -> list[dict[str, Any]]:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        return list(self._commands.get(key, []))

    async def _api_deleteMyCommands(self, params: _Params) -> bool:
        key = self._commands_key(params.get_json("scope"), params.get_str("language_code"))
        self._commands.pop(key, None)
        return True

    async def _api_setChatMenuButton(self, params: _Params) -> bool:
        chat_id = params.get_int("chat_id")
        self.menu_buttons[chat_id] = params.get_json("menu_button") or {"type": "default"}
        return True

    async def _api_getChatMenuButton(self, params: _Params) -> dict[str, Any]:
        chat_id = params.get_int("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _api_getFile(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.require_str("file_id"))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


