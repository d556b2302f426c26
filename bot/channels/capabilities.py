"""What a channel can do: buttons or none, edits, files in and out and how large, contact sharing, its text
limit, markup.

Handlers say what to show; ``bot.channels.render`` shapes it for a channel from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Markup = Literal["html", "plain"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """One channel's declaration of what its messages may carry."""

    buttons: bool  # inline buttons under a message; without them choices become a numbered menu
    edits: bool  # a sent message can be edited in place
    files_in: bool  # people can send photos and documents
    files_out: bool  # the bot can send photos and documents
    contact: bool  # people can share their verified phone number
    text_limit: int  # characters in one message
    markup: Markup  # "html": Telegram-style tags; "plain": tags dropped, entities decoded
    # Without files_out, a file can still go as a signed link the bot's web server serves: a chart as a photo
    # URL, a workbook as a download line. True only where the service has a public address to link to.
    file_links: bool = False
    upload_limit: int = 0  # bytes in one file the bot sends (0 where it sends none)

    @property
    def delivers_files(self) -> bool:
        """A chart or a workbook reaches the person, as a file or as a link: the one question handlers ask
        before making one."""
        return self.files_out or self.file_links


# The Bot API takes files of up to 50 MB from a bot (sendDocument, sendPhoto by upload).
TELEGRAM_UPLOAD_LIMIT = 50_000_000
TELEGRAM = Capabilities(
    buttons=True,
    edits=True,
    files_in=True,
    files_out=True,
    contact=True,
    text_limit=4096,
    markup="html",
    upload_limit=TELEGRAM_UPLOAD_LIMIT,
)
# Zalo's Bot API sends no files at all: a file goes as a link (file_links) or not at all.
ZALO = Capabilities(
    buttons=False, edits=False, files_in=True, files_out=False, contact=False, text_limit=2000, markup="plain"
)
