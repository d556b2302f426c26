"""``thidua demo``: the bot against the built-in Bot API sandbox, on a fresh SQLite file with a demo union,
and a terminal chat to talk to it as a member, an officer or a newcomer. No token, no network.

The terminal chat explains itself when it starts (its texts are the catalogs' "demo" keys).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import Runtime, prepare_database
from bot.campaigns import CampaignSpec, create_draft, launch
from bot.config import Settings
from bot.officers import grant_officer
from bot.roster import import_members, import_units
from bot.sandbox import SandboxUser, SentMessage, TelegramSandbox
from bot.textkeys import search_key
from handlers.campaign_views import announcement
from messages import LANGUAGES, plain, text
from messages.formatting import VIETNAM
from storage.database import Store
from storage.records import Campaign

DATA = Path(__file__).parent / "data"
DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class Persona:
    """Someone the demo lets you be."""

    key: str
    user_id: int
    first_name: str
    last_name: str
    phone: str
    role_key: str  # catalog key describing who they are


PERSONAS = (
    Persona("mai", 1001, "Mai", "Hoàng Thị", "0912345678", "demo.persona_member"),
    Persona("hung", 1002, "Hùng", "Nông Văn", "0987654321", "demo.persona_officer"),
    Persona("nam", 1003, "Nam", "Trần Văn", "0933000111", "demo.persona_newcomer"),
)

TOUR = (
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
    ("nam", "1"),
    ("nam", "Trần Văn Nam"),
    ("nam", "1"),
    ("hung", "/start"),
    ("hung", ":share"),
    ("hung", "/yeucau"),
    ("hung", "1"),
    ("hung", "/phatdong XSD"),
    ("hung", ":press Phát động ngay"),
    ("hung", "/duyet"),
    ("hung", f"/thongke LDG-{date.today().year}"),
    ("mai", "/cuatoi"),
    ("nam", "/start"),
)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


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


def render(message: SentMessage) -> str:
    """A bot message as the terminal shows it, buttons numbered."""
    lines = [f"🤖 {line}" for line in message.plain_text.splitlines()] or ["🤖"]
    rows = message.inline_keyboard or message.reply_keyboard or []
    buttons = [str(button["text"]) for row in rows for button in row]
    if buttons:
        lines.append("   " + "  ".join(f"[{number}] {label}" for number, label in enumerate(buttons, 1)))
    return "\n".join(lines)


class TerminalChat:
    """Plays a persona's side of the conversation and prints what the bot sends."""

    def __init__(self, sandbox: TelegramSandbox, runtime: Runtime) -> None:
        self.sandbox = sandbox
        self.runtime = runtime
        self.users = {
            p.key: sandbox.user(p.user_id, p.first_name, p.last_name, phone=p.phone) for p in PERSONAS
        }
        self.seen: dict[tuple[int, int], int] = {}  # (chat, message id) -> edits already shown
        self.current = "mai"

    @property
    def user(self) -> SandboxUser:
        """The persona being played."""
        return self.users[self.current]

    def _buttons(self) -> list[str]:
        for message in reversed(self.user.messages()):
            rows = message.inline_keyboard or message.reply_keyboard
            if rows:
                return [str(button["text"]) for row in rows for button in row]
        return []

    async def say(self, line: str) -> str:
        """Act on one line typed by the person; returns what to print."""
        line = line.strip()
        if line.startswith(":as"):
            key = line[3:].strip()
            if key not in self.users:
                return "personas: " + ", ".join(self.users)
            self.current = key
            return self.flush()
        if line == ":share":
            update_id = await self.user.share_contact()
        elif line.startswith(":press "):
            try:
                update_id = await self.user.press(line.removeprefix(":press ").strip())
            except LookupError:
                return "(" + line.removeprefix(":press ").strip() + "?)"
        elif line.isdigit():
            buttons = self._buttons()
            if not 1 <= int(line) <= len(buttons):
                return f"(no button {line})"
            update_id = await self.user.press(buttons[int(line) - 1])
        elif line:
            update_id = await self.user.send(line)
        else:
            return ""
        assert self.runtime.telegram is not None
        await self.runtime.telegram.wait_processed(update_id)
        await self.runtime.outbox.wait_idle()
        return self.flush()

    def flush(self) -> str:
        """Everything new or edited in the current persona's chat since it was last shown."""
        fresh = []
        for message in self.user.messages():
            key = (message.chat_id, message.message_id)
            if self.seen.get(key) != message.edits:
                fresh.append(("✏️ " if key in self.seen else "") + render(message))
                self.seen[key] = message.edits
        return "\n".join(fresh)

    def prompt(self) -> str:
        """The prompt naming the persona."""
        return f"[{self.current}] > "


async def _interactive(chat: TerminalChat) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        print(chat.prompt(), end="", flush=True)
        raw = await reader.readline()
        if not raw or raw.strip() in (b":quit", b":q"):
            print()
            return
        output = await chat.say(raw.decode(errors="replace"))
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


async def run_demo(settings: Settings, database: Path, *, tour: bool) -> str:
    """Start the sandbox and the bot on a fresh demo database, then chat (or play the tour)."""
    _remove_database(database)
    sandbox = TelegramSandbox()
    await sandbox.start()
    demo_settings = settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{database}",
            "telegram_token": SecretStr(sandbox.token),
            "telegram_api_url": sandbox.api_url,
        }
    )
    # Quiet hours would hold the demo's announcements until morning for whoever tries it in the evening.
    runtime = Runtime(demo_settings, poll_timeout=1, quiet_hours=False)
    try:
        await seed(runtime.store, runtime.clock.now())
        await runtime.start()
        chat = TerminalChat(sandbox, runtime)
        language = demo_settings.language
        print(plain(text(language, "demo.instructions")))
        print("\n".join(f"  :as {p.key:<5} {plain(text(language, p.role_key))}" for p in PERSONAS))
        await (_tour(chat) if tour else _interactive(chat))
    finally:
        await runtime.stop()
        await sandbox.stop()
    return f"demo finished; the conversation is kept in {database}"
