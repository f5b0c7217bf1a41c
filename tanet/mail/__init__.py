"""Mail out and in: the outbox, composing invitations, reminders and updates, talking to the SMTP server, reading replies."""
