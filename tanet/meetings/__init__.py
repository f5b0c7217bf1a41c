"""Meetings: the series and its plan, days to avoid, the rota, check-ins and attendance, Teams reports, the calendar (iCalendar)."""
