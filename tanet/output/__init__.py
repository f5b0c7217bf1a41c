"""What the terminal shows: tables, key/value panels, JSON and CSV, and the generated command reference."""
