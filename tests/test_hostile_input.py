"""Hostile input: whatever people (or a garbling client, or a forger) send, the bot answers politely.

First the button codec on its own (round trips, every refusal rule, the 64-byte check); then property tests
that drive ONE real bot (on a loop of its own thread, so hypothesis's synchronous examples can use it) with
arbitrary text, commands with arguments, button payloads (random, truncated, other people's, other units',
the garbled ones of issue 9), contacts and files, inside every flow. No example may make the bot apologise
for an error, log an ERROR, or send anything the Bot API sandbox rejects (bad HTML, over-long text or
callback data), and every notice queued for others must be delivered.

The many examples run on the in-process channel with buttons, each message it records checked as the
sandbox checks one; fewer run on Telegram through the sandbox, for what only that path has (payloads kept
by the channel, uploads, stickers and edits as Telegram sends them, the sandbox's own refusals).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Runtime
from bot.channels.memory import WITH_BUTTONS, MemoryChannel, Sent
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.domain.officers import grant_officer
from bot.engine import buttons as b
from bot.engine.clock import ManualClock
from bot.engine.config import load_settings
from bot.engine.events import Attachment, Kind
from bot.sandbox import SentMessage, TelegramSandbox
from bot.sandbox.telegram import ApiError, message_caption, message_text
from handlers.campaign_views import announcement
from handlers.routes import ROUTES
from messages import LANGUAGES, plain, text
from storage.database import Store
from storage.migrate import upgrade_async
from storage.records import Campaign
from tests.helpers.chat import Chat
from tests.helpers.databases import drop_database, new_database
from tests.helpers.flows import grant_by_account
from tests.helpers.forged import forge
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HOA, HUNG, MAI, NOW, STRANGER, load_roster

Person = Chat | MemoryChat
Replies = list[SentMessage] | list[Sent]

T = TypeVar("T")

# --------------------------------------------------------------------------- the codec on its own

GARBLED = [
    "camp:view:99999999999999999999999",  # beyond SQLite's INTEGER: OverflowError in the query
    "camp:view:²",  # "²".isdigit() is true, int("²") fails
    "pref:quiet:a:b",  # int("a") fails
    "camp:view:9223372036854775808",  # 2**63
    "camp:view:0",
    "camp:view:-1",
    "camp:view:007",
    "camp:view:٣",  # an Arabic-Indic three: int() takes it, the codec does not
    "camp:view: 7",
    "camp:view:7:8",
    "camp:view",
    "camp",
    "",
    ":",
    "vote:yes",
    "~token",
    "lang:fr",
    "rv:approve:1:1",
    "jr:maybe:1",
    "cal:w:1:Tết",
    "cal:t:1:" + "a" * 40,
    "dlg:back:" + "x" * 70,
]


@pytest.mark.parametrize("data", GARBLED)
def test_the_codec_refuses_garbled_payloads(data: str) -> None:
    with pytest.raises(b.MalformedButton):
        b.unpack(data)


def samples(kind: type[b.ButtonData]) -> list[b.ButtonData]:
    """Each payload class filled with its smallest and its largest allowed values."""
    rules = b._rules(kind)
    low: list[object] = []
    high: list[object] = []
    for _, rule in rules:
        if isinstance(rule, b.Ranged):
            low.append(rule.low)
            high.append(rule.high)
        elif isinstance(rule, b.OneOf):
            low.append(rule.choices[0])
            high.append(rule.choices[-1])
        else:
            low.append("a")
            high.append("z" * 32)
    return [kind(*low), kind(*high)]


@pytest.mark.parametrize("kind", b.every_kind(), ids=lambda kind: kind.PREFIX)
def test_every_payload_round_trips_within_64_bytes(kind: type[b.ButtonData]) -> None:
    for value in samples(kind):
        packed = value.pack()
        assert len(packed.encode()) <= b.PAYLOAD_LIMIT
        assert b.unpack(packed) == value
        assert type(value).unpack(packed) == value
        for cut in range(len(packed)):  # a truncated payload is refused, or is another valid one
            try:
                shorter = b.unpack(packed[:cut])
            except b.MalformedButton:
                continue
            assert shorter != value


def test_every_payload_class_is_routed() -> None:
    routed = set(ROUTES.buttons) | {b.OpenCommand}  # "cmd:" buttons run commands in the router itself
    assert routed == set(b.every_kind())


def test_unpack_refuses_each_rule() -> None:
    assert b.unpack("rv:valid:12:3") == b.ReviewStep("valid", 12, 3)
    assert b.unpack("ann:aud:everyone") == b.AudienceEveryone()  # the longest prefix wins
    assert b.unpack("ann:aud:registered:5") == b.AudienceOfCampaign("registered", 5)
    assert b.unpack("ini:campaign:0") == b.InitiativeCampaign(0)  # 0 means none where allowed
    assert b.unpack(f"camp:view:{b.ID_MAX}") == b.ViewCampaign(b.ID_MAX)
    refused = {
        "unknown prefix": "nope:1",
        "too many fields": "rv:valid:12:3:4",
        "too few fields": "rv:valid:12",
        "non-ASCII digits": "rv:valid:１２:3",
        "id out of range": f"rv:valid:{b.ID_MAX + 1}:3",
        "id zero": "rv:valid:0:3",
        "unknown choice": "rv:approve:12:3",
        "minute out of range": "pref:quiet:1440:0",
        "not a word": "cal:t:1:Tet",
        "oversized": "cmd:" + "a" * 61,
        "another action's": "camp:view:1",
    }
    for rule, data in refused.items():
        with pytest.raises(b.MalformedButton):
            b.ReviewStep.unpack(data) if rule == "another action's" else b.unpack(data)


def test_pack_raises_for_a_bug_in_the_code_that_draws_the_button() -> None:
    with pytest.raises(ValueError, match="not a number"):
        b.ViewCampaign(0).pack()
    with pytest.raises(ValueError, match="not one of"):
        b.ChooseLanguage("fr").pack()
    with pytest.raises(ValueError, match="short lowercase word"):
        b.CalendarSwitch(1, "Tết").pack()

    assert len(b.CalendarWords(b.ID_MAX, "a" * 32).pack()) <= b.PAYLOAD_LIMIT  # the longest drawn
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        _Wide(b.ID_MAX, b.ID_MAX, b.ID_MAX).pack()


@dataclass(frozen=True)
class _Wide(b.ButtonData):
    """Three ids: 64 bytes are not enough for three of the largest."""

    PREFIX = "test:wide"
    first: b.Id
    second: b.Id
    third: b.Id


b._BY_PREFIX.pop(_Wide.PREFIX)  # a test class: never routed, never unpacked


# --------------------------------------------------------------------------- one live bot for many examples

ERROR_APOLOGIES = {plain(text(language, "fallback.error")) for language in LANGUAGES}
OFFICERS = {"giao": (777, "CDN-GD", "Giáo"), "tinh": (778, "LDLD-CB", "Tỉnh")}


class ErrorRecords(logging.Handler):
    """Every ERROR (or worse) logged anywhere while the live bot runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass(repr=False)
class LiveBot:
    """The real bot, on the memory channel or polling the sandbox, on an event loop in a thread of its own."""

    folder: Path
    channel: str  # "memory" or "telegram"
    postgres_url: str | None  # the PostgreSQL server with --db=postgres, else None: a SQLite file
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    people: dict[str, Person] = field(default_factory=dict)
    campaign: int = 0
    errors: ErrorRecords = field(default_factory=ErrorRecords)
    checked: dict[str, int] = field(default_factory=dict)  # per person, the messages already checked

    def __repr__(self) -> str:
        return f"LiveBot({self.channel})"

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``work`` on the bot's loop and wait (bounded) for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    async def start(self) -> None:
        """A migrated database with the roster, officers, a launched campaign; the bot on its channel."""
        db_url = await new_database(self.postgres_url, self.folder)
        await upgrade_async(db_url)
        self.store = Store(db_url)
        await load_roster(self.store, self.folder)
        await grant_officer(self.store, "LDLD-HQ", member_code="DV002", actor="test", now=NOW)
        for user_id, unit_code, _ in OFFICERS.values():
            await grant_by_account(self.store, unit_code, self.channel, user_id)
        self.campaign = await self._launched_campaign()
        if self.channel == "telegram":
            self.sandbox = TelegramSandbox()
            await self.sandbox.start()
            settings = load_settings(
                _env_file=None,
                database_url=db_url,
                telegram_token=self.sandbox.token,
                telegram_api_url=self.sandbox.api_url,
            )
            self.runtime = Runtime(settings, ManualClock(NOW), poll_timeout=1)
        else:
            settings = load_settings(_env_file=None, database_url=db_url)
            memory = MemoryChannel(WITH_BUTTONS, settings.language)
            self.runtime = Runtime(settings, ManualClock(NOW), memory=memory)
        await self.runtime.start()
        for name, person in (("mai", MAI), ("hung", HUNG), ("hoa", HOA), ("nam", STRANGER)):
            self.people[name] = self._person(person[0], person[1], person[2], person[3])
        for name, (user_id, _, first_name) in OFFICERS.items():
            self.people[name] = self._person(user_id, first_name, "Cán bộ", None)
        for name in ("mai", "hung", "hoa"):
            await self.people[name].send("/start")
            await self.people[name].share_contact()
        for name in (*OFFICERS, "nam"):
            await self.people[name].send("/start")

    def _person(self, user_id: int, first_name: str, last_name: str | None, phone: str | None) -> Person:
        if self.channel == "telegram":
            user = self.sandbox.user(user_id, first_name, last_name, phone=phone, language_code="vi")
            return Chat(user, lambda: self.runtime)
        return MemoryChat(lambda: self.runtime, user_id, first_name, last_name, phone, "vi")

    async def _launched_campaign(self) -> int:
        spec = CampaignSpec(
            code="BIMAT-2026",
            title="Phong trào thử <b>&amp; «nguy hiểm»",  # HTML-looking on purpose: it must be escaped
            unit_code="LDLD-HQ",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 12, 31),
            registration_deadline=date(2026, 3, 25),
            initiative_target=10,
            individual_titles=["advanced_worker", "emulation_fighter"],
            collective_titles=["excellent_collective"],
        )
        async with self.store.begin() as repos:
            campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
            assert isinstance(campaign, Campaign), campaign
            unit = await repos.units.by_code("LDLD-HQ")
            assert unit is not None
            await launch(
                repos,
                None,
                campaign,
                announcement(campaign, unit, LANGUAGES, NOW.date()),
                default_language="vi",
                now=NOW,
                today=NOW.date(),
            )
        return campaign.id

    async def stop(self) -> None:
        """Stop the bot, then the sandbox."""
        await self.runtime.stop()
        if self.channel == "telegram":
            await self.sandbox.stop()
        await self.store.close()
        await drop_database(self.postgres_url, self.store.url)

    def payloads_on_screen(self) -> list[str]:
        """Every button payload on any bot message of any chat: people's own and other people's."""
        found: set[str] = set()
        for person in self.people.values():
            for message in person.messages:
                if isinstance(message, Sent):
                    found.update(button.payload for row in message.buttons for button in row)
                else:
                    found.update(
                        str(button["callback_data"])
                        for row in message.inline_keyboard
                        for button in row
                        if "callback_data" in button
                    )
        return sorted(found)

    async def failed_deliveries(self) -> list[tuple[str, str, str]]:
        """Outbox rows the sandbox refused."""
        async with self.store.begin() as repos:
            return [row for row in await repos.outbox.statuses() if row[2] == "failed"]

    def refused_by_the_bot_api(self) -> list[str]:
        """What the memory channel recorded since the last look that the sandbox would refuse to send."""
        refused: list[str] = []
        for name, person in self.people.items():
            messages = person.messages
            new, self.checked[name] = messages[self.checked.get(name, 0) :], len(messages)
            for message in new:
                if not isinstance(message, Sent):
                    continue  # the sandbox itself checked it
                try:  # the sandbox's own checks of a message's text or a file's caption
                    if message.file is None:
                        message_text({"text": message.text, "parse_mode": "HTML"})
                    else:
                        message_caption({"caption": message.text, "parse_mode": "HTML"})
                except ApiError as refusal:
                    refused.append(f"{name}: {refusal}")
                too_long = [button.payload for row in message.buttons for button in row]
                refused += [f"{name}: {data!r} over 64 bytes" for data in too_long if len(data.encode()) > 64]
        return refused


def running(folder: Path, channel: str, postgres_url: str | None) -> Iterator[LiveBot]:
    """One bot on ``channel`` for every example that uses it (a bot per example would cost 0.3 s each)."""
    bot = LiveBot(folder, channel, postgres_url)
    thread = threading.Thread(target=bot.loop.run_forever, name=f"hostile-{channel}", daemon=True)
    thread.start()
    logging.getLogger().addHandler(bot.errors)
    try:
        bot.run(bot.start())
        yield bot
    finally:
        logging.getLogger().removeHandler(bot.errors)
        try:
            bot.run(bot.stop())
        finally:
            bot.loop.call_soon_threadsafe(bot.loop.stop)
            thread.join(10)
            bot.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None) -> Iterator[LiveBot]:
    """The bot on the memory channel with buttons, for the many examples."""
    yield from running(tmp_path_factory.mktemp("hostile-memory"), "memory", postgres_url)


@pytest.fixture(scope="module")
def live_telegram(tmp_path_factory: pytest.TempPathFactory, postgres_url: str | None) -> Iterator[LiveBot]:
    """The bot polling the Telegram sandbox, for fewer examples."""
    yield from running(tmp_path_factory.mktemp("hostile-telegram"), "telegram", postgres_url)


# --------------------------------------------------------------------------- what people send

Act = Callable[[LiveBot, Person], Awaitable[Replies]]


@dataclass(frozen=True)
class Step:
    """One thing a person does, named for hypothesis's report of a failing example."""

    name: str
    act: Act

    def __repr__(self) -> str:
        return self.name


def send(words: str) -> Step:
    """Send text (a command when it starts with "/")."""
    return Step(f"send({words!r})", lambda bot, person: person.send(words))


def press(data: str) -> Step:
    """Press a button carrying ``data``, drawn by the bot or not."""
    return Step(f"press({data!r})", lambda bot, person: forge(person, data))


def press_on_screen(pick: int, cut: int | None) -> Step:
    """Press a payload shown to anyone (perhaps someone else, of another unit), perhaps truncated."""

    async def act(bot: LiveBot, person: Person) -> Replies:
        shown = bot.payloads_on_screen()
        data = shown[pick % len(shown)]
        return await forge(person, data[: cut % (len(data) + 1)] if cut is not None else data)

    return Step(f"press_on_screen({pick}, cut={cut})", act)


def share_contact(phone: str | None, someone_else: bool) -> Step:
    """Share a contact: one's own, a typed number, or another roster member's."""

    async def act(bot: LiveBot, person: Person) -> Replies:
        other = HUNG[0] if person.user_id != str(HUNG[0]) else MAI[0]
        return await person.share_contact(
            phone or "0900000000", contact_user_id=other if someone_else else None
        )

    return Step(f"share_contact({phone!r}, someone_else={someone_else})", act)


def send_file(kind: str, content: bytes) -> Step:
    """A document, a photo or a sticker."""

    async def act(bot: LiveBot, person: Person) -> Replies:
        if isinstance(person, MemoryChat):
            if kind == "sticker":
                return await person.act(Kind.UNSUPPORTED)
            photo = kind == "photo"
            name, mime = (None, "image/jpeg") if photo else ("tai-lieu <b>.pdf", "application/pdf")
            upload = Attachment(f"file-{len(content)}", name, mime, len(content), photo)
            return await person.act(Kind.FILE, attachment=upload)
        if kind == "photo":
            return await person.act(person.user.send_photo(content))
        if kind == "sticker":
            return await person.act(person.user.send_sticker())
        return await person.act(person.user.send_document("tai-lieu <b>.pdf", content, "application/pdf"))

    return Step(f"send_file({kind!r}, {len(content)} bytes)", act)


def edit_last(words: str) -> Step:
    """Edit one's last text message (when there is one)."""

    async def act(bot: LiveBot, person: Person) -> Replies:
        if isinstance(person, MemoryChat):
            return await person.act(Kind.EDITED, text=words)
        try:
            return await person.act(person.user.edit_last_message(words))
        except LookupError:
            return []

    return Step(f"edit_last({words!r})", act)


COMMANDS = sorted({name for c in ROUTES.commands for name in (c.name, c.alias) if name} | {"xyz", "start"})
typed = st.text(min_size=1, max_size=120).filter(str.strip) | st.sampled_from(
    [
        "0",
        "²",
        "٣",
        "-1",
        "99999999999999999999999",
        "25/13 25:00",
        "<b>",
        "&",
        "hôm qua",
        "CDCS-DL",
        "a" * 300,
    ]
)
long_text = st.integers(3500, 4096).map(lambda n: ("Đoàn viên <i>&" * 400)[:n])
payload = (
    st.sampled_from(GARBLED).filter(bool)
    | st.text(min_size=1, max_size=64)
    | st.from_regex(r"[a-z]{1,6}(:[a-z0-9²٣_~-]{0,22}){0,4}", fullmatch=True)
)
steps = st.one_of(
    typed.map(send),
    long_text.map(send),
    st.builds(
        lambda name, args: send(f"/{name} {args}".strip()), st.sampled_from(COMMANDS), typed | st.just("")
    ),
    payload.map(press),
    st.builds(press_on_screen, st.integers(0, 10_000), st.none() | st.integers(0, 64)),
    st.builds(press_on_screen, st.integers(0, 10_000), st.none()),
    st.builds(
        share_contact,
        st.none() | st.sampled_from(["0912 345 678", "+84987654321", "12", "abc"]),
        st.booleans(),
    ),
    st.builds(send_file, st.sampled_from(["document", "photo", "sticker"]), st.binary(max_size=64)),
    typed.map(edit_last),
)

# Where each example starts: a person and the steps that open a flow.
FLOWS: dict[str, tuple[str, list[Step]]] = {
    "menu": ("mai", [send("/huy")]),
    "onboarding: contact": ("nam", [send("/huy"), send("/start")]),
    "onboarding: join request": (
        "nam",
        [send("/huy"), send("/start"), share_contact(None, False), press(b.JoinStep("begin").pack())],
    ),
    "/dangky": ("mai", [send("/huy"), send("/dangky BIMAT-2026")]),
    "/sangkien": ("mai", [send("/huy"), send("/sangkien"), press(b.InitiativeStep("new").pack())]),
    "/my": ("mai", [send("/cuatoi")]),
    "/nhacnho": ("hoa", [send("/nhacnho")]),
    "/taophongtrao": ("hung", [send("/taophongtrao")]),
    "/taophongtrao as a sibling": ("giao", [send("/taophongtrao")]),
    "/duyet": ("hung", [send("/duyet")]),
    "/thongbao": ("hung", [send("/thongbao")]),
    "/thongbao as the province": ("tinh", [send("/thongbao"), send("Họp <b>")]),
    "/phongtrao as an officer": ("hung", [send("/phongtrao")]),
    "/yeucau": ("hung", [send("/yeucau")]),
    "/thongke as a sibling": ("giao", [send("/thongke")]),
    "/moi": ("tinh", [send("/moi")]),
}


def clean(bot: LiveBot, replies: Replies, what: str) -> None:
    """No error apology, no ERROR record (a sandbox refusal of a reply is logged as one), no failed notice,
    nothing recorded in memory that the sandbox would refuse."""
    errors = [f"{record.name}: {record.getMessage()}" for record in bot.errors.records]
    bot.errors.records.clear()  # before asserting: the next example starts clean
    assert not errors, f"{what}: {errors}"
    assert not [reply for reply in replies if reply.plain_text in ERROR_APOLOGIES], f"{what}: an apology"
    assert not bot.run(bot.failed_deliveries()), f"{what}: a notice was refused by the Bot API"
    refused = bot.refused_by_the_bot_api()
    assert not refused, f"{what}: {refused}"


def answered_politely(live: LiveBot, flow: str, hostile: list[Step], data: st.DataObject) -> None:
    """Open ``flow``, then take the hostile steps, mostly as its person; every answer is clean."""
    name, opening = FLOWS[flow]
    for step in opening:
        clean(live, live.run(step.act(live, live.people[name])), f"{flow}: {step}")
    for step in hostile:
        # Mostly the person in the flow; sometimes someone else, pressing what they were never shown.
        who = data.draw(st.sampled_from([name, *sorted(live.people)]), label="who")
        replies = live.run(step.act(live, live.people[who]))
        clean(live, replies, f"{flow}: {who} {step}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(flow=st.sampled_from(sorted(FLOWS)), hostile=st.lists(steps, min_size=1, max_size=4), data=st.data())
def test_hostile_input_in_every_flow_is_answered_politely(
    live: LiveBot, flow: str, hostile: list[Step], data: st.DataObject
) -> None:
    answered_politely(live, flow, hostile, data)


@pytest.mark.sandbox  # Telegram's own path: payloads kept by the channel, uploads, stickers, real edits
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(flow=st.sampled_from(sorted(FLOWS)), hostile=st.lists(steps, min_size=1, max_size=4), data=st.data())
def test_hostile_input_on_telegram_is_answered_politely(
    live_telegram: LiveBot, flow: str, hostile: list[Step], data: st.DataObject
) -> None:
    answered_politely(live_telegram, flow, hostile, data)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(words=typed | long_text)
def test_the_reminder_text_step_takes_anything(live: LiveBot, words: str) -> None:
    # Only the text step: the moment step's crash on unparseable times is issue 9 case 10, fixed elsewhere;
    # its test (and this one, extended to the moment) belong with that fix.
    hung = live.people["hung"]
    for step in (send("/huy"), press(b.AnnounceStep("new").pack()), send(words), send("/huy")):
        clean(live, live.run(step.act(live, hung)), f"/nhacviec: {step}")


@pytest.mark.parametrize("bot", ["live", pytest.param("live_telegram", marks=pytest.mark.sandbox)])
@pytest.mark.parametrize("data", GARBLED[:3])
def test_the_garbled_payloads_of_issue_9_get_the_stale_button_answer(
    request: pytest.FixtureRequest, bot: str, data: str
) -> None:
    live: LiveBot = request.getfixturevalue(bot)
    mai = live.people["mai"]
    replies = live.run(forge(mai, data))
    clean(live, replies, data)
    # In Mai's language: a hostile example run before on this bot may have pressed her /language button.
    stale = {plain(text(language, "fallback.stale_button")) for language in LANGUAGES}
    assert len(replies) == 1 and replies[0].plain_text in stale
