"""Officers' /requests: the join requests of their subtree, and the link requests of people who typed a
roster member's phone where no contact can be shared, approved or rejected with one tap."""

from __future__ import annotations

from bot.domain.onboarding import DecisionOutcome, JoinDecision, decide_join_request
from bot.domain.records import JoinRequest
from bot.domain.vn.phones import display_phone
from bot.engine.access import join_request_in_charge
from bot.engine.buttons import DecideJoinRequest, OpenCommand
from bot.engine.context import Ctx
from handlers.common import stale_button
from handlers.notify import notify
from messages import formatting

LIST_LIMIT = 10


async def list_requests(ctx: Ctx) -> None:
    """Show the pending join requests of the officer's subtree, oldest first, each with its buttons."""
    pending = await ctx.repos.join_requests.pending_under(ctx.who.led_paths, LIST_LIMIT)
    if not pending:
        ctx.say(ctx.t("requests.none"))
        return
    ctx.say(ctx.t("requests.header", count=formatting.number(len(pending), ctx.lang)))
    for request in pending:
        ctx.say(
            await _describe(ctx, request),
            [
                [
                    ctx.button("requests.approve", DecideJoinRequest("approve", request.id)),
                    ctx.button("requests.reject", DecideJoinRequest("reject", request.id)),
                ]
            ],
        )


async def _describe(ctx: Ctx, request: JoinRequest) -> str:
    unit = await ctx.repos.units.get(request.unit_id)
    phone = display_phone(request.phone) if request.phone else "—"
    at = formatting.moment(request.created_at, ctx.lang, ctx.settings.zone)
    if request.kind != "link" or request.member_id is None:
        return ctx.t(
            "requests.item", name=request.full_name, phone=phone, unit=unit.name if unit else "?", at=at
        )
    member = await ctx.repos.members.get(request.member_id)
    account = await ctx.repos.accounts.get(request.channel, request.user_id)
    return ctx.t(
        "requests.link_item",
        name=request.full_name,
        code=member.code if member else "?",
        phone=phone,
        channel=request.channel.capitalize(),
        account=account.display_name if account else "?",
        unit=unit.name if unit else "?",
        at=at,
    )


async def decide(ctx: Ctx, pressed: DecideJoinRequest) -> None:
    """Approve or reject one request, and tell the person who asked."""
    if await join_request_in_charge(ctx.repos, ctx.who, pressed.request) is None:
        await stale_button(ctx)  # the same for another unit's request and for none at all
        return
    approve = pressed.decision == "approve"
    decision = await decide_join_request(ctx.repos, ctx.who, pressed.request, approve, ctx.now)
    if decision.outcome is not DecisionOutcome.DONE:
        ctx.say(ctx.t(f"requests.{decision.outcome.value}"))
        return
    assert decision.request is not None and decision.unit is not None
    name, unit = decision.request.full_name, decision.unit.name
    if decision.request.kind == "link":
        await _decided_link(ctx, decision, approve)
        return
    ctx.say(
        ctx.t("requests.approved" if approve else "requests.rejected", name=name, unit=unit), replace=True
    )
    if decision.requester is not None:
        key = "requests.approved_notice" if approve else "requests.rejected_notice"
        await notify(
            ctx,
            [decision.requester],
            "join_decision",
            key,
            [("menu.open_button", OpenCommand("start"))] if approve else [],
            unit=unit,
        )


async def _decided_link(ctx: Ctx, decision: JoinDecision, approve: bool) -> None:
    """Tell the officer and the person how a link request was decided (on the account that asked)."""
    assert decision.request is not None
    request = decision.request
    if approve:
        account = decision.requester.display_name if decision.requester else "?"
        channel = request.channel.capitalize()
        ctx.say(
            ctx.t("requests.link_approved", channel=channel, account=account, name=request.full_name),
            replace=True,
        )
    else:
        ctx.say(ctx.t("requests.link_rejected", name=request.full_name), replace=True)
    if decision.requester is not None:
        await notify(
            ctx,
            [decision.requester],
            "join_decision",
            "requests.link_approved_notice" if approve else "requests.link_rejected_notice",
            [("menu.open_button", OpenCommand("start"))] if approve else [],
        )
