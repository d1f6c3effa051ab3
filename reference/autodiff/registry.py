"""The list of primitives: each one's forward, its VJP and the inputs its gradient test draws from.

Every op in `ops` is one registered primitive; tests/test_autodiff.py iterates `REGISTRY` and checks each
VJP against central finite differences on inputs drawn as the primitive's `Domain` says, so a primitive
cannot be added without being tested (and a Domain kind the test does not know fails that test).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .tensor import apply

# How the inputs and attributes of a primitive are shaped; tests/test_autodiff.py draws each kind.
KINDS = {
    "unary": "one input of any shape",
    "binary": "two inputs with mutually broadcastable shapes",
    "where": "an ndarray condition attribute and two inputs, all three mutually broadcastable",
    "clip": "one input and scalar bounds x_min < x_max (either may be None)",
    "matmul": "two inputs like np.matmul: 1-D or batched with broadcast batch dimensions",
    "reduce": "one input, axis None / int / tuple (negative too), keepdims True or False",
    "axis": "one input of rank >= 1 and one axis (softmax, log_softmax)",
    "reshape": "one input and a target shape of the same size (possibly with -1)",
    "transpose": "one input and axes None or a permutation",
    "expand_dims": "one input and an axis in [-ndim - 1, ndim]",
    "squeeze": "one input with unit dimensions and axis None, one of them, or a tuple of them",
    "concatenate": "1 to 3 inputs equal in shape except along axis",
    "stack": "1 to 3 inputs of equal shape and an axis in [-ndim - 1, ndim]",
    "getitem": "one input and a basic or advanced index (repeated integers, boolean masks)",
    "cast": "one input and a floating dtype",
    "windows": "one input (batch, *spatial, channels), 1 to 3 spatial axes, and a window, strides and "
               "dilation per spatial axis for which at least one whole window fits",
    "pad": "one input and a (before, after) pair of non-negative ints per axis, and a constant",
    "lstm": "a sequence (batch, time, features), the states h0, c0 (batch, units), a kernel (features, "
            "4 units), a recurrent kernel (units, 4 units), a bias (4 units,), and go_backwards",
}

VALUE_DOMAINS = {
    "any": "standard normal",
    "positive": "uniform in [0.5, 2]: log, sqrt, the base of power",
    "nonzero": "magnitude in [0.5, 2], either sign: divisors",
}


@dataclass(frozen=True)
class Domain:
    """The inputs on which a primitive is differentiable and on which its VJP test draws.

    kind: a key of KINDS. values: a key of VALUE_DOMAINS for every input, or a tuple with one per input.
    avoid_ties: the primitive has kinks or ties (relu at 0, abs at 0, maximum at a == b, max over equal
    entries, clip at its bounds); the test then draws all entries distinct, at least 0.1 apart and at
    least 0.05 from any multiple of 0.1, where those kinks are placed, so that finite differences never
    straddle one. differentiable: False for a primitive whose derivative is zero by definition
    (stop_gradient): the test checks that its gradient is zero and its value the identity.
    """

    kind: str
    values: str | tuple = "any"
    avoid_ties: bool = False
    differentiable: bool = True

    def value_domain(self, i: int) -> str:
        return self.values if isinstance(self.values, str) else self.values[i]


@dataclass(frozen=True, eq=False)
class Primitive:
    """`forward(*arrays, **attrs) -> ndarray` and `vjp(g, out, *arrays, **attrs) -> one gradient per input`.

    `g` is the cotangent of the output, `out` the forward's result (many VJPs are cheapest from it). A VJP
    returns arrays shaped like its inputs; the engine casts them to each input's dtype. vjp None means the
    derivative is zero everywhere and the output is not recorded at all. `partial`: the VJP also takes
    `needs` (one bool per input) and may return None for an input whose gradient nobody asked for (a
    convolution's data side: half of its backward matmuls).
    """

    name: str
    forward: Callable
    vjp: Callable | None
    domain: Domain | None
    partial: bool = False

    def __call__(self, *inputs, **attrs):
        return apply(self, *inputs, **attrs)

    def __repr__(self):
        return f"<Primitive {self.name}>"


REGISTRY: dict[str, Primitive] = {}


def primitive(name: str, forward: Callable, vjp: Callable | None, domain: Domain | None,
              partial: bool = False) -> Primitive:
    """Register a primitive once; the op function of `ops` calls the returned object.

    A missing or unknown domain is not refused here (that would break every import of the package); the
    gradient test fails for it instead.
    """
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} is already registered")
    prim = Primitive(name, forward, vjp, domain, partial)
    REGISTRY[name] = prim
    return prim
