"""The one table that wires commands (with their Vietnamese aliases), buttons and dialog flows to handlers.

Commands are listed in the order a user meets them; /help and the command menus follow this order.
"""

from __future__ import annotations

from handlers import (
    announce,
    calendar,
    campaign_create,
    campaigns,
    common,
    initiative_form,
    initiatives,
    insights,
    invites,
    join_requests,
    onboarding,
    preferences,
    registration,
    review,
)
from handlers.context import ButtonRoute, Command, Role, Routes

ROUTES = Routes(
    commands=(
        Command("start", None, onboarding.start, Role.ANYONE),
        Command("help", "huongdan", common.show_help, Role.ANYONE, keeps_dialog=True),
        Command("campaigns", "phongtrao", campaigns.list_campaigns, Role.MEMBER),
        Command("join", "dangky", registration.join, Role.MEMBER),
        Command("submit", "sangkien", initiative_form.submit_command, Role.MEMBER),
        Command("my", "cuatoi", registration.my_registrations, Role.MEMBER),
        Command("language", "ngonngu", common.choose_language, Role.ANYONE, keeps_dialog=True),
        Command("reminders", "nhacnho", preferences.reminders_command, Role.MEMBER),
        Command("cancel", "huy", common.cancel, Role.ANYONE, keeps_dialog=True),
        Command("newcampaign", "taophongtrao", campaign_create.new_campaign, Role.OFFICER),
        Command("launch", "phatdong", campaigns.launch, Role.OFFICER),
        Command("review", "duyet", review.review_command, Role.OFFICER),
        Command("stats", "thongke", insights.stats_command, Role.OFFICER),
        Command("export", "baocao", insights.export_command, Role.OFFICER),
        Command("report", "tongket", insights.report_command, Role.OFFICER),
        Command("broadcast", "thongbao", announce.broadcast_command, Role.OFFICER),
        Command("remind", "nhacviec", announce.remind_command, Role.OFFICER),
        Command("broadcasts", "tiendo", campaigns.list_broadcasts, Role.OFFICER),
        Command("requests", "yeucau", join_requests.list_requests, Role.OFFICER),
        Command("invite", "moi", invites.invite, Role.OFFICER),
    ),
    buttons={
        "lang": ButtonRoute(common.set_language, Role.ANYONE),
        "pref": ButtonRoute(preferences.button, Role.MEMBER),
        "ann": ButtonRoute(announce.button, Role.OFFICER),
        "cal": ButtonRoute(calendar.button, Role.OFFICER),
        "st": ButtonRoute(insights.button, Role.OFFICER),
        "dlg": ButtonRoute(common.dialog_button, Role.ANYONE),
        "join": ButtonRoute(onboarding.join_button, Role.ANYONE),
        "camp": ButtonRoute(campaigns.campaign_button, Role.MEMBER),
        "reg": ButtonRoute(registration.button, Role.MEMBER),
        "nc": ButtonRoute(campaign_create.button, Role.OFFICER),
        "launch": ButtonRoute(campaigns.launch_button, Role.OFFICER),
        "coll": ButtonRoute(registration.collective_start, Role.OFFICER),
        "ini": ButtonRoute(initiative_form.button, Role.MEMBER),
        "idea": ButtonRoute(initiatives.page_button, Role.MEMBER),
        "rv": ButtonRoute(review.button, Role.OFFICER),
        "jr": ButtonRoute(join_requests.decide, Role.OFFICER),
        "inv": ButtonRoute(invites.invite_button, Role.OFFICER),
    },
    flows={
        flow.name: flow
        for flow in (
            onboarding.LINK_FLOW,
            onboarding.JOIN_FLOW,
            campaign_create.NEW_CAMPAIGN_FLOW,
            registration.REGISTER_FLOW,
            registration.COLLECTIVE,
            initiative_form.INITIATIVE_FLOW,
            review.REVIEW_NOTE_FLOW,
            review.REVIEW_SCORE_FLOW,
            announce.ANNOUNCE_FLOW,
            calendar.CALENDAR_WORDS_FLOW,
        )
    },
    on_contact=onboarding.on_contact,
)
