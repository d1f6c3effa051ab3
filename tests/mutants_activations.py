"""Mutants of the activations (registered through mutants.mutant).

Each replaces one function of ``K.activations`` with a wrapper keeping the documented signature
(``functools.wraps`` of the version's function, whose ``__signature__`` is the spec's), so only the formula
differs. ``relu_threshold_ignored`` and ``elu_alpha_ignored`` break a keyword argument: the activation
numerics check draws only x today, so they stay alive until it draws ``threshold`` / ``alpha`` too.
"""
from __future__ import annotations

import functools
import inspect

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import as_tensor, ops


def _replace(K, name, make):
    pristine = K.get(f"activations.{name}")
    fn = functools.wraps(pristine)(make(pristine))
    fn.__name__ = name
    K.set(f"activations.{name}", fn)


@mutant("numerics", ALL, "activations.softmax normalises along the first axis whatever `axis` says (the batch "
        "axis of a 2-D input instead of the last)", items=("activations.softmax",))
def activation_softmax_wrong_axis(K, v):
    _replace(K, "softmax", lambda pristine: lambda x, axis=-1: pristine(x, axis=0))


@mutant("numerics", KERAS2, "activations.hard_sigmoid uses keras 3's slope in 2.x: clip(x / 6 + 0.5, 0, 1) "
        "instead of the seed's clip(0.2 * x + 0.5, 0, 1)", items=("activations.hard_sigmoid",))
def hard_sigmoid_keras3_slope_in_2x(K, v):
    _replace(K, "hard_sigmoid", lambda pristine: lambda x: ops.clip(as_tensor(x) * (1.0 / 6.0) + 0.5, 0.0, 1.0))


@mutant("numerics", ("3",), "activations.hard_sigmoid keeps the 2.x slope in keras 3: clip(0.2 * x + 0.5, 0, 1) "
        "instead of relu6(x + 3) / 6", items=("activations.hard_sigmoid",))
def hard_sigmoid_2x_slope_in_keras3(K, v):
    _replace(K, "hard_sigmoid", lambda pristine: lambda x: ops.clip(as_tensor(x) * 0.2 + 0.5, 0.0, 1.0))


@mutant("numerics", ALL, "activations.selu slips its alpha constant: scale * elu(x, 1.0) instead of "
        "scale * elu(x, 1.6732632...) (the negative part shrinks)", items=("activations.selu",))
def selu_alpha_slip(K, v):
    elu = K.get("activations.elu")
    _replace(K, "selu", lambda pristine: lambda x: elu(x, alpha=1.0) * 1.0507009873554804934193349852946)


@mutant("numerics", ALL, "activations.elu ignores `alpha` (always alpha * (exp(x) - 1) with alpha = 1): alive "
        "until the activation check draws alpha", items=("activations.elu",))
def elu_alpha_ignored(K, v):
    _replace(K, "elu", lambda pristine: lambda x, alpha=1.0: pristine(x))


@mutant("numerics", ALL, "activations.softplus drops the 1: log(exp(x)) = x instead of log(exp(x) + 1)",
        items=("activations.softplus",))
def softplus_drops_the_one(K, v):
    _replace(K, "softplus", lambda pristine: lambda x: ops.log(ops.exp(as_tensor(x))))


@mutant("numerics", ALL, "activations.relu ignores `threshold` (thresholds at 0): alive until the activation "
        "check draws threshold", items=("activations.relu",))
def relu_threshold_ignored(K, v):
    def make(pristine):
        sig = inspect.signature(pristine)

        def relu(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.arguments["threshold"] = 0.0
            return pristine(*bound.args, **bound.kwargs)
        return relu
    _replace(K, "relu", make)


@mutant("numerics", ("3",), "activations.leaky_relu uses 0.3 (layers.LeakyReLU's default) when negative_slope "
        "is left at its documented default 0.2", items=("activations.leaky_relu",))
def leaky_relu_default_slip(K, v):
    _replace(K, "leaky_relu", lambda pristine: lambda x, negative_slope=0.2: pristine(
        x, negative_slope=0.3 if negative_slope == 0.2 else negative_slope))


# -- one mutant per remaining documented activation (each breaks the formula its spec entry documents) ------
@mutant("numerics", ALL, "activations.exponential computes expm1: exp(x) - 1 instead of exp(x)",
        items=("activations.exponential",))
def exponential_is_expm1(K, v):
    _replace(K, "exponential", lambda pristine: lambda x: ops.exp(as_tensor(x)) - 1.0)


@mutant("numerics", ALL, "activations.linear round-trips x through float16 (a half-precision compute dtype "
        "leaking into the identity): x comes back rounded to 11 significant bits, documented unchanged",
        items=("activations.linear",))
def linear_rounds_through_float16(K, v):
    def make(pristine):
        def linear(x):
            x = as_tensor(x)
            return ops.cast(ops.cast(x, "float16"), x.dtype)
        return linear
    _replace(K, "linear", make)


@mutant("numerics", ("3",), "activations.log_softmax ignores `axis`: always the last axis (documented along "
        "`axis`)", items=("activations.log_softmax",))
def log_softmax_axis_ignored(K, v):
    _replace(K, "log_softmax", lambda pristine: lambda x, axis=-1: pristine(x, axis=-1))


@mutant("numerics", ("3",), "activations.relu6 clips to [-6, 6] (the lower bound of the ReLU lost): negative "
        "inputs pass through, documented min(max(x, 0), 6)", items=("activations.relu6",))
def relu6_symmetric_clip(K, v):
    _replace(K, "relu6", lambda pristine: lambda x: ops.clip(as_tensor(x), -6.0, 6.0))


@mutant("numerics", ALL, "activations.sigmoid slips the sign of the exponent: 1 / (1 + exp(x)), i.e. "
        "sigmoid(-x)", items=("activations.sigmoid",))
def sigmoid_sign_slip(K, v):
    _replace(K, "sigmoid", lambda pristine: lambda x: 1.0 / (ops.exp(as_tensor(x)) + 1.0))


@mutant("numerics", ("3",), "activations.silu computes hard_silu: x * relu6(x + 3) / 6 instead of "
        "x * sigmoid(x)", items=("activations.silu",))
def silu_is_hard_silu(K, v):
    def make(pristine):
        def silu(x):
            x = as_tensor(x)
            return x * (ops.clip(x + 3.0, 0.0, 6.0) / 6.0)
        return silu
    _replace(K, "silu", make)


@mutant("numerics", ALL, "activations.softsign drops the abs: x / (x + 1) instead of x / (abs(x) + 1)",
        items=("activations.softsign",))
def softsign_without_abs(K, v):
    def make(pristine):
        def softsign(x):
            x = as_tensor(x)
            return x / (x + 1.0)
        return softsign
    _replace(K, "softsign", make)


@mutant("numerics", ALL, "activations.tanh uses 2 * sigmoid(x) - 1 (which is tanh(x / 2)) instead of "
        "2 * sigmoid(2 x) - 1", items=("activations.tanh",))
def tanh_half_argument(K, v):
    _replace(K, "tanh", lambda pristine: lambda x: ops.sigmoid(as_tensor(x)) * 2.0 - 1.0)


@mutant("numerics", ("3",), "activations.log_softmax shifts x by its max but takes the log-sum-exp of the "
        "unshifted x: x - max(x) - log(sum(exp(x), axis)) (the max never added back)",
        items=("activations.log_softmax",))
def log_softmax_shift_not_added_back(K, v):
    def make(pristine):
        def log_softmax(x, axis=-1):
            x = as_tensor(x)
            shift = ops.max(x, axis=axis, keepdims=True)
            return x - shift - ops.log(ops.sum(ops.exp(x), axis=axis, keepdims=True))
        return log_softmax
    _replace(K, "log_softmax", make)


@mutant("numerics", ALL, "layers.LeakyReLU ignores the slope it is given (alpha in 2.x, negative_slope in 3) and "
        "always uses the default 0.3", items=("layers.LeakyReLU",))
def leaky_relu_layer_slope_ignored(K, v):
    Base = K.get("layers.LeakyReLU")

    class LeakyReLU(Base):
        @property
        def _slope(self):
            return 0.3
    K.set("layers.LeakyReLU", LeakyReLU)
