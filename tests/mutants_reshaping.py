"""Mutants of the reshaping layers (registered through mutants.mutant): Cropping1D/2D/3D,
UpSampling1D/2D/3D, ZeroPadding1D/2D/3D (spec/layers/reshaping.yaml), at least one a class."""
from __future__ import annotations

import inspect

from keras_conformance.reference.autodiff import ops
from mutants import ALL, KERAS2, _override, mutant  # noqa: F401


# -- Cropping -----------------------------------------------------------------------------------------
@mutant("shapes", ALL, "layers.Cropping1D trims only the start of the steps axis (the `after` crop is ignored)",
        items=("layers.Cropping1D",))
def cropping1d_ignores_end(K, v):
    def call(self, inputs):
        return ops.getitem(inputs, (slice(None), slice(self.cropping[0][0], None), slice(None)))

    def compute_output_shape(self, input_shape):
        n = input_shape[1]
        return (input_shape[0], None if n is None else n - self.cropping[0][0], input_shape[2])
    _override(K, "Cropping1D", call=call, compute_output_shape=compute_output_shape)


@mutant("numerics", ALL, "layers.Cropping2D crops from the wrong ends: (top, bottom) and (left, right) swapped "
        "within each pair (same output shape, other entries)", items=("layers.Cropping2D",))
def cropping2d_swaps_ends(K, v):
    Base = K.get("layers.Cropping2D")

    def call(self, inputs):
        kept = self.cropping
        self.cropping = tuple((b, a) for a, b in kept)
        try:
            return Base.call(self, inputs)
        finally:
            self.cropping = kept
    _override(K, "Cropping2D", call=call)


@mutant("shapes", ALL, "layers.Cropping3D ignores data_format: a channels_first input is cropped as if "
        "channels_last (channels and the first two spatial axes)", items=("layers.Cropping3D",))
def cropping3d_ignores_data_format(K, v):
    Base = K.get("layers.Cropping3D")

    def _as_channels_last(method):
        def wrapped(self, *args):
            kept = self.data_format
            self.data_format = "channels_last"
            try:
                return method(self, *args)
            finally:
                self.data_format = kept
        return wrapped
    _override(K, "Cropping3D", call=_as_channels_last(Base.call),
              compute_output_shape=_as_channels_last(Base.compute_output_shape))


# -- UpSampling ---------------------------------------------------------------------------------------
@mutant("numerics", ALL, "layers.UpSampling1D tiles the whole sequence size times instead of repeating "
        "each step (same shape, steps out of order)", items=("layers.UpSampling1D",))
def upsampling1d_tiles(K, v):
    def call(self, inputs):
        return ops.concatenate([inputs] * self.size[0], axis=1)
    _override(K, "UpSampling1D", call=call)


@mutant("numerics", ("3",), "layers.UpSampling2D(interpolation='bilinear') samples at i / size (TF 1's "
        "resize_bilinear grid) instead of keras 3's half-pixel centres", items=("layers.UpSampling2D",))
def upsampling2d_bilinear_legacy_grid(K, v):
    _override(K, "UpSampling2D", _half_pixel=lambda self: False)


@mutant("numerics", KERAS2, "layers.UpSampling2D(interpolation='bilinear') samples at half-pixel centres "
        "(TF 2's tf.image.resize, what tf_keras does) instead of 2.x's resize_bilinear grid i / size",
        items=("layers.UpSampling2D",))
def upsampling2d_bilinear_half_pixel(K, v):
    _override(K, "UpSampling2D", _half_pixel=lambda self: True)


@mutant("signatures", ALL, "layers.UpSampling2D's interpolation defaults to 'bilinear' (documented 'nearest')",
        items=("layers.UpSampling2D",))
def upsampling2d_default_bilinear(K, v):
    Base = K.get("layers.UpSampling2D")
    sig = inspect.signature(Base)
    new_sig = sig.replace(parameters=[p.replace(default="bilinear") if p.name == "interpolation" else p
                                      for p in sig.parameters.values()])

    def __init__(self, *args, **kwargs):
        bound = new_sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        extra = arguments.pop("kwargs", {})
        Base.__init__(self, **arguments, **extra)
    _override(K, "UpSampling2D", __init__=__init__)
    K.get("layers.UpSampling2D").__signature__ = new_sig


@mutant("roundtrips", ALL, "layers.UpSampling3D.get_config leaves out `data_format`",
        items=("layers.UpSampling3D",))
def upsampling3d_config_drops_data_format(K, v):
    Base = K.get("layers.UpSampling3D")

    def get_config(self):
        config = Base.get_config(self)
        config.pop("data_format", None)
        return config
    _override(K, "UpSampling3D", get_config=get_config)


# -- ZeroPadding --------------------------------------------------------------------------------------
@mutant("numerics", ALL, "layers.ZeroPadding1D pads with ones instead of zeros", items=("layers.ZeroPadding1D",))
def zeropadding1d_pads_ones(K, v):
    Base = K.get("layers.ZeroPadding1D")

    def call(self, inputs):
        return ops.add(Base.call(self, ops.subtract(inputs, 1.0)), 1.0)
    _override(K, "ZeroPadding1D", call=call)


@mutant("errors", ALL, "layers.ZeroPadding2D accepts a padding of 3 entries (it pads with the first two; "
        "documented ValueError)", items=("layers.ZeroPadding2D",))
def zeropadding2d_accepts_three_entries(K, v):
    Base = K.get("layers.ZeroPadding2D")

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        if isinstance(padding, (list, tuple)) and len(padding) == 3:
            padding = padding[:2]
        Base.__init__(self, padding=padding, data_format=data_format, **kwargs)
    _override(K, "ZeroPadding2D", __init__=__init__)


@mutant("numerics", ALL, "layers.ZeroPadding3D puts all of each axis's padding after the data (same shape, "
        "the entries shifted)", items=("layers.ZeroPadding3D",))
def zeropadding3d_pads_after_only(K, v):
    Base = K.get("layers.ZeroPadding3D")

    def call(self, inputs):
        kept = self.padding
        self.padding = tuple((0, a + b) for a, b in kept)
        try:
            return Base.call(self, inputs)
        finally:
            self.padding = kept
    _override(K, "ZeroPadding3D", call=call)
