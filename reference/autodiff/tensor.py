"""Tensor, Variable and the reverse-mode engine (recording, `grad`, `no_grad`).

Define-by-run: every primitive applied to Tensors while recording is on returns a Tensor that remembers
the primitive, its input Tensors and its attributes. `grad` walks that graph backwards from the output,
calling each primitive's vector-Jacobian product (VJP). The primitives themselves live in the family
modules (elementwise, reductions, linalg, shape, nn) and are registered in `registry`.
"""
from __future__ import annotations

import contextlib
import numbers

import numpy as np

# Keras' floatx: what Python numbers, lists and integer arrays become when nothing says otherwise.
FLOATX = np.dtype("float32")

_recording = True


@contextlib.contextmanager
def no_grad():
    """Do not record operations inside this block (inference, optimizer updates): faster, no graph kept.

    Usable as `with no_grad():` or as a decorator. Tensors made inside are constants for `grad`.
    """
    global _recording
    previous, _recording = _recording, False
    try:
        yield
    finally:
        _recording = previous


def is_recording() -> bool:
    """Whether operations on Tensors are being recorded for `grad` right now."""
    return _recording


def _default_array(value, dtype=None) -> np.ndarray:
    """The ndarray a Tensor holds: floating arrays keep their dtype, everything else becomes floatx."""
    if dtype is not None:
        return np.asarray(value, dtype=dtype)
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
        return np.asarray(value)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"value: cannot make a Tensor from {type(value).__name__} {value!r:.80}")
    # Python floats are float64 to NumPy but floatx to Keras; integer and bool data too.
    return array.astype(FLOATX)


class Tensor:
    """An ndarray plus, when it was computed by a recorded primitive, how it was computed.

    `.data` is the ndarray itself (not a copy), `.numpy()` a copy. `.grad` is None until `grad` is asked
    for this Tensor, then the gradient that call computed for it.
    """

    # No __slots__: layers and models may attach their own bookkeeping (masks, history) to Tensors.
    # Make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy looping over the Tensor as an object.
    __array_ufunc__ = None

    def __init__(self, value, dtype=None):
        if isinstance(value, Tensor):
            value = value.data
        self.data = _default_array(value, dtype)
        self.grad = None
        self._prim = None       # the Primitive that produced this Tensor; None for a leaf
        self._parents = ()      # its input Tensors
        self._attrs = {}        # its non-differentiable arguments (axis, shape, index, ...)

    # ---- ndarray-like properties -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def numpy(self) -> np.ndarray:
        return self.data.copy()

    def __array__(self, dtype=None, copy=None):
        # np.asarray(tensor) is an explicit way out of the graph (metrics, printing).
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return np.asarray(self.data, dtype=dtype)

    def __bool__(self):
        return bool(self.data)   # NumPy's rule: only a single entry has a truth value

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype})"

    # ---- Python operators: each one is the primitive of the same name ------------------------------
    def __add__(self, other): return _elementwise.add(self, other)
    def __radd__(self, other): return _elementwise.add(other, self)
    def __sub__(self, other): return _elementwise.subtract(self, other)
    def __rsub__(self, other): return _elementwise.subtract(other, self)
    def __mul__(self, other): return _elementwise.multiply(self, other)
    def __rmul__(self, other): return _elementwise.multiply(other, self)
    def __truediv__(self, other): return _elementwise.divide(self, other)
    def __rtruediv__(self, other): return _elementwise.divide(other, self)
    def __pow__(self, other): return _elementwise.power(self, other)
    def __rpow__(self, other): return _elementwise.power(other, self)
    def __matmul__(self, other): return _linalg.matmul(self, other)
    def __rmatmul__(self, other): return _linalg.matmul(other, self)
    def __neg__(self): return _elementwise.negative(self)
    def __pos__(self): return self
    def __abs__(self): return _elementwise.abs(self)
    def __getitem__(self, index): return _shape.getitem(self, index)

    @property
    def T(self):
        return _shape.transpose(self)


class Variable(Tensor):
    """A leaf Tensor holding a model or optimizer weight; `assign*` update its array in place."""

    def __init__(self, initial_value, name=None, trainable=True, dtype=None):
        if isinstance(initial_value, Tensor):
            initial_value = initial_value.data
        # A copy: the optimizer writes into this array, never into the caller's.
        super().__init__(np.array(_default_array(initial_value, dtype), copy=True))
        self.name = "variable" if name is None else name
        self.trainable = bool(trainable)

    def _checked(self, value, method) -> np.ndarray:
        value = value.data if isinstance(value, Tensor) else value
        value = np.asarray(value)
        if value.shape != self.shape:
            raise ValueError(
                f"Variable.{method}: cannot assign a value of shape {value.shape} to variable "
                f"{self.name!r} of shape {self.shape}")
        return value

    def assign(self, value):
        """Set the value in place (same object, same array, same dtype)."""
        np.copyto(self.data, self._checked(value, "assign"), casting="unsafe")
        return self

    def assign_add(self, delta):
        self.data += self._checked(delta, "assign_add").astype(self.dtype, copy=False)
        return self

    def assign_sub(self, delta):
        self.data -= self._checked(delta, "assign_sub").astype(self.dtype, copy=False)
        return self

    def __repr__(self):
        return f"<Variable {self.name!r} shape={self.shape} dtype={self.dtype}>"


def as_tensor(value, dtype=None) -> Tensor:
    """`value` itself if it is a Tensor (cast when `dtype` differs), else a new constant Tensor."""
    if isinstance(value, Tensor):
        if dtype is None or np.dtype(dtype) == value.dtype:
            return value
        return _elementwise.cast(value, dtype)
    return Tensor(value, dtype)


def _is_strong(value) -> bool:
    """Operands whose dtype decides the result: Tensors and floating ndarrays (like NumPy's NEP 50)."""
    return isinstance(value, Tensor) or (isinstance(value, np.ndarray) and value.dtype.kind == "f")


def _as_input_tensors(inputs: tuple) -> tuple:
    # Python numbers and integer data take the float dtype of the Tensors they meet, so that
    # `float64_tensor * 0.1` stays exact in float64 and `float32_tensor * 2` stays float32.
    if all(isinstance(x, Tensor) for x in inputs):
        return inputs
    strong = [x.dtype for x in inputs if _is_strong(x)]
    dtype = np.result_type(*strong) if strong else FLOATX
    out = []
    for x in inputs:
        if _is_strong(x):
            out.append(x if isinstance(x, Tensor) else Tensor(x))
        elif isinstance(x, (numbers.Number, np.generic, np.ndarray, list, tuple)):
            out.append(Tensor(x, dtype))
        else:
            raise TypeError(f"expected a Tensor, ndarray or number, got {type(x).__name__}")
    return tuple(out)


def apply(prim, *inputs, **attrs) -> Tensor:
    """Run `prim` forward on the inputs' arrays and, when recording, remember how to go backwards."""
    tensors = _as_input_tensors(inputs)
    out = Tensor.__new__(Tensor)
    out.data = np.asarray(prim.forward(*(t.data for t in tensors), **attrs))
    out.grad = None
    if _recording and prim.vjp is not None:
        out._prim, out._parents, out._attrs = prim, tuple(tensors), attrs
    else:
        # Not recorded, or a primitive with zero derivative by definition (stop_gradient): a leaf.
        out._prim, out._parents, out._attrs = None, (), {}
    return out


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `g` down to `shape`: the VJP of NumPy broadcasting an array of `shape` to `g.shape`."""
    if g.shape == shape:
        return g
    # Leading axes that broadcasting added, then axes where the input had size 1.
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    return g.sum(axis=axes).reshape(shape)


def _topological_order(y: Tensor) -> list[Tensor]:
    """Every Tensor `y` depends on, each after all of its parents. Iterative: graphs can be deep."""
    order, visited = [], set()
    # bound methods in locals: this loop runs once per recorded op of a train step (about 900 for the
    # benchmark's LSTM), and attribute lookups were a good part of the engine's own time
    append, seen, mark = order.append, visited.__contains__, visited.add
    stack = [(y, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, parents_done = pop()
        if parents_done:
            append(node)
            continue
        key = id(node)
        if seen(key):
            continue
        mark(key)
        push((node, True))
        for p in node._parents:
            if not seen(id(p)):
                push((p, False))
    return order


def grad(y, xs, output_gradient=None) -> list[np.ndarray]:
    """Gradients of `y` with respect to each Tensor in `xs`, as ndarrays shaped and typed like each x.

    `y` must be a scalar unless `output_gradient` (the cotangent of y, shaped like y) is given; then the
    result is the vector-Jacobian product. A zero array comes back for an x that y does not depend on.
    """
    if not isinstance(y, Tensor):
        raise TypeError(f"y must be a Tensor, got {type(y).__name__}")
    if isinstance(xs, Tensor) or not all(isinstance(x, Tensor) for x in xs):
        raise TypeError("xs must be a list of Tensors")
    xs = list(xs)
    if output_gradient is None:
        if y.size != 1:
            raise ValueError(
                f"grad: y must be a scalar Tensor, got shape {y.shape}; reduce it first (ops.sum, "
                f"ops.mean) or pass output_gradient")
        seed = np.ones(y.shape, y.dtype)
    else:
        seed = np.asarray(output_gradient.data if isinstance(output_gradient, Tensor)
                          else output_gradient, dtype=y.dtype)
        if seed.shape != y.shape:
            raise ValueError(f"grad: output_gradient has shape {seed.shape}, y has shape {y.shape}")

    targets = {id(x) for x in xs}
    order = _topological_order(y)
    # Only nodes on a path from some x to y need a VJP; skip the rest (e.g. the data-side of a matmul).
    needed = set(targets)
    is_needed, need = needed.__contains__, needed.add
    for node in order:
        for p in node._parents:
            if is_needed(id(p)):
                need(id(node))
                break

    grads = {id(y): seed}
    for node in reversed(order):
        key = id(node)
        g = grads.get(key) if key in targets else grads.pop(key, None)
        prim = node._prim
        if g is None or prim is None:
            continue
        parents = node._parents
        if prim.partial:
            needs = tuple(is_needed(id(p)) for p in parents)
            parent_grads = prim.vjp(g, node.data, *(p.data for p in parents), needs=needs, **node._attrs)
        else:
            parent_grads = prim.vjp(g, node.data, *(p.data for p in parents), **node._attrs)
        for parent, pg in zip(parents, parent_grads):
            pkey = id(parent)
            if pg is None or not is_needed(pkey):
                continue
            data = parent.data
            if pg.shape != data.shape:
                raise AssertionError(f"VJP of {prim.name!r} returned shape {pg.shape} for an "
                                     f"input of shape {data.shape}")
            if pg.dtype != data.dtype:
                pg = pg.astype(data.dtype)
            previous = grads.get(pkey)
            # A Tensor used several times receives the sum of the gradients from all of its uses. Never
            # in place: a VJP may hand the same array (or a read-only broadcast view) to several inputs.
            grads[pkey] = pg if previous is None else previous + pg

    result = []
    for x in xs:
        g = grads.get(id(x))
        g = np.zeros(x.shape, x.dtype) if g is None else np.array(g, dtype=x.dtype, copy=True)
        x.grad = g
        result.append(g)
    return result


# The operators above dispatch to the primitives; imported last because those modules import Tensor.
from . import elementwise as _elementwise  # noqa: E402
from . import linalg as _linalg  # noqa: E402
from . import shape as _shape  # noqa: E402
