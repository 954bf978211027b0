"""The offline provider and the generators it answers with."""

from .provider import OfflineProvider

__all__ = ["OfflineProvider"]
