"""The file and what keeps it whole: opening it, its schema and migrations, settings, backups and restore, the sender lock."""
