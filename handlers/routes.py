"""The one table that wires commands (with their Vietnamese aliases), buttons and dialog flows to handlers.

Commands are listed in the order a user meets them; /help and the command menus follow this order.
"""

from __future__ import annotations

from handlers import common, invites, join_requests, onboarding
from handlers.context import ButtonRoute, Command, Role, Routes

ROUTES = Routes(
    commands=(
        Command("start", None, onboarding.start, Role.ANYONE),
        Command("help", "huongdan", common.show_help, Role.ANYONE, keeps_dialog=True),
        Command("language", "ngonngu", common.choose_language, Role.ANYONE, keeps_dialog=True),
        Command("cancel", "huy", common.cancel, Role.ANYONE, keeps_dialog=True),
        Command("requests", "yeucau", join_requests.list_requests, Role.OFFICER),
        Command("invite", "moi", invites.invite, Role.OFFICER),
    ),
    buttons={
        "lang": ButtonRoute(common.set_language, Role.ANYONE),
        "dlg": ButtonRoute(common.dialog_button, Role.ANYONE),
        "join": ButtonRoute(onboarding.join_button, Role.ANYONE),
        "jr": ButtonRoute(join_requests.decide, Role.OFFICER),
        "inv": ButtonRoute(invites.invite_button, Role.OFFICER),
    },
    flows={flow.name: flow for flow in (onboarding.LINK_FLOW, onboarding.JOIN_FLOW)},
    on_contact=onboarding.on_contact,
)
