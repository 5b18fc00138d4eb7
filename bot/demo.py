"""The terminal demo: chat with the real bot without a token or a network.

The bot runs unchanged against :class:`bot.localapi.LocalBotApi`; the terminal plays the
users. Lines typed are sent as the current persona (a mentor by default, or the admin), bot
messages are printed as they arrive, for every persona, with buttons (inline or on the
keyboard) numbered so that ``#2`` presses the second one; files the bot sends are saved (under
``.demo/files/``) with their path printed, and ``!kirim`` sends one. Works interactively and with
a script piped into stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from telegram.ext import Application

from bot.localapi import (
    CallbackAnswer,
    LocalBotApi,
    SentMessage,
    start_application,
    stop_application,
)
from models.crypto import new_key

_START_LINK = re.compile(r"t\.me/\w+\?start=([\w-]+)")

MENTOR_NAME = "Siti Rahma"
MENTOR_PHONE = "+6281234567890"
ADMIN_NAME = "Admin KUBE"
ADMIN_PHONE = "+6281100000001"
DEFAULT_LOCATION = (-6.91, 107.61)  # Bandung

# How long one action may take the bot before the demo moves on with a warning.
SETTLE_TIMEOUT = 30.0

WELCOME = """\
=== Pendamping KUBE: demo di terminal / terminal demo ===
Tanpa token, tanpa internet: bot asli berjalan di sini dengan server Telegram tiruan.
No token, no internet: the real bot runs here against a simulated Telegram server.

Ketik pesan seperti di Telegram, misalnya /start.
Type messages as you would in Telegram, for example /start.
"""

HELP = """\
Perintah demo / demo commands:
  #2                     tekan tombol 2 pesan terakhir (juga tombol keyboard)
                         press button 2 of the latest message (keyboard buttons too)
  !kontak                bagikan nomor HP / share your phone number
  !lokasi -6.91 107.61   bagikan lokasi / share a location
  !foto                  kirim foto / send a photo
  !kirim data.xlsx       kirim berkas, misalnya untuk /impor / send a file (to try the import)
                         berkas dari bot disimpan di / files the bot sends are saved in .demo/files/
  !mentor, !admin        ganti persona / switch persona
  !persona 123 Nama      pengguna lain / another user (id, name)
  !buka                  buka tautan undangan terakhir / open the latest invite link
  !tunggu 2              tunggu 2 detik (siaran berjalan) / wait 2 s (a broadcast runs)
  /dasbor                (sebagai !admin) tautan dasbor untuk browser
                         (as !admin) a dashboard link to open in a browser
  baris \\               akhiri baris dengan \\ untuk pesan beberapa baris
                         end a line with \\ to send several lines as one message
  !bantu                 bantuan ini / this help
  !keluar                keluar / quit
"""


@dataclass
class Persona:
    """A simulated Telegram user the terminal can speak as."""

    user_id: int
    name: str
    role: str
    phone: str


class _Style:
    """ANSI styling only on a real terminal (and never with NO_COLOR), so pipes get plain text."""

    def __init__(self, stream: TextIO):
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) and "NO_COLOR" not in os.environ

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bot(self, text: str) -> str:
        return self(text, "1;36")

    def user(self, text: str) -> str:
        return self(text, "1;32")

    def button(self, text: str) -> str:
        return self(text, "33")

    def note(self, text: str) -> str:
        return self(text, "2")


class _LineReader:
    """Reads stdin in a daemon thread so the event loop (and the bot) never blocks on input.

    A daemon thread rather than the default executor: a pending ``readline`` on a terminal
    must not keep the process alive after ``!keluar`` or Ctrl-C.
    """

    def __init__(self, stream: TextIO, loop: asyncio.AbstractEventLoop):
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = loop
        thread = threading.Thread(target=self._run, args=(stream,), name="demo-stdin", daemon=True)
        thread.start()

    def _run(self, stream: TextIO) -> None:
        try:
            for line in iter(stream.readline, ""):
                self._put(line)
        except (OSError, ValueError):
            pass  # stdin closed under us: treat like EOF
        finally:
            self._put(None)

    def _put(self, line: str | None) -> None:
        # RuntimeError: the loop is already closed; nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    async def readline(self) -> str | None:
        """The next line without its newline, or None at end of input."""
        line = await self._queue.get()
        return None if line is None else line.rstrip("\r\n")


class TerminalChat:
    """Prints what the bot sends and turns typed lines into user updates."""

    def __init__(self, server: LocalBotApi, app: Application, personas: list[Persona],
                 out: TextIO, *, interactive: bool, settle_timeout: float = SETTLE_TIMEOUT,
                 files_dir: Path | None = None):
        """``interactive``: a person types at a terminal (prompts, no echo of the input);
        ``files_dir``: where the files the bot sends are saved (None: not saved)."""
        self.server = server
        self.app = app
        self.out = out
        self.style = _Style(out)
        self.personas = {p.user_id: p for p in personas}
        self.current = personas[0]
        self.settle_timeout = settle_timeout
        self.interactive = interactive
        self._prompt_shown = False
        self._reprompt = False
        # The newest invite code shown, in the order messages arrived: the server's list sorts
        # one second's messages by chat, so another chat's older link could look newer.
        self._last_code: str | None = None
        # The reply keyboard shown in each chat: the message that brought it and its buttons.
        self._keyboards: dict[int, tuple[int, list[dict[str, Any]]]] = {}
        self.files_dir = files_dir
        for persona in personas:
            self._register(persona)

    # -- output --------------------------------------------------------------------------------

    def write(self, text: str = "") -> None:
        if self._prompt_shown:
            # Something arrived while the prompt waits (a reminder, say): wipe the prompt,
            # print, and let the caller show the prompt again.
            self.out.write("\r\033[K" if self.style.enabled else "\n")
            self._prompt_shown = False
            self._reprompt = True
        self.out.write(text + "\n")
        self.out.flush()

    def _label(self, chat_id: int) -> str:
        persona = self.personas.get(chat_id)
        if persona is None:
            return f"chat {chat_id}"
        label = f"{persona.name} ({persona.role})"
        if persona is not self.current:
            label += " [persona lain / other persona]"
        return label

    def show_message(self, message: SentMessage) -> None:
        """Listener for LocalBotApi.on_sent: new messages, edits and deletions."""
        if message.deleted:
            state = " (dihapus / deleted)"
        elif message.edits:
            state = " (diubah / edited)"
        else:
            state = ""
        header = self.style.bot(f"[bot -> {self._label(message.chat_id)}]{state}")
        if message.deleted:
            self.write(f"{header} pesan #{message.message_id}")
            self._restore_prompt()
            return
        if not message.edits and (link := _START_LINK.search(message.content or "")):
            self._last_code = link.group(1)
        lines = _body_lines(message)
        self.write(f"{header} {lines[0]}" if lines else header)
        for line in lines[1:]:
            self.write(f"    {line}" if line.strip() else "")
        number = 0
        for row in message.inline_keyboard:
            cells = []
            for button in row:
                number += 1
                cells.append(self.style.button(f"[{number}] {button.get('text', '')}"))
            self.write("    " + "  ".join(cells))
        self._show_reply_keyboard(message)
        if not message.edits:
            self._save_file(message)
        self._restore_prompt()

    def _save_file(self, message: SentMessage) -> None:
        """Saves a file the bot sent (a workbook, a chart, a photo) under ``files_dir`` and
        prints its path, so what the bot sends can be opened."""
        if self.files_dir is None or message.document_bytes is None:
            return
        name = message.document_name
        if message.kind == "photo":
            # A photo sent as bytes is named after its mime type by python-telegram-bot
            # ("application.octet-stream"): named by what it holds, so it opens as a picture.
            name = "foto" + _image_extension(message.document_bytes, message.mime_type)
        name = name or "berkas"
        safe = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "berkas"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / f"{message.chat_id}-{message.message_id}-{safe}"
        path.write_bytes(message.document_bytes)
        self.write(self.style.note(f"    -> disimpan / saved: {_shown_path(path)}"))

    def _show_reply_keyboard(self, message: SentMessage) -> None:
        """Shows a reply keyboard with its buttons numbered (``#2`` presses one, as for inline
        buttons) and remembers it until it is removed."""
        chat_id, markup = message.chat_id, message.reply_markup
        if not markup:
            return
        if markup.get("remove_keyboard"):
            # Bots often send remove_keyboard just in case; mention it only if one was shown.
            if self._keyboards.pop(chat_id, None) is not None:
                self.write(self.style.note("    (keyboard ditutup / keyboard removed)"))
            return
        rows = markup.get("keyboard")
        if not rows:
            return
        self._keyboards[chat_id] = (message.message_id, [button for row in rows for button in row])
        rendered = []
        number = 0
        for row in rows:
            cells = []
            for button in row:
                number += 1
                text = f"{number}] " + str(button.get("text", ""))
                if button.get("request_contact"):
                    text += " -> !kontak"
                elif button.get("request_location"):
                    text += " -> !lokasi"
                cells.append(f"[{text}")
            rendered.append(" ".join(cells))
        self.write(self.style.button("    keyboard: " + " | ".join(rendered)))

    def show_answer(self, answer: CallbackAnswer) -> None:
        """Listener for answered button presses: the little notice Telegram pops up."""
        if answer.text:
            kind = "peringatan / alert" if answer.show_alert else "notifikasi / notice"
            whom = ""
            if answer.user_id != self.current.user_id:
                whom = f" -> {self._label(answer.user_id)}"
            self.write(self.style.note(f"    ({kind}{whom}: {answer.text})"))
            self._restore_prompt()

    def _echo(self, text: str) -> None:
        # On a terminal the user already sees what they typed; for a piped script, echo it
        # so the transcript reads like a conversation.
        if not self.interactive:
            self.write(self.style.user(f"{self.current.name} > ") + text)

    def prompt(self) -> None:
        """Shows "Name > " when a person is typing at a terminal."""
        self._reprompt = False
        if self.interactive:
            self.out.write(self.style.user(f"{self.current.name} > "))
            self.out.flush()
            self._prompt_shown = True

    def _restore_prompt(self) -> None:
        if self._reprompt:
            self.prompt()

    # -- input ---------------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Acts on one typed line; False means quit."""
        self._prompt_shown = False  # the person pressed Enter, so the prompt line is done
        text = line.strip()
        if not text:
            return True
        self._echo(text)
        if text.startswith("#") and text[1:].isdigit():
            await self._press(int(text[1:]))
            return True
        if not text.startswith("!"):
            await self._act(lambda: self.server.send_text(self.current.user_id, text))
            return True
        command, *args = text.split()
        command = command.lower()
        if command in ("!keluar", "!quit", "!exit"):
            self.write("Sampai jumpa! / Goodbye!")
            return False
        if command in ("!bantu", "!help"):
            self.write(HELP)
        elif command == "!admin":
            self.switch_to(self._by_role("admin"))
        elif command == "!mentor":
            self.switch_to(self._by_role("pendamping/mentor"))
        elif command == "!persona":
            self._persona(args)
        elif command == "!kontak":
            persona = self.current
            await self._act(lambda: self.server.share_contact(persona.user_id, persona.phone))
        elif command == "!lokasi":
            await self._location(args)
        elif command == "!foto":
            await self._act(lambda: self.server.send_photo(self.current.user_id))
        elif command in ("!kirim", "!send"):
            await self._send_file(text.split(maxsplit=1)[1] if args else "")
        elif command in ("!buka", "!open"):
            await self._open_link()
        elif command == "!tunggu":
            await asyncio.sleep(min(float(args[0]) if args else 2.0, 30.0))
        else:
            self.write(f"Perintah tidak dikenal / unknown command: {command}. Ketik / type !bantu")
        return True

    async def _open_link(self) -> None:
        """Opens the newest invite link (t.me/...?start=CODE) the bot sent anyone, as the
        current persona: on a phone that is tapping the link, which sends /start CODE."""
        if self._last_code is None:
            self.write("Belum ada tautan undangan / no invite link yet.")
            return
        command = f"/start {self._last_code}"
        self._echo(command)
        await self._act(lambda: self.server.send_text(self.current.user_id, command))

    async def _send_file(self, name: str) -> None:
        """Sends the file at ``name`` as the current persona (a workbook for /impor, say)."""
        path = Path(name.strip().strip("'\"")).expanduser()
        if not name or not path.is_file():
            self.write(f"Berkas tidak ada / no such file: {name or '-'}. "
                       "Pakai / use: !kirim path/to/file.xlsx")
            return
        content, user_id = path.read_bytes(), self.current.user_id
        await self._act(lambda: self.server.send_document(user_id, path.name, content))

    async def _press(self, number: int) -> None:
        """Presses button ``number`` of the newest message with buttons: an inline button, or
        a button of the reply keyboard still shown (its text sent, or the contact / location
        it asks for)."""
        user_id = self.current.user_id
        message = next(
            (m for m in reversed(self.server.sent(user_id))
             if not m.deleted and m.inline_buttons),
            None,
        )
        shown = self._keyboards.get(user_id)
        if shown is not None and (message is None or shown[0] > message.message_id):
            await self._press_keyboard(number, shown[1])
            return
        if message is None:
            self.write("Tidak ada tombol / no buttons to press.")
            return
        buttons = message.inline_buttons
        if not 1 <= number <= len(buttons):
            self.write(f"Tombol 1-{len(buttons)} saja / only buttons 1-{len(buttons)}.")
            return
        button = buttons[number - 1]
        if "callback_data" not in button:
            self.write(f"Tombol ini membuka / this button opens: {button.get('url', '?')}")
            return
        data = str(button["callback_data"])
        user_id = self.current.user_id
        await self._act(lambda: self.server.press_button(user_id, message.message_id, data))

    async def _press_keyboard(self, number: int, buttons: list[dict[str, Any]]) -> None:
        if not 1 <= number <= len(buttons):
            self.write(f"Tombol 1-{len(buttons)} saja / only buttons 1-{len(buttons)}.")
            return
        button, persona = buttons[number - 1], self.current
        if button.get("request_contact"):
            await self._act(lambda: self.server.share_contact(persona.user_id, persona.phone))
        elif button.get("request_location"):
            await self._location([])
        else:
            text = str(button.get("text", ""))
            await self._act(lambda: self.server.send_text(persona.user_id, text))

    async def _location(self, args: list[str]) -> None:
        try:
            latitude, longitude = (float(a) for a in args) if args else DEFAULT_LOCATION
        except ValueError:
            self.write("Pakai / use: !lokasi -6.91 107.61")
            return
        user_id = self.current.user_id
        await self._act(lambda: self.server.share_location(user_id, latitude, longitude))

    def _persona(self, args: list[str]) -> None:
        if not args or not args[0].lstrip("-").isdigit():
            self.write("Pakai / use: !persona <id> <nama / name>")
            return
        user_id = int(args[0])
        persona = self.personas.get(user_id)
        if persona is None:
            name = " ".join(args[1:]) or f"Pengguna {user_id}"
            persona = Persona(user_id, name, "pengguna/user", f"+62813{user_id % 10**7:07d}")
            self.personas[user_id] = persona
            self._register(persona)
        self.switch_to(persona)

    def _by_role(self, role: str) -> Persona:
        return next(p for p in self.personas.values() if p.role == role)

    def switch_to(self, persona: Persona) -> None:
        """Speaks as ``persona`` from now on."""
        self.current = persona
        self.write(self.style.note(f"Sekarang Anda / you are now: {persona.name} ({persona.role}), "
                                   f"id {persona.user_id}, {persona.phone}"))

    def _register(self, persona: Persona) -> None:
        first, _, last = persona.name.partition(" ")
        self.server.user(persona.user_id, first_name=first, last_name=last or None,
                         language_code="id", phone_number=persona.phone)

    async def _act(self, inject: Callable[[], int]) -> None:
        """Injects one update and waits until the bot has fully handled it."""
        update_id = inject()
        try:
            async with asyncio.timeout(self.settle_timeout):
                await self.server.wait_fetched(update_id, timeout=self.settle_timeout)
                await self.app.update_queue.join()
        except TimeoutError:
            self.write(self.style.note("(bot belum menjawab / the bot has not answered yet)"))


DATA_KEY_FILE = "data.key"


def demo_data_key(folder: Path, out: TextIO | None = None) -> str:
    """The demo's data key, kept in ``folder/data.key`` (readable by the owner only); made on
    first use, saying where it is. Without the file the demo's stored data cannot be read."""
    path = folder / DATA_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = new_key()
    # Created with its final mode, so the key is never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    print(f"(Kunci data demo dibuat / demo data key created: {path})", file=out or sys.stdout)
    return key


def _image_extension(content: bytes, mime_type: str | None) -> str:
    """".png" or ".jpg" from the picture's first bytes, else from its mime type."""
    if content.startswith(b"\x89PNG"):
        return ".png"
    if content.startswith(b"\xff\xd8"):
        return ".jpg"
    guessed = mimetypes.guess_extension(mime_type or "")
    return guessed if guessed and mime_type and mime_type.startswith("image/") else ".jpg"


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (.demo/files/...)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _body_lines(message: SentMessage) -> list[str]:
    if message.kind == "photo":
        lines = ["[foto / photo]"]
    elif message.kind == "document":
        size = len(message.document_bytes) if message.document_bytes is not None else "?"
        lines = [f"[dokumen / document] {message.document_name or '?'} ({size} byte)"]
    elif message.kind == "location":
        lines = [f"[lokasi / location] {message.latitude}, {message.longitude}"]
    else:
        lines = []
    content = message.content
    if content:
        lines.extend(content.splitlines() or [""])
    return lines


async def run_demo(
    build_app: Callable[[str], Application],
    *,
    admin_id: int,
    mentor_id: int,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    settle_timeout: float = SETTLE_TIMEOUT,
    first_update_id: int = 1,
    files_dir: Path | None = None,
) -> None:
    """Runs the bot built by ``build_app(base_url)`` against a local server, chatting in the
    terminal until ``!keluar`` or the end of stdin (after the bot answered the last line).

    ``first_update_id`` continues the numbering of an earlier demo on the same database, as
    Telegram's ids keep growing: the bot drops an id it has already handled as a redelivery.
    ``files_dir``: where the files the bot sends are saved (``.demo/files``; None: not saved).
    """
    server = LocalBotApi(first_update_id=first_update_id)
    await server.start()
    app: Application | None = None
    try:
        app = build_app(server.base_url)
        personas = [
            Persona(mentor_id, MENTOR_NAME, "pendamping/mentor", MENTOR_PHONE),
            Persona(admin_id, ADMIN_NAME, "admin", ADMIN_PHONE),
        ]
        chat = TerminalChat(server, app, personas, stdout, settle_timeout=settle_timeout,
                            interactive=_isatty(stdin) and _isatty(stdout), files_dir=files_dir)
        server.on_sent(chat.show_message)
        server.on_callback_answer(chat.show_answer)
        chat.write(WELCOME)
        chat.write(HELP)
        await start_application(app)
        dashboard = getattr(app.bot_data, "dashboard_local_url", None)
        if dashboard:
            chat.write(chat.style.note(
                f"Dasbor / dashboard: {dashboard} (masuk dengan tautan "
                "/dasbor sebagai !admin / sign in with /dasbor's link as !admin)"))
        chat.switch_to(chat.current)
        reader = _LineReader(stdin, asyncio.get_running_loop())
        while True:
            chat.prompt()
            line = await reader.readline()
            # A line ending in a backslash continues on the next one, so a member list
            # (one household per line) can be sent as one message, as on a phone.
            while line is not None and line.endswith("\\"):
                more = await reader.readline()
                line = line[:-1] + ("\n" + more if more is not None else "")
            if line is None:
                if chat.interactive:
                    chat.write()  # Ctrl-D: end the prompt line
                break
            if not await chat.handle(line):
                break
    finally:
        try:
            if app is not None:
                await stop_application(app)
        finally:
            await server.stop()
