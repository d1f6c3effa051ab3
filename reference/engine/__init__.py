"""The reference training engine: functional graph, Model, Sequential, callbacks, summary, utils.

Version-agnostic cores; ``reference.keras(version)`` exposes them with each version's surface.
"""
from .callbacks import BaseLogger, Callback, CallbackList, History, ProgbarLogger
from .functional import Network
from .sequential import Sequential
from .training import Model
from .utils import Sequence, to_categorical

__all__ = ["Network", "Model", "Sequential", "Callback", "History", "BaseLogger", "ProgbarLogger",
           "CallbackList", "Sequence", "to_categorical"]
