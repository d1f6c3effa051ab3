"""``keras.utils`` as far as the documented examples need: ``to_categorical`` and ``Sequence``."""
from __future__ import annotations

import numpy as np

from .. import backend

__all__ = ["to_categorical", "Sequence"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer class vector -> one-hot matrix (a trailing axis of size 1 is dropped first)."""
    y = np.array(y, dtype="int64")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    y = y.ravel()
    if y.size and y.min() < 0:
        raise ValueError(f"`y` of to_categorical must hold non-negative class indices, got "
                         f"{int(y.min())}.")
    if num_classes is None:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    elif y.size and int(np.max(y)) >= num_classes:
        raise ValueError(f"`num_classes` ({num_classes}) must be larger than the largest class "
                         f"index in `y` ({int(np.max(y))}).")
    out = np.zeros((y.shape[0], num_classes), dtype=dtype or backend.floatx())
    out[np.arange(y.shape[0]), y] = 1
    return out.reshape(shape + (num_classes,))


class Sequence:
    """Base class for a dataset indexed by batch: ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
