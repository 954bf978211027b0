"""Fidelity management: resolution levels and when they change (M1, M2, M5, M6)."""
