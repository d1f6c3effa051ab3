"""The resizing layers: Cropping1D/2D/3D, UpSampling1D/2D/3D, ZeroPadding1D/2D/3D.

Keras 2.2.4 / 2.3.1 define them in layers/convolutional.py (the 2.2.4 docs list them on the
convolutional page); Keras 3.15 files them under layers/reshaping/. spec/layers/reshaping.yaml cites the
source of each fact. What differs between the versions, as the reference implements it:

- argument validation: 2.x ``conv_utils.normalize_tuple`` and ``K.normalize_data_format``; 3
  ``argument_validation.standardize_tuple`` (negative cropping / padding refused) and
  ``backend.standardize_data_format``. ``UpSampling1D``: 2.x ``int(size)``; 3 TypeError unless an int,
  ValueError unless positive. ``UpSampling2D.interpolation``: 2.x ValueError at construction unless
  ``nearest`` or ``bilinear`` (not lower-cased); 3 lower-cased, checked when the layer runs (ValueError
  for a name its backends' ``image.resize`` does not know).
- bilinear upsampling: 2.x calls ``tf.image.resize_bilinear`` (TF 1 defaults ``align_corners=False``,
  ``half_pixel_centers=False``: output row i samples input row ``i / scale``); keras 3's
  ``ops.image.resize`` samples at half-pixel centres (``(i + 0.5) / scale - 0.5``, every backend: TF
  ``tf.image.resize``, JAX ``jax.image.resize``, torch ``interpolate(align_corners=False)``). Either way
  one output row is a linear combination of at most two input rows, clamped at the edges: a per-axis
  interpolation matrix, applied by a matrix product.
- ``ZeroPadding1D`` takes a ``data_format`` only in 3; ``Cropping1D`` never does.
- keras 3's croppings refuse (ValueError) a cropping that leaves nothing of an axis, when the output
  shape is computed; 2.x does not check.
- input rank: keras 3 has an ``InputSpec(ndim=rank + 2)`` on every one of them. keras 2.2.4 / 2.3.1's
  ``_UpSampling`` and ``_ZeroPadding`` set theirs before ``Layer.__init__``, which resets it to None:
  their backend ops refuse a wrong rank (``tf.pad``, ``tf.image.resize_*``: ValueError, which the
  reference's InputSpec stands for), except UpSampling1D / UpSampling3D, which repeat whatever axes
  exist (IndexError where an axis is missing or compute_output_shape runs out of factors).

Nearest upsampling is a broadcast against ones plus a reshape (every spatial axis at once); padding is
``ops.pad``; cropping a basic slice (``ops.getitem``). Nothing loops over batch, pixels or channels.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autodiff import ops
from . import conv_utils
from .base import InputSpec, Layer

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
           "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]

_ORDINALS = ("1st", "2nd", "3rd")
# keras 3.15 backend/*/image.py RESIZE_INTERPOLATIONS (what UpSampling2D's docstring lists) and the
# subset the reference computes
_RESIZE_INTERPOLATIONS_V3 = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
_IMPLEMENTED = ("nearest", "bilinear")


# --- argument validation -------------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _data_format(value, api_version):
    """2.x ``K.normalize_data_format`` (``value.lower()``: a non-string is an AttributeError);
    3 ``standardize_data_format`` (``str(value).lower()``); ValueError unless channels_first/last."""
    if value is not None and api_version != "3" and not isinstance(value, str):
        raise AttributeError(f"'{type(value).__name__}' object has no attribute 'lower' "
                             f"(data_format={value!r})")
    return conv_utils.normalize_data_format(value)


def _pair(value, name, api_version):
    """One (before, after) pair: an int ``n`` -> ``(n, n)``, else two ints (ValueError naming
    ``name``). keras 3 refuses negative values; 2.x does not check them (a negative crop slices from
    the other end, a negative pad fails in tf.pad), and the reference refuses them in every version,
    as no version documents a result for them."""
    return conv_utils.normalize_tuple(value, 2, name, api_version, allow_zero=True)


def _pairs(value, rank, name, api_version):
    """``cropping`` / ``padding`` of a 2D or 3D layer: an int (the same pair on every axis), or
    ``rank`` entries each an int or a pair (keras 2.2.4 / 2.3.1 / 3.15 Cropping2D / ZeroPadding2D
    ``__init__``); ValueError otherwise. A negative int is refused at once: keras 3's croppings do so
    (``cropping cannot be negative``); elsewhere Keras leaves it to the backend's pad or slice, which
    fails or (torch pad) crops, so no version documents a result for it."""
    if _is_int(value):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((int(value), int(value)),) * rank
    if hasattr(value, "__len__") and not isinstance(value, str):
        if len(value) != rank:
            words = "two elements" if rank == 2 else f"{rank} elements"
            raise ValueError(f"`{name}` should have {words}. Received: {name}={value!r}.")
        return tuple(_pair(v, f"{_ORDINALS[i]} entry of {name}", api_version)
                     for i, v in enumerate(value))
    raise ValueError(f"`{name}` should be either an int, a tuple of {rank} ints, or a tuple of {rank} "
                     f"tuples of 2 ints. Received: {name}={value!r}.")


def _spatial_axes(rank, data_format):
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def _full(per_axis, rank, data_format, fill):
    """A per-spatial-axis tuple as one entry per input axis (``fill`` on batch and channels)."""
    out = [fill] * (rank + 2)
    for axis, value in zip(_spatial_axes(rank, data_format), per_axis):
        out[axis] = value
    return tuple(out)


# --- Cropping --------------------------------------------------------------------------------------

class _Cropping(Layer):
    """Removes ``cropping[i] = (before, after)`` entries from spatial axis ``i``."""

    _rank = None

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, self._api_version)
        self.cropping = self._normalize(cropping)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _normalize(self, cropping):
        return _pairs(cropping, self._rank, "cropping", self._api_version)

    def _check_fits(self, input_shape):
        if self._api_version != "3":
            return
        for axis, (a, b) in zip(_spatial_axes(self._rank, self.data_format), self.cropping):
            n = input_shape[axis]
            if n is not None and a + b >= n:
                raise ValueError("Values in `cropping` argument should be smaller than the corresponding "
                                 f"spatial dimension of the input. Received: input_shape="
                                 f"{tuple(input_shape)}, cropping={self.cropping}")

    def compute_output_shape(self, input_shape):
        self._check_fits(input_shape)
        out = list(input_shape)
        for axis, (a, b) in zip(_spatial_axes(self._rank, self.data_format), self.cropping):
            if out[axis] is not None:
                out[axis] = out[axis] - a - b
        return tuple(out)

    def call(self, inputs):
        self._check_fits(inputs.shape)
        slices = _full([slice(a, -b if b else None) for a, b in self.cropping], self._rank,
                       self.data_format, slice(None))
        return ops.getitem(inputs, slices)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(_Cropping):
    """``(batch, steps, features)`` -> ``(batch, steps - a - b, features)``, ``cropping = (a, b)``
    or an int (both sides)."""

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)

    def _normalize(self, cropping):
        return (_pair(cropping, "cropping", self._api_version),)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


# --- ZeroPadding -----------------------------------------------------------------------------------

class _ZeroPadding(Layer):
    """Adds ``padding[i] = (before, after)`` zeros along spatial axis ``i``."""

    _rank = None

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, self._api_version)
        self.padding = self._normalize(padding)
        # keras 3.15: InputSpec(ndim=rank + 2). keras 2.2.4 / 2.3.1 _ZeroPadding sets it before
        # Layer.__init__, which resets it to None; the backend's tf.pad (paddings of rank + 2 rows) then
        # refuses any other rank with a ValueError, which this InputSpec stands for.
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _normalize(self, padding):
        return _pairs(padding, self._rank, "padding", self._api_version)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (a, b) in zip(_spatial_axes(self._rank, self.data_format), self.padding):
            if out[axis] is not None:
                out[axis] = out[axis] + a + b
        return tuple(out)

    def call(self, inputs):
        return ops.pad(inputs, _full(self.padding, self._rank, self.data_format, (0, 0)))

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(_ZeroPadding):
    """``(batch, steps, features)`` -> ``(batch, a + steps + b, features)``; ``data_format`` only in
    keras 3 (2.x: always channels_last)."""

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)

    def _normalize(self, padding):
        return (_pair(padding, "padding", self._api_version),)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        if self._api_version != "3":
            config.pop("data_format")
        return config


class ZeroPadding2D(_ZeroPadding):
    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


# --- UpSampling ------------------------------------------------------------------------------------

def _repeat_spatial(x, sizes, axes):
    """Each entry repeated ``sizes[i]`` times along ``axes[i]`` (nearest upsampling): x reshaped with
    a unit axis after each upsampled one, multiplied by ones broadcasting those unit axes to the
    factors, reshaped back. One broadcast for every axis; the VJP sums over the repeats."""
    shape = tuple(x.shape)
    grown, ones, out = [], [], []
    for i, n in enumerate(shape):
        grown.append(n)
        ones.append(1)
        out.append(n)
        if i in axes:
            s = sizes[axes.index(i)]
            grown.append(1)
            ones.append(s)
            out[-1] = n * s
    if all(s == 1 for s in sizes):
        return x
    y = ops.multiply(ops.reshape(x, tuple(grown)), np.ones(tuple(ones), dtype=x.dtype))
    return ops.reshape(y, tuple(out))


def interpolation_matrix(length: int, scale: int, half_pixel: bool, dtype="float32") -> np.ndarray:
    """The (length * scale, length) matrix of linear interpolation along one axis upsampled ``scale``
    times: output entry i samples the input at ``src = (i + 0.5) * r - 0.5`` (half-pixel centres,
    keras 3) or ``src = i * r`` (TF 1 ``resize_bilinear``'s default, keras 2), ``r = length / (length *
    scale)``, with weight ``1 - f`` on ``floor(src)`` and ``f`` on ``ceil(src)`` (f the fraction), each
    index clamped into ``[0, length - 1]`` (so the edges repeat the first / last entry). The
    coordinates are computed in float32, as TensorFlow's resize kernels compute them
    (``compute_interpolation_weights``: ``in = scaler(i, in_size / out_size)`` in float), so the
    weights round as theirs do."""
    f32 = np.float32
    ratio = f32(length) / f32(length * scale)
    i = np.arange(length * scale).astype(f32)
    src = (i + f32(0.5)) * ratio - f32(0.5) if half_pixel else i * ratio
    low = np.floor(src)
    frac = (src - low).astype(f32)
    lower = np.clip(low, 0, length - 1).astype(np.int64)
    upper = np.clip(np.ceil(src), 0, length - 1).astype(np.int64)
    cols = np.arange(length)
    m = ((f32(1.0) - frac)[:, None] * (cols[None, :] == lower[:, None])
         + frac[:, None] * (cols[None, :] == upper[:, None]))
    return m.astype(dtype)


class _UpSampling(Layer):
    """Repeats (or interpolates) each spatial axis ``size[i]`` times."""

    _rank = None

    #: whether 2.x refuses an input of another rank than rank + 2 (see __init__)
    _v2_rank_checked = False

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, self._api_version)
        self.size = self._normalize(size)
        # keras 3.15: InputSpec(ndim=rank + 2). keras 2.2.4 / 2.3.1 _UpSampling sets its InputSpec
        # before calling Layer.__init__, which resets it to None: no rank check. UpSampling2D's backend
        # op (tf.image.resize_*) then refuses any rank but 4 (ValueError), which the InputSpec stands
        # for; UpSampling1D / UpSampling3D repeat whatever axes exist (_check_rank_v2).
        if self._api_version == "3" or self._v2_rank_checked:
            self.input_spec = InputSpec(ndim=self._rank + 2)

    def _normalize(self, size):
        return conv_utils.normalize_tuple(size, self._rank, "size", self._api_version)

    def _check_rank_v2(self, shape):
        """keras 2.2.4 / 2.3.1 without an InputSpec: ``K.repeat_elements`` reads ``x.shape[axis]`` (an
        IndexError for a spatial axis the input lacks) and ``_UpSampling.compute_output_shape`` indexes
        its ``rank + 2`` factors by the input's axes (an IndexError for a longer input); an input with
        the axes is upsampled along them (UpSampling3D on a rank-4 channels_last input: its last three
        axes)."""
        if self._api_version == "3" or self._v2_rank_checked:
            return
        axes = _spatial_axes(self._rank, self.data_format)
        if len(shape) > self._rank + 2 or max(axes) >= len(shape):
            raise IndexError(f"tuple index out of range ({type(self).__name__} on an input of rank "
                             f"{len(shape)}: keras 2.x checks no rank and fails indexing its shape)")

    def compute_output_shape(self, input_shape):
        self._check_rank_v2(input_shape)
        out = list(input_shape)
        for axis, s in zip(_spatial_axes(self._rank, self.data_format), self.size):
            if out[axis] is not None:
                out[axis] = out[axis] * s
        return tuple(out)

    def call(self, inputs):
        self._check_rank_v2(inputs.shape)
        axes = _spatial_axes(self._rank, self.data_format)
        return _repeat_spatial(inputs, self.size, axes)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


class UpSampling1D(_UpSampling):
    """``(batch, steps, features)`` -> ``(batch, steps * size, features)``, each step repeated."""

    _rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, None, **kwargs)

    def _normalize(self, size):
        if self._api_version != "3":
            return (int(size),)                      # keras 2.2.4 / 2.3.1: int(size)
        if not _is_int(size):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        return (int(size),)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Rows and columns repeated (``nearest``) or linearly interpolated (``bilinear``)
    ``size = (rows, cols)`` times."""

    _rank = 2
    _v2_rank_checked = True

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if self._api_version == "3":
            self.interpolation = interpolation.lower()
        else:
            if interpolation not in ("nearest", "bilinear"):
                raise ValueError('interpolation should be one of "nearest" or "bilinear".')
            self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        if self.interpolation not in _RESIZE_INTERPOLATIONS_V3:
            raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                             f"{_RESIZE_INTERPOLATIONS_V3}. Received: interpolation={self.interpolation}")
        if self.interpolation not in _IMPLEMENTED:
            raise NotImplementedError(f"UpSampling2D(interpolation={self.interpolation!r}) is documented by "
                                      f"keras 3 but not implemented by the reference (it implements "
                                      f"{', '.join(_IMPLEMENTED)})")
        half_pixel = self._half_pixel()
        if self.data_format == "channels_first":
            _, _, h, w = inputs.shape
        else:
            _, h, w, _ = inputs.shape
        mh = interpolation_matrix(h, self.size[0], half_pixel, inputs.dtype)
        mw = interpolation_matrix(w, self.size[1], half_pixel, inputs.dtype)
        if self.data_format == "channels_first":
            # (oh, h) @ (b, c, h, w) -> (b, c, oh, w); then (b, c, oh, w) @ (w, ow)
            return ops.matmul(ops.matmul(mh, inputs), mw.T)
        b, _, _, c = inputs.shape
        # rows: (oh, h) @ (b, h, w * c); columns: (ow, w) @ (b, oh, w, c) batched over (b, oh)
        rows = ops.reshape(ops.matmul(mh, ops.reshape(inputs, (b, h, w * c))), (b, h * self.size[0], w, c))
        return ops.matmul(mw, rows)

    def _half_pixel(self) -> bool:
        """Bilinear sampling grid: keras 3's half-pixel centres, or 2.x's resize_bilinear ``i / size``."""
        return self._api_version == "3"

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """The three spatial axes repeated ``size = (d1, d2, d3)`` times."""

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
