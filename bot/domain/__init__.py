"""The union's rules, with no chat in them: campaigns, registrations,
initiatives, reminders, officers, roster, insights, the calendar and Vietnamese input.
"""
