"""Charts sent as PNG photos (/rekap's, a group's figures over time), made one way: matplotlib's
object API on the Agg canvas (no pyplot, no global state), so a chart may be drawn in a worker
thread while the bot goes on answering others."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ChatAction

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches at 100 dpi, on the Agg canvas.
    matplotlib is loaded on the first chart, not when the bot starts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def send_chart(update: Update, render: Callable[[], bytes], *, caption: str) -> None:
    """Shows "sending a photo" in the chat, draws ``render`` in a worker thread and sends the
    PNG it returns as a photo with ``caption``."""
    chat = update.effective_chat
    assert chat is not None
    await chat.send_action(ChatAction.UPLOAD_PHOTO)
    photo = await asyncio.to_thread(render)
    await chat.send_photo(photo=photo, caption=caption)
