"""Untrusted text and input, made safe: secrets scrubbed from every error message
(:mod:`.secrets`), control sequences stripped from text bound for a terminal (:mod:`.terminal`),
and the bounds on input sizes checked before anything is allocated (:mod:`.limits`).

Under every other layer of the engine, so that anything may use it; it imports nothing of the
engine and no UI library.
"""
