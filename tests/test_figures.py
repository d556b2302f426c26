"""Every figure an officer is shown agrees with the rows, at every level of the unit tree.

A property test drives the real bot through the chat (the in-process channel with buttons) with random
sequences of what happens in a campaign: members link, register, withdraw and register again, submit
initiatives (with a co-author or not), the council reviews them, members move to another base union by a
roster re-import, the province sets targets for the units below (zero too), days pass around the
registration deadline and a second campaign's start. Then it reads what the officers of the province, the
district and a base union are shown (the /thongke text, the campaign page's progress, the chart's input, the
/baocao workbook's summary, units and registrations sheets with the totals row, /tongket) and compares each
figure with a count made here with plain SQL over the tables, independently of the counters.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from bot.app import Runtime
from bot.channels.memory import WITH_BUTTONS, MemoryChannel
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.domain.evaluation import TitleDecision, Vote, decide, open_evaluation
from bot.domain.insight_queries import campaign_figures
from bot.domain.officers import grant_officer
from bot.domain.roster import import_members, import_units
from bot.engine.access import Identity
from bot.engine.clock import ManualClock
from bot.engine.config import load_settings
from bot.reports.charts import ChartData, chart_data
from handlers.campaign_views import announcement
from messages import LANGUAGES, formatting, plain, text
from messages.catalog import catalog
from storage.database import Store
from storage.records import Campaign
from tests.helpers.choices import choices
from tests.helpers.databases import drop_database, new_database
from tests.helpers.files import attached
from tests.helpers.flows import grant_by_account
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import NOW

PROVINCE, DISTRICT, BASE = "LDLD-CB", "LDLD-HQ", "CDCS-DL"
BASES = ("CDCS-DL", "CDCS-YT", "CDCS-THPT")
EMPTY_UNIT = "CDCS-MOI"  # a base union with no members at all
# Roster members beside the test roster's four: code, phone, base union.
EXTRA = [(f"R{n:02d}", f"09000000{n:02d}", BASES[n % 3]) for n in range(1, 7)]
EXTRA.append(("R07", "0900000007", DISTRICT))  # on the district's own staff, in no base union
MEMBERS = {"DV001": "0912345678", "DV002": "0987654321", "DV003": "0911222333", "DV004": "0977111222"}
MEMBERS.update({code: phone for code, phone, _ in EXTRA})
# Officers' accounts with no roster entry: the units each leads. One leads a base union and the district above
# it, as a base union's chair on the district's committee does.
OFFICERS = {
    "province": (9001, (PROVINCE,)),
    "district": (9002, (DISTRICT,)),
    "base": (9003, (BASE,)),
    "both": (9004, (BASE, DISTRICT)),
}
CAMPAIGNS = ("SK-A", "SK-B")
TITLES = {"SK-A": "Sáng kiến toàn tỉnh 2026", "SK-B": "Tháng Công nhân huyện 2026"}
REVIEWS = ("valid", "invalid", "revision", "score", "recognise", "not_recognise")
LABELS = {
    "valid": "Hợp lệ",
    "invalid": "Không hợp lệ",
    "revision": "Yêu cầu bổ sung",
    "score": "Chấm điểm",
    "recognise": "🏅 Công nhận",
    "not_recognise": "Không công nhận",
}
ZONE_HOURS = 7  # Asia/Ho_Chi_Minh, no daylight saving


# --------------------------------------------------------------------------- what happens in a campaign


@dataclass(frozen=True)
class Step:
    """One thing that happens, named for hypothesis's report of a failing example."""

    kind: str
    who: str = ""
    campaign: str = "SK-A"
    detail: Any = None


codes = st.sampled_from(sorted(MEMBERS))
steps = st.one_of(
    st.builds(Step, st.just("link"), codes),
    st.builds(Step, st.just("register"), codes, st.sampled_from(CAMPAIGNS)),
    st.builds(Step, st.just("withdraw"), codes, st.sampled_from(CAMPAIGNS)),
    st.builds(Step, st.just("submit"), codes, st.sampled_from(CAMPAIGNS), st.booleans()),
    st.builds(Step, st.just("withdraw_initiative"), codes),
    st.builds(Step, st.just("review"), st.just(""), st.just("SK-A"), st.sampled_from(REVIEWS)),
    st.builds(Step, st.just("move"), codes, st.just("SK-A"), st.sampled_from([*BASES, DISTRICT])),
    st.builds(
        Step,
        st.just("targets"),
        st.just(""),
        st.just("SK-A"),
        st.dictionaries(
            st.sampled_from([DISTRICT, "CDN-GD", *BASES, EMPTY_UNIT]), st.integers(0, 4), max_size=3
        ),
    ),
    st.builds(Step, st.just("title"), codes, st.just("SK-A"), st.booleans()),
    st.builds(Step, st.just("hours"), st.just(""), st.just("SK-A"), st.integers(1, 40 * 24)),
)


# --------------------------------------------------------------------------- the union and its bot


@dataclass
class Union:
    """The bot on the in-process channel over a copy of the test roster, and its people."""

    folder: Path
    url: str
    clock: ManualClock = field(default_factory=lambda: ManualClock(NOW))
    people: dict[str, MemoryChat] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # member code -> base union, as the roster says

    async def start(self) -> None:
        """Units, roster, officers and two launched campaigns; the bot running."""
        self.store = Store(self.url)
        units = self.folder / "units.csv"
        units.write_text(f"code,name,parent_code\n{EMPTY_UNIT},Công đoàn cơ sở Mới thành lập,{DISTRICT}\n")
        await import_units(self.store, units, actor="test", now=NOW)
        self.units = {"DV001": "CDCS-DL", "DV002": "CDCS-YT", "DV003": "CDCS-THPT", "DV004": "CDCS-THPT"}
        self.units.update({code: unit for code, _, unit in EXTRA})
        await self.import_roster()
        for user_id, led in OFFICERS.values():
            for unit in led:
                await grant_by_account(self.store, unit, "memory", user_id)
        await grant_officer(self.store, DISTRICT, member_code="DV002", actor="test", now=NOW)
        await self._campaign(
            "SK-A", PROVINCE, "ongoing", date(2026, 3, 1), date(2026, 12, 31), date(2026, 3, 25)
        )
        await self._campaign(
            "SK-B", DISTRICT, "peak", date(2026, 3, 20), date(2026, 5, 31), date(2026, 4, 25)
        )
        async with self.store.begin() as repos:  # the year's evaluation of SK-A open from the start
            campaign = await repos.campaigns.by_code("SK-A")
            assert campaign is not None
            zone = load_settings(_env_file=None).zone
            assert await open_evaluation(repos, None, campaign, NOW.date(), zone, NOW, NOW.date()) is None
        settings = load_settings(_env_file=None, database_url=self.url)
        self.runtime = Runtime(settings, self.clock, memory=MemoryChannel(WITH_BUTTONS, settings.language))
        await self.runtime.start()
        for code, phone in MEMBERS.items():
            self.people[code] = MemoryChat(lambda: self.runtime, 1000 + len(self.people), code, None, phone)
        for name, (user_id, _) in OFFICERS.items():
            self.people[name] = MemoryChat(lambda: self.runtime, user_id, "Cán bộ", name)
            await self.people[name].send("/start")

    async def import_roster(self) -> None:
        """The roster as the admin imports it: every member, each in the base union ``units`` says."""
        lines = [f"{code},Đoàn viên {code},{MEMBERS[code]},{unit}" for code, unit in self.units.items()]
        members = self.folder / "members.csv"
        members.write_text(
            "member_code,full_name,phone,unit_code\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        await import_members(self.store, members, actor="test", now=self.clock.now())

    async def _campaign(
        self, code: str, unit_code: str, kind: str, starts: date, ends: date, deadline: date
    ) -> None:
        spec = CampaignSpec(
            code=code,
            title=TITLES[code],
            kind=kind,
            unit_code=unit_code,
            starts_on=starts,
            ends_on=ends,
            registration_deadline=deadline,
            initiative_target=7 if code == "SK-A" else 5,
            individual_titles=["advanced_worker"],
        )
        async with self.store.begin() as repos:
            campaign = await create_draft(repos, None, spec, "test", NOW, NOW.date())
            assert isinstance(campaign, Campaign), campaign
            owner = await repos.units.by_code(unit_code)
            assert owner is not None
            words = announcement(campaign, owner, LANGUAGES, NOW.date())
            await launch(repos, None, campaign, words, default_language="vi", now=NOW, today=NOW.date())

    async def stop(self) -> None:
        """The bot stopped, the database closed."""
        await self.runtime.stop()
        await self.store.close()


async def tap(person: MemoryChat, *labels: str) -> bool:
    """Press the first of ``labels`` the newest message offers; False when it offers none of them."""
    offered = choices(person.last) if person.messages else []
    for label in labels:
        if any(label in choice for choice in offered):
            await person.press(label)
            return True
    return False


async def act(union: Union, step: Step) -> None:
    """Do ``step`` through the chat (a roster move through the admin's import, as it happens)."""
    person = union.people.get(step.who)
    if (person is not None and not person.messages) or step.kind == "link":
        await link(person)  # whoever does something first links, as the bot asks
    if person is not None:
        await person.send("/huy")
    if step.kind == "link":
        return
    if step.kind == "register" and person is not None:
        await person.send(f"/dangky {step.campaign}")
        await tap(person, "Sửa đăng ký")
        await tap(person, "Lao động tiên tiến")
        await tap(person, "Xong")
        await tap(person, "Giữ nguyên", "Bỏ qua")
        await tap(person, "Xác nhận đăng ký")
    elif step.kind == "withdraw" and person is not None:
        await person.send("/phongtrao")
        if await tap(person, TITLES[step.campaign]) and await tap(person, "Rút đăng ký"):
            await tap(person, "↩️ Rút đăng ký")
    elif step.kind == "withdraw_initiative" and person is not None:
        await person.send("/cuatoi")
        if await tap(person, f"Sáng kiến {person.name} số"):
            await tap(person, "Rút sáng kiến")
    elif step.kind == "submit" and person is not None:
        await submit(person, step)
    elif step.kind == "review":
        await review(union.people["province"], step.detail)
    elif step.kind == "move":
        union.units[step.who] = step.detail
        await union.import_roster()
    elif step.kind == "targets":
        officer = union.people["province"]
        await officer.send("/phongtrao")
        if await tap(officer, TITLES["SK-A"]) and await tap(officer, "Chỉ tiêu cho"):
            await officer.send("\n".join(f"{code}: {n}" for code, n in step.detail.items()) or "/huy")
    elif step.kind == "title":
        await decide_title(union, step.who, step.detail)
    elif step.kind == "hours":
        union.clock.advance(timedelta(hours=step.detail))


async def decide_title(union: Union, code: str, reached: bool) -> None:
    """The province's evaluation meeting decides Lao động tiên tiến for a registered member, as its minutes
    are typed in (through the domain: the chat's /binhxet steps are tests/test_evaluation.py's)."""
    async with union.store.begin() as repos:
        campaign = await repos.campaigns.by_code("SK-A")
        member = await repos.members.by_code(code)
        province = await repos.units.by_code(PROVINCE)
        assert campaign is not None and member is not None and province is not None
        registration = await repos.registrations.of_member(campaign.id, member.id)
        if registration is None or registration.status != "active":
            return
        officer = Identity(
            await repos.accounts.touch("memory", "9001", "9001", "Cán bộ", union.clock.now()),
            None,
            None,
            (province,),
            False,
        )
        await decide(
            repos,
            officer,
            TitleDecision(campaign, registration, "advanced_worker", reached, 0),
            vote=Vote(9, 10),
            note="",
            caps=(),
            now=union.clock.now(),
            today=union.clock.now().date(),
        )


async def link(person: MemoryChat | None) -> None:
    """/start, and the contact shared where the bot asks for it."""
    if person is None:
        return
    await person.send("/start")
    if person.last.ask_contact:
        await person.share_contact()


async def submit(person: MemoryChat, step: Step) -> None:
    """The application filled in the chat and submitted, for the step's campaign where it asks."""
    await person.send("/sangkien")
    await tap(person, "Sáng kiến mới")
    await tap(person, TITLES[step.campaign])
    await person.send(f"Sáng kiến {person.name} số {len(person.messages)} về tiết kiệm điện")
    if not await tap(person, "Kỹ thuật"):
        return  # no campaign takes initiatives now
    for answer in (
        "Kiểm tra công tơ phải đến tận nhà",
        "Mỗi tháng hai người đi kiểm tra",
        "Lắp bộ đọc từ xa",
        "Giảm 80% thời gian kiểm tra",
        "15/2",
        "Công tơ điện tử",
        "Tiết kiệm nhân công",
        "80 triệu",
    ):
        await person.send(answer)
    if step.detail:
        await person.send("70")
        await person.send("Nguyễn Văn Bình; 30")
    else:
        await person.send("100")
        await person.send("không")
    await tap(person, "Xong")
    await tap(person, "Nộp sáng kiến")
    await tap(person, "Vẫn nộp", "Nộp")


async def review(officer: MemoryChat, action: str) -> None:
    """The council's officer takes the first initiative in the queue one step."""
    await officer.send("/duyet")
    if not await tap(officer, LABELS[action]):
        return
    if action == "score":
        for point in ("8", "7", "9"):
            await tap(officer, point)
    elif action in ("invalid", "revision"):
        await officer.send("Thiếu số liệu")
    else:
        await tap(officer, "Bỏ qua")


# --------------------------------------------------------------------------- the figures counted afresh


@dataclass(frozen=True)
class Counted:
    """One subtree's figures for one campaign, counted from the rows."""

    roster: int
    linked: int
    registered: int
    submitted: int
    valid: int
    recognised: int
    titles: int  # Lao động tiên tiến reached, by members


async def count(store: Store, campaign_id: int, path: str) -> Counted:
    """The subtree's figures with plain SQL over members, accounts, registrations and initiatives."""
    members = "SELECT count(*) FROM members m JOIN units u ON u.id = m.unit_id WHERE u.path LIKE :p"
    made = (
        "SELECT count(*) FROM initiatives i JOIN units u ON u.id = i.unit_id WHERE u.path LIKE :p"
        " AND i.campaign_id = :c AND i.status"
    )
    queries = {
        "roster": members,
        "linked": f"{members} AND EXISTS (SELECT 1 FROM channel_accounts a WHERE a.member_id = m.id)",
        "registered": "SELECT count(DISTINCT r.member_id) FROM registrations r JOIN members m"
        " ON m.id = r.member_id JOIN units u ON u.id = m.unit_id WHERE u.path LIKE :p"
        " AND r.campaign_id = :c AND r.status = 'active'",
        "submitted": f"{made} NOT IN ('draft', 'withdrawn')",
        "valid": f"{made} IN ('valid', 'recognised', 'not_recognised')",
        "recognised": f"{made} = 'recognised'",
        "titles": "SELECT count(*) FROM title_results t JOIN units u ON u.id = t.unit_id WHERE u.path LIKE :p"
        " AND t.campaign_id = :c AND t.reached AND t.member_id IS NOT NULL",
    }
    found = {}
    async with store.engine.connect() as conn:
        for name, query in queries.items():
            found[name] = (
                await conn.execute(sa.text(query), {"p": f"{path}%", "c": campaign_id})
            ).scalar_one()
    return Counted(**found)


async def daily(store: Store, campaign_id: int, path: str) -> dict[date, int]:
    """Submissions of the campaign in the subtree by the local day of their submission."""
    query = (
        "SELECT i.submitted_at FROM initiatives i JOIN units u ON u.id = i.unit_id WHERE i.campaign_id = :c"
        " AND u.path LIKE :p AND i.submitted_at IS NOT NULL AND i.status NOT IN ('draft', 'withdrawn')"
    )
    days: dict[date, int] = {}
    async with store.engine.connect() as conn:
        for (moment,) in await conn.execute(sa.text(query), {"c": campaign_id, "p": f"{path}%"}):
            moment = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
            day = (moment + timedelta(hours=ZONE_HOURS)).date()
            days[day] = days.get(day, 0) + 1
    return days


# --------------------------------------------------------------------------- what officers are shown


def shown(key: str, words: str, *, bare: bool = False) -> dict[str, str]:
    """The values a catalog line shows, read back from ``words``: its placeholders' text (``bare``: the line
    without its leading symbol, as /tongket writes it)."""
    template = plain(catalog("vi")[key])
    template = re.sub(r"^[^\w{]+", "", template) if bare else template
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        pattern += re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
    found = re.search(pattern + "(?:$|\n)", words, re.MULTILINE)
    assert found, f"{key} not in:\n{words}"
    return found.groupdict()


def number(words: str) -> int:
    """A count as the chat writes it (1.709)."""
    return int(words.replace(".", ""))


def check_percent(words: str, part: int, whole: int) -> None:
    """A share's words: "—" with nothing to divide by, "100%" only when all, "0%" only when none, and
    otherwise within half a point (a tenth below 1%) of the share."""
    if whole == 0:
        assert words == "—", (words, part, whole)
        return
    assert (words == "100%") == (part == whole), (words, part, whole)
    assert (words == "0%") == (part == 0), (words, part, whole)
    # Exact arithmetic: in floats 0,8% against 3/400 (0.75) came out just over the twentieth allowed.
    value = Fraction(words.strip("<>%").replace(",", "."))
    share = Fraction(100 * part, whole)
    allowed = Fraction(1, 20) if share < 1 else Fraction(1, 2)
    assert abs(value - share) <= allowed or words[0] in "<>", (words, float(share))


def check_progress(words: str, submitted: int, target: int | None) -> None:
    """Initiatives against a target: "5/120 (4%)", or "5 (chưa giao chỉ tiêu)" where none was given."""
    if target is None:
        assert number(shown("insights.progress_no_target", words)["submitted"]) == submitted, words
        return
    if target == 0:  # a target of none (a split by roster can give one): no share of it to show
        assert words == f"{submitted}/0", words
        return
    read = re.fullmatch(r"([\d.]+)/([\d.]+) \((.+)\)", words)
    assert read, words
    assert (number(read[1]), number(read[2])) == (submitted, target), words
    check_percent(read[3], submitted, target)


async def targets(store: Store, campaign: Campaign) -> dict[int, int]:
    """The targets given, by unit id: the campaign's own for its unit, and those set for units below."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT unit_id, initiative_target FROM campaign_targets WHERE campaign_id = :c"),
            {"c": campaign.id},
        )
        given_below = dict(rows.all())
    if campaign.initiative_target is not None:
        given_below[campaign.unit_id] = campaign.initiative_target
    return given_below


@dataclass(frozen=True)
class View:
    """What one officer sees of one campaign: the scope unit (id, path, name) and the units directly below."""

    officer: str
    campaign: Campaign
    scope: tuple[int, str, str]
    children: list[tuple[int, str, str, str]]  # id, path, name, code


async def view(store: Store, officer: str, campaign: Campaign) -> View:
    """The scope ``officer`` sees the campaign from: the campaign's own unit when they lead it or a unit
    above, else the widest unit they lead inside it."""
    async with store.engine.connect() as conn:
        units = {
            code: (uid, path, name)
            for uid, path, name, code in await conn.execute(sa.text("SELECT id, path, name, code FROM units"))
        }
        owner = next(u for u in units.values() if u[0] == campaign.unit_id)
        led = [units[code] for code in OFFICERS[officer][1]]
        if any(owner[1].startswith(unit[1]) for unit in led):
            scope = owner
        else:
            scope = min((unit for unit in led if unit[1].startswith(owner[1])), key=lambda unit: len(unit[1]))
        rows = await conn.execute(
            sa.text("SELECT id, path, name, code FROM units WHERE parent_id = :p ORDER BY id"),
            {"p": scope[0]},
        )
        children = [tuple(row) for row in rows]
    return View(officer, campaign, scope, children)  # type: ignore[arg-type]


async def check_stats(
    union: Union, seen: View, expected: Counted, below: dict[int, Counted], target: int | None
) -> None:
    """/thongke: the registration and initiative lines, the units leading and lagging with their rates."""
    officer = union.people[seen.officer]
    await officer.send(f"/thongke {seen.campaign.code}")
    words = officer.last_text
    by_name = {name: below[child_id] for child_id, _, name, _ in seen.children}
    named = {}
    for key in ("insights.top", "insights.bottom"):
        if plain(text("vi", key, units="")) in words:
            for part in shown(key, words)["units"].split("), "):
                unit, _, rate = part.rstrip(")").rpartition(" (")
                check_percent(rate, by_name[unit].registered, by_name[unit].roster)
                named.setdefault(key, []).append(by_name[unit].registered / by_name[unit].roster)
    if named:  # every leading unit registers at a higher rate than every lagging one
        assert min(named["insights.top"]) > max(named["insights.bottom"]), words
    line = shown("insights.registration", words)
    assert number(line["registered"]) == expected.registered, words
    assert number(line["roster"]) == expected.roster, words
    assert number(line["linked"]) == expected.linked, words
    check_percent(line["percent"], expected.registered, expected.roster)
    line = shown("insights.initiatives", words)
    check_progress(line["progress"], expected.submitted, target)
    assert (number(line["valid"]), number(line["recognised"])) == (expected.valid, expected.recognised), words
    await officer.send(f"/tongket {seen.campaign.code}")
    report = officer.last_text
    for key in ("insights.registration", "insights.initiatives"):
        assert shown(key, report, bare=True) == shown(key, words, bare=True), report
    if expected.titles:
        total = shown("report.title_total", report)["counted"]  # the first: the totals come before units
        assert number(shown("report.title_individual", total)["count"]) == expected.titles, report
    else:
        assert plain(text("vi", "report.titles_none")) in report


async def check_chart(
    union: Union, seen: View, expected: Counted, below: dict[int, Counted], given: dict[int, int]
) -> ChartData:
    """The chart's input as /thongke draws it: the scope's bars, each unit below and the day line."""
    async with union.store.begin() as repos:
        scope = await repos.units.get(seen.scope[0])
        assert scope is not None
        figures = await campaign_figures(
            repos, seen.campaign, scope, union.clock.now(), union.runtime.settings.zone
        )
    data = chart_data(figures)
    bars = (
        data.scope.roster,
        data.scope.registered,
        data.scope.submitted,
        data.scope.valid,
        data.scope.recognised,
    )
    assert bars == (
        expected.roster,
        expected.registered,
        expected.submitted,
        expected.valid,
        expected.recognised,
    )
    assert data.target == given.get(seen.scope[0])
    names = {name: child_id for child_id, _, name, _ in seen.children}
    assert sorted(u.name for u in data.units) == sorted(names)
    for unit in data.units:
        c = below[names[unit.name]]
        bars = (unit.roster, unit.registered, unit.submitted, unit.valid, unit.recognised)
        assert bars == (c.roster, c.registered, c.submitted, c.valid, c.recognised), unit.name
    per_day = await daily(union.store, seen.campaign.id, seen.scope[1])
    shown_days = dict(data.daily_submissions)
    for day, n in shown_days.items():
        assert n == per_day.get(day, 0), day
    # The line adds the days up against the target: it ends at every submission made so far.
    assert sum(shown_days.values()) == sum(per_day.values()) == expected.submitted, (shown_days, per_day)
    return data


def sheet(book: Any, key: str) -> list[tuple[Any, ...]]:
    """A sheet's rows, by its catalog name."""
    return [tuple(row) for row in book[text("vi", key)].iter_rows(values_only=True)]


async def check_workbook(
    union: Union, seen: View, expected: Counted, below: dict[int, Counted], given: dict[int, int]
) -> None:
    """/baocao: the summary's figures, each unit's row and the totals row, the registrations sheet."""
    officer = union.people[seen.officer]
    await officer.send(f"/baocao {seen.campaign.code}")
    workbook = attached(officer.last)
    assert workbook is not None, officer.last_text
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    summary = {row[0]: row[1:] for row in sheet(book, "export.sheet_summary")}
    rates = {row[0].value: row[4] for row in book[text("vi", "export.sheet_summary")].iter_rows()}
    word = lambda key: text("vi", f"export.{key}")  # noqa: E731
    assert summary[word("roster")][0] == expected.roster
    for key, part, whole in (
        ("linked", expected.linked, expected.roster),
        ("registered", expected.registered, expected.roster),
        ("valid", expected.valid, expected.submitted),
        ("recognised", expected.recognised, expected.submitted),
    ):
        _, count_cell, out_of, rate = summary[word(key)]
        assert count_cell == part, key
        assert out_of == (whole or None), key
        if whole:
            assert rate == pytest.approx(part / whole), key
            check_percent(excel_shows(rates[word(key)]), part, whole)
    assert summary[word("submitted")][1] == expected.submitted
    units_sheet = sheet(book, "export.sheet_units")
    header, rows = units_sheet[0], units_sheet[1:]
    column = {name: at for at, name in enumerate(header)}
    by_code = {row[column[word("unit_code")]]: row for row in rows[:-1]}
    cells = {row[1].value: row for row in book[text("vi", "export.sheet_units")].iter_rows(min_row=2)}
    for child_id, _, _, code in seen.children:
        row, c = by_code[code], below[child_id]
        figures = [
            row[column[word(k)]]
            for k in ("roster", "linked", "registered", "submitted", "valid", "recognised")
        ]
        assert figures == [c.roster, c.linked, c.registered, c.submitted, c.valid, c.recognised], code
        assert row[column[word("target")]] == given.get(child_id), code
        if not c.roster:
            assert row[column[word("registration_rate")]] is None, code
        else:
            cell = cells[code][column[word("registration_rate")]]
            check_percent(excel_shows(cell), c.registered, c.roster)
    total = rows[-1]
    assert total[0] == text("vi", "export.whole", unit=seen.scope[2])
    figures_of = ("roster", "linked", "registered", "submitted", "valid", "recognised")
    for key in figures_of if seen.children else ():  # the rows above the totals add up to them
        assert sum(row[column[word(key)]] or 0 for row in rows[:-1]) == total[column[word(key)]], (key, rows)
    figures = [
        total[column[word(k)]] for k in ("roster", "linked", "registered", "submitted", "valid", "recognised")
    ]
    assert figures == [
        expected.roster,
        expected.linked,
        expected.registered,
        expected.submitted,
        expected.valid,
        expected.recognised,
    ]
    made = sheet(book, "export.sheet_initiatives")
    status = made[0].index(word("status"))
    withdrawn = re.sub(r"^\W+", "", text("vi", "initiative.status_withdrawn"))
    assert sum(1 for row in made[1:] if row[status] != withdrawn) == expected.submitted, made
    titles = sheet(book, "export.sheet_titles")[1:]
    totals = [row for row in titles if row[0] == word("total")]
    assert sum(row[2] for row in totals) == expected.titles, titles
    assert sum(row[2] for row in titles if row[0] != word("total")) == expected.titles, titles
    active = re.sub(r"^\W+", "", text("vi", "campaigns.status_active"))  # the workbook keeps no symbol
    registrations = sheet(book, "export.sheet_registrations")[1:]
    assert sum(1 for row in registrations if row[1] and row[7] == active) == expected.registered, (
        registrations
    )


def excel_shows(cell: Any) -> str:
    """A percentage cell as Excel shows it in Vietnamese: its value in its number format (a literal, whole
    percents, one decimal, or one decimal below 1%), halves rounded away from zero as Excel does."""
    fmt, value = cell.number_format, cell.value
    if fmt.startswith('"'):
        return str(fmt.strip('"'))
    places = 1 if fmt == "0.0%" or (fmt.startswith("[<0.01]") and value < 0.01) else 0
    shown = (Decimal(str(value)) * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{shown}%".replace(".", ",")


async def check_page(
    union: Union, seen: View, expected: Counted, below: dict[int, Counted], given: dict[int, int]
) -> None:
    """The campaign page's progress block: the scope and each unit below, against their own targets."""
    officer = union.people[seen.officer]
    await officer.send("/phongtrao")
    if not await tap(officer, seen.campaign.title):
        return
    page = next(
        (m.plain_text for m in reversed(officer.messages[-4:]) if "Tiến độ sáng kiến" in m.plain_text), None
    )
    if not given:
        assert page is None
        return
    assert page is not None
    line = shown("initiative.progress_line", page)
    assert line["unit"] == seen.scope[2]
    check_progress(line["progress"], expected.submitted, given.get(seen.scope[0]))
    assert (number(line["valid"]), number(line["recognised"])) == (expected.valid, expected.recognised)
    for child_id, _, name, _ in seen.children:
        found = [row for row in page.splitlines() if row.strip().startswith(f"◦ {name}:")]
        assert len(found) == 1, (name, page)
        read = shown("initiative.progress_child", found[0])
        c = below[child_id]
        check_progress(read["progress"], c.submitted, given.get(child_id))
        assert (number(read["valid"]), number(read["recognised"])) == (c.valid, c.recognised), name


async def check_list(union: Union, officer: str, campaigns: list[Campaign]) -> None:
    """/phongtrao of an officer: each campaign their units launched, with its registration figures over the
    part of it they cover."""
    await union.people[officer].send("/phongtrao")
    words = next(
        (
            m.plain_text
            for m in union.people[officer].messages[-3:]
            if plain(text("vi", "campaigns.officer_head")) in m.plain_text
        ),
        "",
    )
    for campaign in campaigns:
        seen = await view(union.store, officer, campaign)
        if not any(seen.campaign.unit_id == unit_id for unit_id in await led_subtree(union.store, officer)):
            continue
        expected = await count(union.store, campaign.id, seen.scope[1])
        block = next(part for part in words.split("\n\n") if f"({campaign.code})" in part)
        line = shown("campaigns.officer_launched", block)
        assert number(line["registered"]) == expected.registered, (officer, block)
        assert number(line["roster"]) == expected.roster, (officer, block)
        assert number(line["linked"]) == expected.linked, (officer, block)
        check_percent(line["percent"], expected.registered, expected.roster)


async def led_subtree(store: Store, officer: str) -> list[int]:
    """The ids of every unit inside the units ``officer`` leads."""
    async with store.engine.connect() as conn:
        found: set[int] = set()
        for code in OFFICERS[officer][1]:
            rows = await conn.execute(
                sa.text(
                    "SELECT u.id FROM units u JOIN units l ON u.path LIKE l.path || '%' WHERE l.code = :c"
                ),
                {"c": code},
            )
            found.update(rows.scalars())
    return sorted(found)


async def check_everything(union: Union, export: tuple[str, str]) -> None:
    """Every officer's figures of both campaigns against the rows; the workbook of one campaign for one
    officer (each takes a child process's second or two)."""
    async with union.store.begin() as repos:
        campaigns = [await repos.campaigns.by_code(code) for code in CAMPAIGNS]
    for campaign in campaigns:
        assert campaign is not None
        given = await targets(union.store, campaign)
        for officer in OFFICERS:
            seen = await view(union.store, officer, campaign)
            expected = await count(union.store, campaign.id, seen.scope[1])
            below = {child[0]: await count(union.store, campaign.id, child[1]) for child in seen.children}
            await check_stats(union, seen, expected, below, given.get(seen.scope[0]))
            await check_chart(union, seen, expected, below, given)
            await check_page(union, seen, expected, below, given)
            if (campaign.code, officer) == export:
                await check_workbook(union, seen, expected, below, given)
    for officer in OFFICERS:
        await check_list(union, officer, [c for c in campaigns if c is not None])


# --------------------------------------------------------------------------- the property


async def scenario(
    template: str, folder: Path, postgres_url: str | None, walk: list[Step], export: tuple[str, str]
) -> dict[str, int]:
    """The walk on a fresh copy of the roster, then every figure checked; what the rows hold at the end."""
    url = await new_database(postgres_url, folder, template)
    union = Union(folder, url)
    await union.start()
    try:
        for step in walk:
            await act(union, step)
        await check_everything(union, export)
        async with union.store.engine.connect() as conn:
            statuses = await conn.execute(sa.text("SELECT status, count(*) FROM initiatives GROUP BY status"))
            decided = await conn.execute(sa.text("SELECT count(*) FROM title_results"))
            return {**dict(statuses.all()), "titles decided": decided.scalar_one()}
    finally:
        await union.stop()
        await drop_database(postgres_url, url)


# A walk that reaches every kind of figure, always run first: registration withdrawn and made again,
# initiatives with and without a co-author reviewed, targets (one of them zero), a member moved after
# submitting, an initiative for the second campaign before its first day, the registration deadline passed,
# the second campaign begun.
RICH = [
    Step("register", "DV001"),
    Step("register", "R01"),
    Step("register", "DV003"),
    Step("withdraw", "R01"),
    Step("register", "R01"),
    Step("submit", "DV001", detail=True),
    Step("submit", "DV003", detail=False),
    Step("submit", "R04", detail=False),
    Step("submit", "R03", "SK-B", detail=False),  # before SK-B's first day: it takes initiatives already
    Step("review", detail="valid"),
    Step("review", detail="score"),
    Step("review", detail="recognise"),
    Step("review", detail="invalid"),
    Step("submit", "DV004", detail=False),
    Step("withdraw_initiative", "DV004"),
    Step("targets", detail={DISTRICT: 3, "CDN-GD": 0, BASE: 0}),
    Step("move", "DV001", detail="CDCS-THPT"),
    Step("hours", detail=25 * 24 + 17),  # past the registration deadline, at 01:00 the next day there
    Step("register", "DV003", "SK-B"),
    Step("submit", "R01", "SK-B", detail=False),
    Step("register", "R02"),
    Step("title", "DV001", detail=True),
    Step("title", "DV003", detail=False),
    Step("register", "R07"),
    Step("submit", "R07", detail=False),
]


# No shrinking: each example is seconds of a real bot, and shrinking one took minutes; a failing walk is
# reported as it was drawn.
@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.generate),
)
@example(walk=RICH, export=("SK-A", "district"))
@given(
    walk=st.lists(steps, min_size=4, max_size=24),
    export=st.sampled_from(
        [(campaign, officer) for campaign in CAMPAIGNS for officer in OFFICERS if officer != "both"]
    ),
)
def test_every_figure_an_officer_sees_agrees_with_the_rows(
    roster_template: str, postgres_url: str | None, tmp_path: Path, walk: list[Step], export: tuple[str, str]
) -> None:
    folder = Path(tmp_path) / f"example-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    try:
        reached = asyncio.run(scenario(roster_template, folder, postgres_url, walk, export))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if walk == RICH:  # the walk did what it says
        assert {"submitted", "recognised", "invalid", "withdrawn"} <= set(reached) and reached[
            "titles decided"
        ] == 2, reached


# --------------------------------------------------------------------------- the figures' words


@settings(max_examples=300, deadline=None, database=None)
@given(whole=st.integers(1, 100_000), data=st.data())
def test_a_share_is_never_rounded_to_all_or_to_none(whole: int, data: st.DataObject) -> None:
    near = st.integers(max(0, whole - 3), whole) | st.integers(0, min(3, whole))  # next to all, to none
    part = data.draw(st.integers(0, 2 * whole) | near, label="part")
    for language in LANGUAGES:
        check_percent(formatting.percent(part, whole, language), part, whole)


def test_a_share_rounds_halves_up_and_just_short_of_all_says_so() -> None:
    assert formatting.percent(199, 200) == "99,5%" and formatting.percent(199, 200, "en") == "99.5%"
    assert formatting.percent(19_999, 20_000) == ">99,9%"  # 99,995%: not all, so never 100%
    assert formatting.percent(5, 200) == "3%" and formatting.percent(7, 200) == "4%"  # 2,5% and 3,5%
    assert formatting.percent(201, 200) == "101%"  # more than the target, as the product means it
    assert formatting.percent(200, 200) == "100%" and formatting.percent(1709, 431) == "397%"


@pytest.mark.parametrize(
    ("key", "count", "right", "wrong"),
    [
        ("report.title_individual", 1, "1 individual", "1 individuals"),
        ("report.title_collective", 1, "1 collective", "1 collectives"),
        ("report.titles_more_units", 1, "1 more unit,", "1 more units"),
        ("report.title_individual", 2, "2 individuals", "2 individual "),
        ("report.titles_more_units", 2, "2 more units", "2 more unit,"),
        ("assess.intro", 1, "— 1 target.", "1 targets"),
        ("assess.intro_resumed", 1, "— 1 target;", "1 targets"),
        ("targets.line", 1, "; 1 member)", "1 members"),
        ("targets.line", 2, "; 2 members)", "2 member)"),
        ("report.commend_form", 1, "collectives: 1, individuals: 1", "1 collectives"),
    ],
)
def test_counts_in_english_agree_with_their_noun(key: str, count: int, right: str, wrong: str) -> None:
    n = formatting.number(count, "en")
    figures = {name: n for name in ("count", "roster", "collectives", "individuals", "initiatives")}
    others = {"title": "Advanced worker", "unit": "", "code": "X", "target": "3", "form": "", "level": ""}
    others.update(proposed=n, granted=n, returned=n, waiting=n)
    said = plain(text("en", key, **figures, **others)) + " "
    assert right in said and wrong not in said, said
