"""Temporal reasoning: the causal graph and the temporal modes (M7, M17)."""
