"""The union's calendar: lunar dates and the union year's days that bring reminders."""
