"""The people: members, their sign-up sheets, availability, organisations and resources, outreach, leaving and erasure."""
