"""Onboarding: /start, linking by a shared phone number, a personal link code or (where no contact can be
shared) a typed phone number an officer confirms, and the join request for people not on the roster.

Flows: ``link`` (waiting for the contact, a code or a phone) and ``join`` (offer -> unit -> name -> confirm).
"""

from __future__ import annotations

from bot.domain.linking import link_by_code, read_code, request_link_by_phone
from bot.domain.onboarding import (
    LinkOutcome,
    count_invite_use,
    link_by_contact,
    normalize_name,
    submit_join_request,
    valid_invite,
)
from bot.domain.vn.phones import display_phone
from bot.domain.vn.textkeys import search_key
from bot.engine.access import identity_of
from bot.engine.buttons import DialogControl, JoinStep, JoinUnit, OpenCommand
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.common import stale_button
from handlers.menus import show_menu
from handlers.notify import notify

LINK = "link"
JOIN = "join"
CONTACT = "contact"  # the link flow's one step: waiting for the shared contact, a typed code or phone
# Steps of the join flow.
OFFER, UNIT, NAME, CONFIRM = "offer", "unit", "name", "confirm"

UNIT_CHOICES = 8
NAME_MIN, NAME_MAX = 4, 100
SEARCH_MIN, SEARCH_MAX = 2, 100


def _dialog_row(ctx: Ctx, back: bool = True) -> list[Button]:
    row = [ctx.button("dialog.back", DialogControl("back"))] if back else []
    return [*row, ctx.button("dialog.cancel", DialogControl("cancel"))]


async def start(ctx: Ctx) -> None:
    """Greet; a linked member gets the menu. Anyone else links: ``/start CODE`` with an invitation or a
    personal link code, else by sharing their phone number or, where it cannot be shared, typing it."""
    invite = None
    argument = ctx.event.args[0] if ctx.event.args else None
    if argument is not None:
        invite = await valid_invite(ctx.repos, argument, ctx.now)
    if ctx.who.member is not None:
        if argument is not None:  # linked already: a code has nothing to add, and no phone to share
            known = invite is not None or read_code(argument) is not None
            ctx.say(ctx.t("onboarding.already_linked" if known else "onboarding.invite_invalid_linked"))
        await show_menu(ctx)
        return
    if argument is not None and invite is None and await _is_link_code(ctx, argument):
        await ctx.dialog.start(LINK, CONTACT)
        await _link_with_code(ctx, argument)
        return
    if argument is not None and invite is None:
        ctx.say(ctx.t("onboarding.invite_invalid"))
    pending = await ctx.repos.join_requests.pending_of_user(ctx.who.account.channel, ctx.who.account.user_id)
    if pending is not None and invite is None:
        if pending.kind == "link":
            await ctx.dialog.start(LINK, CONTACT)  # a personal code still links at once
            ctx.say(ctx.t("onboarding.link_pending"))
            return
        unit = await ctx.repos.units.get(pending.unit_id)
        ctx.say(ctx.t("onboarding.request_pending", unit=unit.name if unit else "?"))
        return
    if invite is not None:
        found_invite, unit = invite
        await count_invite_use(ctx.repos, found_invite)
        await ctx.dialog.start(LINK, CONTACT, invite_id=found_invite.id, unit_id=unit.id)
        if _can_share(ctx):
            ctx.say(ctx.t("onboarding.welcome_invited", unit=unit.name), ask_contact=True)
        else:
            ctx.say(ctx.t("onboarding.welcome_invited_typed", unit=unit.name))
        return
    await ctx.dialog.start(LINK, CONTACT)
    if _can_share(ctx):
        ctx.say(ctx.t("onboarding.welcome"), ask_contact=True)
    else:
        ctx.say(ctx.t("onboarding.welcome_typed"))


async def _is_link_code(ctx: Ctx, argument: str) -> bool:
    """``/start ARGUMENT`` is a personal link code: shaped like one, and not an expired invitation."""
    return read_code(argument) is not None and await ctx.repos.invites.by_code(argument) is None


def _can_share(ctx: Ctx) -> bool:
    """The channel lets people share their verified phone number (Telegram; not Zalo)."""
    return ctx.channel.capabilities.contact


async def prompt_contact(ctx: Ctx) -> None:
    """Ask again: for the phone number with the share button, or for a typed code or phone number."""
    if _can_share(ctx):
        ctx.say(ctx.t("onboarding.press_share"), ask_contact=True)
    else:
        ctx.say(ctx.t("onboarding.type_code_or_phone"))


async def on_link_text(ctx: Ctx, text: str) -> None:
    """Typed text at the link step: a personal code links; a typed phone number proves nothing, so where
    the contact can be shared the button is asked for, and elsewhere an officer confirms it."""
    if read_code(text) is not None:
        await _link_with_code(ctx, text)
    elif _can_share(ctx):
        await prompt_contact(ctx)
    else:
        await _request_link(ctx, text)


async def _link_with_code(ctx: Ctx, typed: str) -> None:
    result = await link_by_code(ctx.repos, ctx.who.account, typed, ctx.now)
    if result.outcome is LinkOutcome.LINKED:
        await _now_linked(ctx)
    elif result.outcome is LinkOutcome.TAKEN:
        ctx.say(ctx.t("onboarding.code_taken"))
    else:
        ctx.say(ctx.t(f"onboarding.{result.outcome.value}"))


async def _request_link(ctx: Ctx, typed: str) -> None:
    invited = ctx.dialog.data
    asked = await request_link_by_phone(
        ctx.repos,
        ctx.who.account,
        typed,
        invite_id=invited.get("invite_id"),
        admins=ctx.settings.admins,
        now=ctx.now,
    )
    result = asked.result
    if result.outcome is LinkOutcome.LINK_REQUESTED:
        assert result.phone is not None and result.member is not None and asked.reviewers is not None
        unit = await ctx.repos.units.get(result.member.unit_id)
        assert unit is not None
        await notify(
            ctx,
            asked.reviewers.accounts,
            "join_request",
            "requests.new_link_notice",
            [("requests.open_button", OpenCommand("requests"))],
            channel=ctx.who.account.channel.capitalize(),
            name=result.member.full_name,
            unit=unit.name,
        )
        await ctx.dialog.finish()
        phone = display_phone(result.phone)
        key = (
            "onboarding.link_requested" if asked.reviewers.accounts else "onboarding.link_requested_to_nobody"
        )
        ctx.say(ctx.t(key, phone=phone))
    elif result.outcome is LinkOutcome.NOT_ON_ROSTER:
        assert result.phone is not None
        await _offer_join(ctx, result.phone)
    elif result.outcome is LinkOutcome.INVALID_PHONE:
        ctx.say(ctx.t("onboarding.not_code_or_phone"))
    else:
        ctx.say(ctx.t(f"onboarding.{result.outcome.value}"))


async def _now_linked(ctx: Ctx) -> None:
    """The account was just linked: close the link step, greet with the member's menu."""
    await ctx.dialog.finish()
    account = await ctx.repos.accounts.by_id(ctx.who.account.id)
    assert account is not None
    ctx.who = await identity_of(ctx.repos, ctx.settings, account)
    ctx.menu_changed = True
    ctx.say(ctx.t("onboarding.linked"), remove_keyboard=True)
    await show_menu(ctx)


async def _offer_join(ctx: Ctx, phone: str) -> None:
    """Nobody on the roster has this phone: offer the join request (in the invitation's unit, if any)."""
    invited = ctx.dialog.data if ctx.dialog.is_in(LINK) else {}
    await ctx.dialog.start(
        JOIN, OFFER, phone=phone, unit_id=invited.get("unit_id"), invite_id=invited.get("invite_id")
    )
    ctx.say(ctx.t("onboarding.not_on_roster_intro", phone=display_phone(phone)), remove_keyboard=True)
    await prompt_join(ctx)


async def on_contact(ctx: Ctx) -> None:
    """A shared contact: link to the roster member with that phone, or offer a join request."""
    contact = ctx.event.contact
    assert contact is not None
    if ctx.who.member is not None:
        ctx.say(ctx.t("onboarding.already_linked"), remove_keyboard=True)
        await show_menu(ctx)
        return
    result = await link_by_contact(ctx.repos, ctx.who.account, contact.phone, contact.user_id, ctx.now)
    if result.outcome is LinkOutcome.LINKED:
        await _now_linked(ctx)
    elif result.outcome is LinkOutcome.NOT_ON_ROSTER:
        assert result.phone is not None
        await _offer_join(ctx, result.phone)
    elif result.outcome is LinkOutcome.NOT_OWN_CONTACT:
        ctx.say(ctx.t("onboarding.not_own_contact"), ask_contact=True)
    else:
        ctx.say(ctx.t(f"onboarding.{result.outcome.value}"), remove_keyboard=True)


async def prompt_join(ctx: Ctx) -> None:
    """Ask for whatever the join flow's current step needs."""
    state = ctx.dialog.state
    assert state is not None
    data = state.data
    if state.step == OFFER:
        ctx.say(
            ctx.t("join.offer"),
            [[ctx.button("join.offer_button", JoinStep("begin"))], _dialog_row(ctx, back=False)],
        )
    elif state.step == UNIT:
        ctx.say(ctx.t("join.ask_unit"), [_dialog_row(ctx)])
    elif state.step == NAME:
        ctx.say(ctx.t("join.ask_name"), [_dialog_row(ctx)])
    else:
        unit = await ctx.repos.units.get(data["unit_id"])
        assert unit is not None
        ctx.say(
            ctx.t("join.confirm", name=data["full_name"], phone=display_phone(data["phone"]), unit=unit.name),
            [[ctx.button("join.send_button", JoinStep("send"))], _dialog_row(ctx)],
        )


async def on_join_text(ctx: Ctx, text: str) -> None:
    """Typed text in the join flow: a unit search, or the full name."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == UNIT:
        await _search_units(ctx, text)
    elif state.step == NAME:
        name = normalize_name(text)
        if not NAME_MIN <= len(name) <= NAME_MAX or not any(char.isalpha() for char in name):
            ctx.say(ctx.t("join.bad_name", low=NAME_MIN, high=NAME_MAX), [_dialog_row(ctx)])
            return
        await ctx.dialog.advance(CONFIRM, full_name=name)
        await prompt_join(ctx)
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt_join(ctx)


async def _search_units(ctx: Ctx, text: str) -> None:
    key = search_key(text)
    if not SEARCH_MIN <= len(key) <= SEARCH_MAX:
        ctx.say(ctx.t("join.bad_search", low=SEARCH_MIN, high=SEARCH_MAX), [_dialog_row(ctx)])
        return
    found = await ctx.repos.units.search(key, UNIT_CHOICES + 1)
    if not found:
        ctx.say(ctx.t("join.no_unit", query=text), [_dialog_row(ctx)])
        return
    rows = [[Button(unit.name, JoinUnit(unit.id).pack())] for unit in found[:UNIT_CHOICES]]
    more = ctx.t("join.more_units") if len(found) > UNIT_CHOICES else ""
    ctx.say(ctx.t("join.pick_unit", more=more), [*rows, _dialog_row(ctx)])


async def join_button(ctx: Ctx, pressed: JoinStep) -> None:
    """The join flow's begin and send buttons."""
    state = ctx.dialog.state
    expected = OFFER if pressed.action == "begin" else CONFIRM
    if state is None or state.flow != JOIN or state.step != expected:
        await stale_button(ctx)
    elif pressed.action == "begin":
        await ctx.dialog.advance(NAME if state.data.get("unit_id") else UNIT)
        await prompt_join(ctx)
    else:
        await _send_join_request(ctx)


async def join_unit(ctx: Ctx, pressed: JoinUnit) -> None:
    """A unit picked from the search results."""
    state = ctx.dialog.state
    unit = await ctx.repos.units.get(pressed.unit)
    if state is None or state.flow != JOIN or state.step != UNIT or unit is None:
        await stale_button(ctx)
        return
    await ctx.dialog.advance(NAME, unit_id=unit.id)
    ctx.say(ctx.t("join.unit_chosen", unit=unit.name))
    await prompt_join(ctx)


async def _send_join_request(ctx: Ctx) -> None:
    data = ctx.dialog.data
    _, reviewers = await submit_join_request(
        ctx.repos,
        ctx.who.account,
        full_name=data["full_name"],
        phone=data["phone"],
        unit_id=data["unit_id"],
        invite_id=data.get("invite_id"),
        admins=ctx.settings.admins,
        now=ctx.now,
    )
    unit = await ctx.repos.units.get(data["unit_id"])
    assert unit is not None
    await notify(
        ctx,
        reviewers.accounts,
        "join_request",
        "requests.new_notice",
        [("requests.open_button", OpenCommand("requests"))],
        name=data["full_name"],
        unit=unit.name,
    )
    await ctx.dialog.finish()
    if not reviewers.accounts:
        ctx.say(ctx.t("join.sent_to_nobody", unit=unit.name))
    elif reviewers.unit is None:
        ctx.say(ctx.t("join.sent_to_admins", unit=unit.name))
    else:
        ctx.say(ctx.t("join.sent", unit=unit.name, officers=reviewers.unit.name))


LINK_FLOW = Flow(LINK, prompt_contact, on_link_text)
JOIN_FLOW = Flow(JOIN, prompt_join, on_join_text, buttons_only=frozenset({OFFER, CONFIRM}))
