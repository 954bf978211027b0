"""timeloom's simulation engine: async, headless, with no dependency on any UI library."""

__version__ = "0.1.0"
