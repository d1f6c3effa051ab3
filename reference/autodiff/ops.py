"""Every primitive as a function on Tensors, ndarrays and numbers, named like keras.ops.

Each function here is exactly one registered primitive (see `registry.REGISTRY`); tests/test_autodiff.py
checks that the two lists are the same, so nothing is exported without a gradient test.
"""
from .elementwise import (abs, add, cast, clip, divide, exp, log, maximum, minimum, multiply,  # noqa: F401,A004
                          negative, power, sqrt, square, stop_gradient, subtract, where)
from .linalg import matmul  # noqa: F401
from .nn import log_softmax, relu, sigmoid, softmax, softplus, tanh  # noqa: F401
from .recurrent import lstm  # noqa: F401
from .reductions import max, mean, min, sum  # noqa: F401,A004
from .shape import concatenate, expand_dims, getitem, reshape, squeeze, stack, transpose  # noqa: F401
from .windows import pad, window_max, window_sum, windows  # noqa: F401

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "power", "square", "sqrt", "exp", "log", "abs",
    "maximum", "minimum", "where", "clip", "cast", "stop_gradient",
    "matmul",
    "sum", "mean", "max", "min",
    "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "getitem",
    "windows", "window_max", "window_sum", "pad",
    "relu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "lstm",
]
