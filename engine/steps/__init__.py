"""The mechanism steps of a timepoint, one module each, over a World: event, presence, scene,
dialog, extraction, inner life, state; and the set-up of a run."""
