"""The reference implementation of the documented Keras API, in NumPy.

    from keras_conformance import reference
    K = reference.keras("2.3")      # the documented surface of Keras 2.3, like `import keras`

The cores (layers/, engine/, losses.py, optimizers.py, ...) are version-agnostic; ``keras(v)``
(namespace.py, surface.py) puts the spec'd signature of each version on top of them.
"""
from .engine.serialization import unsafe_deserialization
from .namespace import KERAS_VERSION, keras

__all__ = ["keras", "KERAS_VERSION", "unsafe_deserialization"]
