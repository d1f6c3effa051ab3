"""A small reverse-mode autodiff core in NumPy: the engine under the reference layers, losses, optimizers.

    from keras_conformance.reference.autodiff import Tensor, Variable, as_tensor, grad, no_grad, ops
    w = Variable(np.ones((3, 2)), name="kernel")
    loss = ops.mean(ops.square(Tensor(x) @ w - y))
    (dw,) = grad(loss, [w])

Modules: tensor (Tensor, Variable, grad, recording), registry (Primitive, Domain, REGISTRY), and the
primitive families elementwise, reductions, linalg, shape, nn, windows, recurrent, gathered in `ops`.
"""
from .tensor import FLOATX, Tensor, Variable, as_tensor, grad, is_recording, no_grad, unbroadcast  # isort: skip
from . import ops
from .elementwise import stop_gradient
from .registry import KINDS, REGISTRY, Domain, Primitive, primitive

__all__ = [
    "Tensor", "Variable", "as_tensor", "grad", "no_grad", "is_recording", "stop_gradient", "ops",
    "unbroadcast", "FLOATX", "REGISTRY", "Primitive", "Domain", "KINDS", "primitive",
]
