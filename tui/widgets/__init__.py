"""Widgets of the explorer. They render immutable data handed to them by their screen."""
