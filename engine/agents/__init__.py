"""Entity simulation mechanisms: dialog steering, persona, emotion, relationships."""
