"""Knowledge provenance: exposure events, validators and extraction (M3, M4, M19)."""
