"""`tanet demo`: a realistic, fictional network in a fresh file."""
