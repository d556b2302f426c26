"""``thidua demo``: the bot against the built-in Bot API sandboxes (Telegram and Zalo), on a fresh SQLite file
with a demo union, and a terminal chat to talk to it as a member, an officer, a newcomer or a member on Zalo
(numbered menus, plain text). No token, no network.

The terminal chat explains itself when it starts (its texts are the catalogs' "demo" keys). It reads a
terminal, a script (``thidua demo < script.txt``) or nothing; files the bot sends and the log go beside the
database.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import SecretStr

from bot.app import Runtime, prepare_database
from bot.channels.telegram.updates import CHANNEL
from bot.channels.zalo.updates import CHANNEL as ZALO
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.domain.evaluation import open_evaluation
from bot.domain.officers import grant_officer
from bot.domain.roster import import_members, import_units
from bot.domain.titles import NEEDS_INITIATIVE
from bot.domain.vn.textkeys import search_key
from bot.engine.clock import TravelClock
from bot.engine.config import ConfigError, Settings
from bot.engine.logs import setup_logging
from bot.sandbox import SandboxUser, SentMessage, TelegramSandbox, ZaloSandbox, ZaloUser
from bot.sandbox.telegram import JsonDict
from handlers.campaign_views import announcement
from messages import LANGUAGES, plain, text
from messages.formatting import VIETNAM
from storage.database import Store
from storage.records import Campaign, Pledge, PledgeResult

DATA = Path(__file__).parent / "data"
DEMO_ACTOR = "demo"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Persona:
    """Someone the demo lets you be."""

    key: str
    user_id: int
    first_name: str
    last_name: str
    phone: str
    role_key: str  # catalog key describing who they are
    zalo_member: str | None = (
        None  # on Zalo, linked to this roster member at seeding (Zalo shares no contact)
    )

    @property
    def full_name(self) -> str:
        """The name as Zalo and the web chat show it, family name first."""
        return f"{self.last_name} {self.first_name}"


PERSONAS = (
    Persona("mai", 1001, "Mai", "Hoàng Thị", "0912345678", "demo.persona_member"),
    Persona("hung", 1002, "Hùng", "Nông Văn", "0987654321", "demo.persona_officer"),
    Persona("nam", 1003, "Nam", "Trần Văn", "0933000111", "demo.persona_newcomer"),
    Persona("hang", 1004, "Hằng", "Lương Thị", "0912345679", "demo.persona_zalo", zalo_member="CB-0003"),
)

TOUR = (
    ("hung", "/start"),  # the officer first: the newcomer's request below is then his to approve
    ("hung", ":share"),
    ("mai", "/start"),
    ("mai", ":share"),
    ("mai", "/phongtrao"),
    ("mai", ":press Lao động giỏi"),
    ("mai", ":press Đăng ký thi đua"),
    ("mai", ":press Lao động tiên tiến"),
    ("mai", ":press Xong"),
    ("mai", "Sáng kiến cải tiến quy trình giảng dạy; sáng kiến; 1"),
    ("mai", ":press Xác nhận"),
    ("nam", "/start"),
    ("nam", ":share"),
    ("nam", "1"),
    ("nam", "bao lac"),
    ("nam", ":press 1"),  # the step still takes a new search: a bare number would be one
    ("nam", "Trần Văn Nam"),
    ("nam", "1"),
    ("hung", "/yeucau"),
    ("hung", "1"),
    ("hung", "/phatdong XSD"),
    ("hung", ":press Phát động ngay"),
    ("hung", "/duyet"),
    ("hung", f"/binhxet LDG-{date.today().year}"),
    ("hung", f"/thongke LDG-{date.today().year}"),
    ("hung", f"/baocao LDG-{date.today().year}"),
    ("mai", "/cuatoi"),
    ("nam", "/start"),
    ("hang", "/start"),  # on Zalo: the same bot, choices as a numbered list
    ("hang", "1"),
)


class DemoFolderUnusable(ConfigError):
    """The demo cannot write beside its database (a read-only folder or disk): one line, exit status 2."""


class DemoInUse(ConfigError):
    """Another demo runs on the same database: one line, exit status 2."""


def _unwritable(database: Path, path: Path, error: OSError) -> DemoFolderUnusable:
    return DemoFolderUnusable(f"--db {database}: cannot write {path} ({error.strerror or error})")


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        try:
            file.unlink(missing_ok=True)
        except OSError as error:
            raise _unwritable(path, file, error) from error


def _prepare_file(database: Path, *, keep: bool) -> bool:
    """Remove the last run's database unless it is kept; whether the demo starts on a fresh one."""
    if not keep:
        _remove_database(database)
    return not database.exists()


@contextmanager
def claimed(database: Path) -> Iterator[None]:
    """Hold the demo's database for this run, or say in one line that another demo runs on it: a second demo
    on the same ``--db`` removed the running one's files from under it and emptied its log. The hold is a
    lock on the log beside the database, which the system releases when the process ends, however it ends.
    """
    path = log_file(database)
    try:
        held = path.open("a", encoding="utf-8")
    except OSError as error:  # a read-only folder or disk
        raise _unwritable(database, path, error) from error
    with held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoInUse(
                f"--db {database}: another demo is running on it; stop it, or choose another --db"
            ) from None
        yield


def start_logging(settings: Settings, database: Path) -> None:
    """Log to the file beside the database, or say in one line why it cannot be written there."""
    path = log_file(database)
    try:
        setup_logging(settings.secrets(), logging.INFO, path=path, log_format=settings.log_format)
    except OSError as error:  # a read-only folder or disk: before anything else is opened there
        raise _unwritable(database, path, error) from error
    logging.captureWarnings(True)  # a library's warning would otherwise print into the chat


def demo_campaigns(today: date) -> list[CampaignSpec]:
    """The year's campaign, the coming Workers' Month peak campaign and a draft, dated around today."""
    may = date(today.year if today < date(today.year, 4, 20) else today.year + 1, 5, 1)
    return [
        CampaignSpec(
            code=f"LDG-{today.year}",
            title=f"Lao động giỏi, lao động sáng tạo năm {today.year}",
            description="Phong trào thi đua thường xuyên trong đoàn viên, CNVCLĐ toàn tỉnh.",
            kind="ongoing",
            unit_code="LDLD-CB",
            starts_on=date(today.year, 1, 1),
            ends_on=date(today.year, 12, 31) if today.month < 12 else date(today.year + 1, 12, 31),
            registration_deadline=today + timedelta(days=20),
            initiative_target=431,
            split_target="roster",  # the districts' targets: the province's 431 shared by their rosters
            individual_titles=["advanced_worker", "emulation_fighter", "good_worker", "creative_worker"],
            collective_titles=["excellent_collective", "advanced_collective", "strong_union"],
        ),
        CampaignSpec(
            code=f"TCN-{may.year}",
            title=f"Tháng Công nhân năm {may.year}",
            description="Đợt thi đua cao điểm chào mừng Tháng Công nhân và Tháng hành động về ATVSLĐ.",
            kind="peak",
            unit_code="LDLD-BAOLAC",
            starts_on=may,
            ends_on=may.replace(day=31),
            registration_deadline=may - timedelta(days=6),
            individual_titles=["advanced_worker", "outstanding_member"],
            collective_titles=["excellent_collective"],
        ),
        CampaignSpec(
            code="XSD",
            title="Xanh - Sạch - Đẹp, đảm bảo an toàn vệ sinh lao động",
            kind="ongoing",
            unit_code="LDLD-BAOLAC",
            starts_on=today,
            ends_on=today + timedelta(days=180),
            registration_deadline=today + timedelta(days=30),
            individual_titles=["advanced_worker"],
        ),
    ]


DEMO_INITIATIVES = (
    # (member code, title, field, status the council brought it to, value in đồng)
    (
        "CB-0003",
        "Số hóa sổ điểm và sổ liên lạc điện tử cho học sinh",
        "Ứng dụng tiến bộ kỹ thuật",
        "recognised",
        45_000_000,
    ),
    (
        "CB-0005",
        "Quy trình tiếp đón người bệnh theo số thứ tự qua điện thoại",
        "Quản lý",
        "valid",
        120_000_000,
    ),
    ("CB-0007", "Cải tiến bếp đun tiết kiệm củi cho bếp ăn bán trú", "Kỹ thuật", "submitted", 15_000_000),
    (
        "CB-0009",
        "Sắp xếp lại kho hồ sơ một cửa theo mã vạch",
        "Tác nghiệp, nghiệp vụ",
        "revision",
        30_000_000,
    ),
)
REVIEW_PATH = {
    "submitted": (),
    "valid": ("valid",),
    "revision": ("revision",),
    "recognised": ("valid", "recognised"),
}


async def seed_initiatives(store: Store, campaign_code: str, now: datetime) -> None:
    """A handful of initiatives in different states of review, for the year's campaign."""
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code(campaign_code)
        assert campaign is not None
        for code, title, field, status, value in DEMO_INITIATIVES:
            member = await repos.members.by_code(code)
            if member is None:
                continue
            initiative_id = await repos.initiatives.create_draft(
                author_member_id=member.id, unit_id=member.unit_id, campaign_id=campaign.id, now=now
            )
            await repos.initiatives.update_fields(
                initiative_id,
                {
                    "title": title,
                    "title_key": search_key(title),
                    "field": field,
                    "problem": "Công việc thủ công tốn thời gian",
                    "before": "Làm bằng tay, dễ sai sót",
                    "steps": "Thiết kế lại quy trình, thử nghiệm ba tháng",
                    "improvement": "Nhanh hơn, ít sai sót",
                    "first_applied_on": now.date() - timedelta(days=60),
                    "conditions": "Có máy tính và mạng",
                    "benefit": "Tiết kiệm thời gian và chi phí",
                    "value_dong": value,
                },
                now,
            )
            for to_status in ("submitted", *REVIEW_PATH[status]):
                current = await repos.initiatives.get(initiative_id)
                assert current is not None
                scores = (
                    {"novelty": 8, "applicability": 9, "effect": 8} if to_status == "recognised" else None
                )
                await repos.initiatives.move(
                    initiative_id,
                    version=current.version,
                    from_statuses=(current.status,),
                    to_status=to_status,
                    actor=DEMO_ACTOR,
                    note="Bổ sung số liệu hiệu quả" if to_status == "revision" else "",
                    now=now,
                    scores=scores,
                )


DEMO_CANDIDATES = (
    # (member code, titles sought, self-assessment sent, a decision made: (title, agreed, present))
    ("CB-0003", ("advanced_worker", "emulation_fighter"), True, ("advanced_worker", 13, 14)),
    ("CB-0004", ("advanced_worker",), True, ("advanced_worker", 12, 14)),
    ("CB-0005", ("advanced_worker", "good_worker"), True, None),
    ("CB-0006", ("advanced_worker",), False, None),
)
DEMO_PLEDGES = (
    Pledge("Sáng kiến cải tiến", "sáng kiến", "1"),
    Pledge("Ngày công", "ngày", "250"),
)
DEMO_RESULTS = (PledgeResult(True, "1"), PledgeResult(True, "252"))


async def seed_evaluation(store: Store, campaign_code: str, now: datetime) -> None:
    """The year's evaluation opened today: four candidates in two base unions of Bảo Lạc (Hằng seeks Chiến
    sĩ thi đua cơ sở with her recognised initiative), three self-assessments sent, two decisions made (Hằng's
    Lao động tiên tiến among them, which her Chiến sĩ thi đua needs), and the THCS school's collective
    seeking Tập thể lao động xuất sắc, so Hùng can walk through /binhxet."""
    today = now.astimezone(VIETNAM).date()
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code(campaign_code)
        assert campaign is not None
        assert await open_evaluation(repos, None, campaign, today, VIETNAM, now, today) is None
        for code, titles, submitted, decided in DEMO_CANDIDATES:
            member = await repos.members.by_code(code)
            assert member is not None
            await repos.registrations.save(
                campaign_id=campaign.id,
                member_id=member.id,
                unit_id=None,
                titles=titles,
                pledges=DEMO_PLEDGES,
                initiative_title=DEMO_INITIATIVES[0][1] if NEEDS_INITIATIVE in titles else None,
                registered_by=DEMO_ACTOR,
                now=now,
            )
            registration = await repos.registrations.of_member(campaign.id, member.id)
            assert registration is not None
            status = "submitted" if submitted else "draft"
            results = DEMO_RESULTS if submitted else DEMO_RESULTS[:1]
            await repos.evaluation.save_assessment(registration, results, titles, status, DEMO_ACTOR, now)
            if decided is not None:
                title, agreed, present = decided
                await repos.evaluation.record(
                    campaign_id=campaign.id,
                    member_id=member.id,
                    unit_id=member.unit_id,
                    title=title,
                    reached=True,
                    votes_agreed=agreed,
                    votes_present=present,
                    note="",
                    decided_by=DEMO_ACTOR,
                    now=now,
                )
                await repos.audit.record(
                    DEMO_ACTOR, "evaluation.decide", f"campaign:{campaign.code}", {"member": code}, now
                )
        school = await repos.units.by_code("CDCS-BAOLAC-THCS")
        assert school is not None
        await repos.registrations.save(
            campaign_id=campaign.id,
            member_id=None,
            unit_id=school.id,
            titles=["excellent_collective"],
            pledges=DEMO_PLEDGES[:1],
            initiative_title=None,
            registered_by=DEMO_ACTOR,
            now=now,
        )
        collective = await repos.registrations.of_unit(campaign.id, school.id)
        assert collective is not None
        await repos.evaluation.save_assessment(
            collective, DEMO_RESULTS[:1], collective.titles, "submitted", DEMO_ACTOR, now
        )


async def seed(store: Store, now: datetime) -> None:
    """Load the demo union and roster through the real import, and make Hùng an officer."""
    await prepare_database(store)
    await import_units(store, DATA / "demo_units.csv", actor=DEMO_ACTOR, now=now)
    await import_members(store, DATA / "demo_members.csv", actor=DEMO_ACTOR, now=now)
    await grant_officer(store, "LDLD-BAOLAC", member_code="CB-0002", actor=DEMO_ACTOR, now=now)
    today = now.astimezone(VIETNAM).date()
    async with store.begin() as repos:
        for number, spec in enumerate(demo_campaigns(today)):
            campaign = await create_draft(repos, None, spec, DEMO_ACTOR, now, today)
            assert isinstance(campaign, Campaign), campaign
            if number < 2:  # the third stays a draft for Hùng to launch
                unit = await repos.units.get(campaign.unit_id)
                assert unit is not None
                await launch(
                    repos,
                    None,
                    campaign,
                    announcement(campaign, unit, LANGUAGES, today),
                    default_language="vi",
                    now=now,
                    today=today,
                )
    await seed_initiatives(store, f"LDG-{today.year}", now)
    await seed_evaluation(store, f"LDG-{today.year}", now)
    await link_zalo_personas(store, now)


async def link_zalo_personas(store: Store, now: datetime) -> None:
    """Tie each Zalo persona's account to its roster member, as linking by code will."""
    async with store.begin() as repos:
        for persona in PERSONAS:
            if persona.zalo_member is None:
                continue
            member = await repos.members.by_code(persona.zalo_member)
            assert member is not None, persona.zalo_member
            user_id = str(persona.user_id)
            account = await repos.accounts.touch(ZALO, user_id, user_id, persona.full_name, now)
            await repos.accounts.link(account.id, member.id, now)


CONTINUED = "\\"  # a line ending with a backslash goes on on the next line
MORE_PROMPT = "... "
Pressable = tuple[SentMessage, JsonDict, bool]  # a message, one of its buttons, and whether it is inline


def buttons_of(message: SentMessage) -> list[JsonDict]:
    """The buttons a message shows, left to right and top to bottom: inline, else its reply keyboard."""
    rows = message.inline_keyboard or message.reply_keyboard or []
    return [button for row in rows for button in row]


def render(message: SentMessage, first: int = 1) -> str:
    """A bot message as the terminal shows it: plain text (tags dropped, entities decoded), buttons
    numbered from ``first``."""
    lines = [f"🤖 {line}" for line in message.plain_text.splitlines()] or ["🤖"]
    labels = [str(button["text"]) for button in buttons_of(message)]
    if labels:
        lines.append("   " + "  ".join(f"[{number}] {label}" for number, label in enumerate(labels, first)))
    return "\n".join(lines)


def _matching(buttons: list[JsonDict], label: str) -> JsonDict | None:
    wanted = label.casefold()
    exact = next((button for button in buttons if str(button["text"]).casefold() == wanted), None)
    return exact or next((button for button in buttons if wanted in str(button["text"]).casefold()), None)


class TerminalChat:
    """Plays a persona's side of the conversation and prints what the bot sends.

    Buttons are numbered across the messages shown since the last input. A bare number presses one unless
    the open dialog step waits for typed text (a title, a date, a score): there the number is the answer.
    ``:press N`` and ``:press LABEL`` always press, LABEL on any message of the chat, newest first.
    """

    def __init__(
        self, sandbox: TelegramSandbox, runtime: Runtime, database: Path, zalo: ZaloSandbox | None = None
    ) -> None:
        self.sandbox = sandbox
        self.runtime = runtime
        self.language = runtime.settings.language
        self.database = database  # files the bot sends are saved beside it, named after it
        self.log_file = log_file(database)
        self.users = {
            p.key: sandbox.user(p.user_id, p.first_name, p.last_name, phone=p.phone)
            for p in PERSONAS
            if p.zalo_member is None
        }
        self.zalo_users: dict[str, ZaloUser] = {
            p.key: zalo.user(str(p.user_id), p.full_name)
            for p in PERSONAS
            if zalo is not None and p.zalo_member is not None
        }
        self.zalo_seen: dict[str, int] = dict.fromkeys(self.zalo_users, 0)  # messages already shown
        self.seen: dict[tuple[int, int], int] = {}  # (chat, message id) -> edits already shown
        self.numbered: dict[str, list[Pressable]] = {key: [] for key in self.users}
        self.written: set[Path] = set()
        self.current = "mai"

    @property
    def user(self) -> SandboxUser:
        """The persona being played."""
        return self.users[self.current]

    def _t(self, key: str, **params: object) -> str:
        return plain(text(self.language, key, **params))

    async def say(self, entry: str) -> str:
        """Act on one entry typed by the person (lines joined where one ended with a backslash); returns
        what to print. An error never reaches the terminal: it is logged, and one line says where."""
        try:
            return await self._act(entry.strip())
        except Exception:
            # Not the words themselves: they may be personal (a phone number, a name).
            log.exception("the demo could not act on what %s typed", self.current)
            return self._t("demo.error", log=self.log_file)

    async def _act(self, entry: str) -> str:
        if entry.startswith(":as"):
            key = entry[3:].strip()
            if key not in self.users and key not in self.zalo_users:
                return self._t("demo.personas", keys=", ".join([*self.users, *self.zalo_users]))
            self.current = key
            return self.flush()
        if self.current in self.zalo_users:
            return await self._act_on_zalo(self.zalo_users[self.current], entry)
        update_id: int | None
        if entry == ":share":
            update_id = await self.user.share_contact()
        elif entry == ":press" or entry.startswith(":press "):
            target = entry.removeprefix(":press").strip()
            update_id = await self._press(target)
            if update_id is None:
                return self._t("demo.no_button", button=target)
        elif _is_number(entry) and await self._number_presses(int(entry)):
            update_id = await self._press_shown(int(entry))
            if update_id is None:
                return self._t("demo.no_button", button=entry)
        elif entry:
            update_id = await self.user.send(entry)
        else:
            return ""
        assert self.runtime.telegram is not None
        await self.runtime.telegram.wait_processed(update_id)
        await self.runtime.outbox.wait_idle()
        return self.flush()

    async def _act_on_zalo(self, user: ZaloUser, entry: str) -> str:
        """On Zalo there are no buttons: every entry is typed, ``:press X`` types X (a number or words)."""
        if entry == ":share":
            return self._t("demo.zalo_no_contact")
        typed = entry.removeprefix(":press").strip() if entry.startswith(":press") else entry
        if not typed:
            return ""
        message_id = await user.send_text(typed)
        assert self.runtime.zalo is not None
        await self.runtime.zalo.wait_processed(message_id)
        await self.runtime.outbox.wait_idle()
        return self.flush()

    async def _number_presses(self, number: int) -> bool:
        shown = self.numbered[self.current]
        return 1 <= number <= len(shown) and not await self._waits_for_typing()

    async def _waits_for_typing(self) -> bool:
        """Whether the persona's open dialog step takes typed text (read as the router would find it)."""
        async with self.runtime.store.begin(deferred=True) as repos:
            state = await repos.dialogs.get(CHANNEL, str(self.user.chat_id))
        flow = self.runtime.router.routes.flows.get(state.flow) if state is not None else None
        return flow is not None and state is not None and state.step not in flow.buttons_only

    async def _press(self, target: str) -> int | None:
        if _is_number(target):
            return await self._press_shown(int(target))
        for message in reversed(self.user.messages() if target else []):
            button = _matching(buttons_of(message), target)
            if button is not None:
                return await self._press_button((message, button, bool(message.inline_keyboard)))
        return None

    async def _press_shown(self, number: int) -> int | None:
        shown = self.numbered[self.current]
        return await self._press_button(shown[number - 1]) if 1 <= number <= len(shown) else None

    async def _press_button(self, pressable: Pressable) -> int | None:
        message, button, inline = pressable
        if not inline:
            return await self.user.press_key(button)
        try:
            return await self.user.press_in(message, str(button["text"]))
        except LookupError:  # the message was deleted, or edited since without this button
            return None

    def flush(self) -> str:
        """Everything new or edited in the current persona's chat since it was last shown; its buttons are
        numbered on from one, and files are saved beside the database."""
        if self.current in self.zalo_users:
            sent = self.zalo_users[self.current].messages()
            fresh_zalo, self.zalo_seen[self.current] = sent[self.zalo_seen[self.current] :], len(sent)
            return "\n".join("\n".join(f"🤖 {line}" for line in m.text.splitlines()) for m in fresh_zalo)
        fresh: list[str] = []
        numbered: list[Pressable] = []
        for message in self.user.messages():
            key = (message.chat_id, message.message_id)
            if self.seen.get(key) == message.edits:
                continue
            shown = render(message, len(numbered) + 1)
            numbered += [(message, button, bool(message.inline_keyboard)) for button in buttons_of(message)]
            saved = self._save_file(message) if key not in self.seen else None
            if saved is not None:
                shown += "\n   " + self._t("demo.file_saved", path=saved)
            fresh.append(("✏️ " if key in self.seen else "") + shown)
            self.seen[key] = message.edits
        if fresh:
            self.numbered[self.current] = numbered
        return "\n".join(fresh)

    def _save_file(self, message: SentMessage) -> Path | None:
        if message.file_bytes is None:
            return None
        # The name may come from a member's upload: keep only its last part.
        name = PurePosixPath((message.file_name or "file").replace("\\", "/")).name or "file"
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        path = self.database.with_name(f"{self.database.stem}-{name}")
        copy = 1
        while path in self.written:  # the same report again in this run: keep both
            copy += 1
            path = self.database.with_name(f"{self.database.stem}-{stem}-{copy}{suffix}")
        path.write_bytes(message.file_bytes)
        self.written.add(path)
        return path.resolve()

    def prompt(self) -> str:
        """The prompt naming the persona."""
        return f"[{self.current}] > "


def _is_number(entry: str) -> bool:
    return entry.isascii() and entry.isdecimal()  # isdigit() would take "²", which int() refuses


def log_file(database: Path) -> Path:
    """Where the demo logs: beside its database ("thidua-demo.log" for "thidua-demo.db")."""
    return database.with_suffix(".log")


def _standard_input() -> BinaryIO | None:
    """Standard input as bytes, read from its descriptor, past ``sys.stdin``'s own reader: the thread waiting
    for the next line held that reader's lock, and the interpreter, closing ``sys.stdin`` at exit, aborted
    ("Fatal Python error: _enter_buffered_busy", status -6) whenever the demo ended, by ``:quit`` or Ctrl-C,
    while a terminal was still waiting for a line."""
    if sys.stdin is None:
        return None
    try:
        descriptor = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a stream with no descriptor: read it so
        return sys.stdin.buffer
    return open(descriptor, "rb", buffering=0, closefd=False)  # the process's own input, never closed


class LineSource:
    """The person's input line by line, read by a daemon thread: a terminal, a pipe, a file and /dev/null
    all work, the event loop never waits on them, and an exit never waits on a terminal read."""

    def __init__(self, stream: BinaryIO | None) -> None:
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._ended = False
        self.interrupted = False
        threading.Thread(target=self._pump, args=(stream,), name="demo-input", daemon=True).start()

    def _put(self, line: str | None) -> None:
        with suppress(RuntimeError):  # the demo has ended while a line was being typed
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def _pump(self, stream: BinaryIO | None) -> None:
        try:
            for raw in stream or ():
                self._put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        finally:
            self._put(None)

    def interrupt(self) -> None:
        """Ctrl-C: the input ends here, as at its end; a line being continued is dropped."""
        self.interrupted = True
        self._lines.put_nowait(None)

    async def readline(self) -> str | None:
        """The next line, without its line break; None at the end of input, and ever after."""
        if self._ended:
            return None
        line = await self._lines.get()
        self._ended = line is None
        return line


async def _read_entry(source: LineSource, echo: bool) -> str | None:
    """One entry: a line, continued on the next while it ends with a backslash; None at the end of input.
    A script's lines are echoed, so that its transcript reads like a typed conversation."""
    parts: list[str] = []
    while (line := await source.readline()) is not None:
        if echo:
            print(line)
        if not line.endswith(CONTINUED):
            return "\n".join([*parts, line])
        parts.append(line.removesuffix(CONTINUED))
        print(MORE_PROMPT, end="", flush=True)
    return "\n".join(parts) if parts and not source.interrupted else None


async def _interactive(chat: TerminalChat, source: LineSource, *, echo: bool) -> None:
    while True:
        print(chat.prompt(), end="", flush=True)
        entry = await _read_entry(source, echo)
        if entry is None or entry.strip() in (":quit", ":q"):
            print()
            return
        output = await chat.say(entry)
        if output:
            print(output)


async def _tour(chat: TerminalChat) -> None:
    for persona, line in TOUR:
        if chat.current != persona:
            print(f"\n—— {persona} ——")
            waiting = await chat.say(f":as {persona}")
            if waiting:
                print(waiting)
        print(chat.prompt() + line)
        output = await chat.say(line)
        if output:
            print(output)


@dataclass(frozen=True)
class DemoWorld:
    """The running demo: both sandboxes, the bot on the demo database, and the clock it reads."""

    sandbox: TelegramSandbox
    zalo: ZaloSandbox
    runtime: Runtime
    clock: TravelClock
    database: Path


@asynccontextmanager
async def demo_world(settings: Settings, database: Path, *, keep: bool = False) -> AsyncIterator[DemoWorld]:
    """The sandboxes and the bot running on the demo database: fresh and seeded, or with ``keep`` the one
    left by an earlier run (seeded only when there is none yet)."""
    fresh = _prepare_file(database, keep=keep)
    sandbox, zalo = TelegramSandbox(), ZaloSandbox()
    await sandbox.start()
    await zalo.start()
    demo_settings = settings.model_copy(
        update={
            "database_url": f"sqlite:///{database}",
            "telegram_token": SecretStr(sandbox.token),
            "telegram_api_url": sandbox.api_url,
            "zalo_token": SecretStr(zalo.token),
            "zalo_api_url": zalo.api_url,
            # Quiet hours would hold the demo's announcements until morning for whoever tries it at night.
            "quiet_hours": False,
        }
    )
    clock = TravelClock()  # the web chat moves it forward; nothing else in the demo does
    runtime = Runtime(demo_settings, clock, poll_timeout=1)
    try:
        if fresh:
            await seed(runtime.store, runtime.clock.now())
        await runtime.start()
        yield DemoWorld(sandbox, zalo, runtime, clock, database)
    finally:
        await runtime.stop()
        await zalo.stop()
        await sandbox.stop()


@asynccontextmanager
async def demo_chat(settings: Settings, database: Path, *, keep: bool = False) -> AsyncIterator[TerminalChat]:
    """The demo running, and the terminal chat with it."""
    async with demo_world(settings, database, keep=keep) as world:
        yield TerminalChat(world.sandbox, world.runtime, database, world.zalo)


async def run_demo(settings: Settings, database: Path, *, tour: bool, keep: bool = False) -> str:
    """Start the sandboxes and the bot on the demo database, then chat in the terminal (or play the tour).

    Standard input may be a terminal, a script (``thidua demo < script.txt``: played line by line, the demo
    ends with it) or nothing (``< /dev/null``). Logs go to a file beside the database, never into the chat.
    """
    with claimed(database):
        start_logging(settings, database)
        return await _chat_in_terminal(settings, database, tour=tour, keep=keep)


async def _chat_in_terminal(settings: Settings, database: Path, *, tour: bool, keep: bool) -> str:
    """The demo running, and the terminal chat (or the tour) with it until the input ends."""
    async with demo_chat(settings, database, keep=keep) as chat:
        language = chat.language
        print(plain(text(language, "demo.instructions")))
        print("\n".join(f"  :as {p.key:<5} {plain(text(language, p.role_key))}" for p in PERSONAS))
        print(plain(text(language, "demo.files", log=chat.log_file.resolve())))
        if tour:
            await _tour(chat)
        else:
            stdin = _standard_input()
            source = LineSource(stdin)
            loop = asyncio.get_running_loop()

            def interrupted() -> None:  # Ctrl-C ends the chat as :quit does; a second one stops it at once
                loop.remove_signal_handler(signal.SIGINT)
                source.interrupt()

            loop.add_signal_handler(signal.SIGINT, interrupted)
            try:
                await _interactive(chat, source, echo=stdin is None or not stdin.isatty())
            finally:
                loop.remove_signal_handler(signal.SIGINT)
    return plain(text(language, "demo.finished", database=database))
