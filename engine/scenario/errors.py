"""The error a scenario that cannot be used raises: shared by the loader and the reference
converter, which the loader calls, so that neither imports the other to raise it."""


class ScenarioError(Exception):
    """A scenario that cannot be used, explained in one sentence."""
