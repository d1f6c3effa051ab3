"""Layers of the reference: the version-agnostic cores (``reference.keras(v).layers`` wraps them).

One module a family, as the spec has one file a family (``spec/layers/<family>.yaml``); each module's
``__all__`` is what it exports.
"""
from . import (advanced_activations, base, convolutional, core, embeddings, local, merge, noise, normalization,
               pooling, recurrent, reshaping, wrappers, convolutional_recurrent, cudnn_recurrent)
from .advanced_activations import *  # noqa: F401,F403
from .base import InputSpec, KerasTensor, Layer, Node
from .convolutional import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .embeddings import *  # noqa: F401,F403
from .local import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .noise import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
from .convolutional_recurrent import *  # noqa: F401,F403
from .cudnn_recurrent import *  # noqa: F401,F403

FAMILIES = (core, merge, advanced_activations, noise, convolutional, pooling, reshaping, local, embeddings,
            normalization, recurrent, wrappers, convolutional_recurrent, cudnn_recurrent)
__all__ = ["Layer", "InputSpec", "KerasTensor", "Node"] + [n for m in FAMILIES for n in m.__all__]
