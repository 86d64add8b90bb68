"""English conversation practice: role-play scenes by topic, with feedback."""
