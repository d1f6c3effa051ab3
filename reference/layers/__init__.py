"""Layers of the reference: the version-agnostic cores (``reference.keras(v).layers`` wraps them)."""
from .base import InputSpec, KerasTensor, Layer, Node
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape

__all__ = ["Layer", "InputSpec", "KerasTensor", "Node", "InputLayer", "Input", "Dense",
           "Activation", "Dropout", "Flatten", "Reshape"]
