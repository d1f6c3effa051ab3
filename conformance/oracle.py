"""Building the same model in the implementation and in the reference, and describing it as code.

A *recipe* is plain data: ``{"input_shape": (4,), "layers": [("Dense", {"units": 3})]}``. ``build``
turns it into a model of a keras namespace with the idiom of the API version (2.x: the first layer takes
``input_shape=``; 3: an ``Input`` first); ``code`` writes the same construction as Python source for the
reproducer. Weights travel implementation -> reference with ``get_weights``/``set_weights``.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _kwargs_code(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def build(K: Any, api_version: str, recipe: dict) -> Any:
    input_shape = tuple(recipe["input_shape"])
    layers = []
    for i, (cls_name, kwargs) in enumerate(recipe["layers"]):
        kwargs = dict(kwargs)
        if i == 0 and api_version != "3":
            kwargs["input_shape"] = input_shape
        layers.append(getattr(K.layers, cls_name)(**kwargs))
    if api_version == "3":
        layers.insert(0, K.layers.Input(shape=input_shape))
    return K.models.Sequential(layers)


def code(recipe: dict, api_version: str, ns: str = "K", var: str = "model") -> str:
    input_shape = tuple(recipe["input_shape"])
    parts = []
    if api_version == "3":
        parts.append(f"{ns}.layers.Input(shape={input_shape!r})")
    for i, (cls_name, kwargs) in enumerate(recipe["layers"]):
        kwargs = dict(kwargs)
        if i == 0 and api_version != "3":
            kwargs["input_shape"] = input_shape
        parts.append(f"{ns}.layers.{cls_name}({_kwargs_code(kwargs)})")
    return f"{var} = {ns}.models.Sequential([{', '.join(parts)}])"


def inputs(shape: tuple, seed: int, kind: str = "normal") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal(shape).astype("float32")
    raise ValueError(kind)


def inputs_code(var: str, shape: tuple, seed: int) -> str:
    return f"{var} = np.random.default_rng({seed}).standard_normal({tuple(shape)!r}).astype('float32')"


def _targets(rng, task: str, n: int, units: int) -> np.ndarray:
    if task == "classification":
        return np.eye(units, dtype="float32")[rng.integers(0, units, size=n)]
    return rng.standard_normal((n, units)).astype("float32")


def fit_arrays(case: dict):
    """(x, y, kwargs) of a training case (plain data, conformance/test_training.py ``fit_case``): the
    same arrays on every call. ``{"array": ...}`` entries of ``case["fit"]`` become arrays: per-sample
    weights in [0.5, 2], or validation data (x, y[, sample weights]) of their own size."""
    rng = np.random.default_rng(case["seed"])
    n, task, units = case["n"], case["task"], case["units"]
    x = rng.standard_normal((n, case["in_dim"])).astype("float32")
    y = _targets(rng, task, n, units)
    kwargs = {}
    for name, value in case["fit"].items():
        if isinstance(value, dict) and value.get("array") == "sample_weight":
            value = np.random.default_rng(case["seed"] + 5).uniform(0.5, 2.0, size=n).astype("float32")
        elif isinstance(value, dict) and value.get("array") == "validation_data":
            vrng = np.random.default_rng(case["seed"] + 7)
            vx = vrng.standard_normal((value["n"], case["in_dim"])).astype("float32")
            vy = _targets(vrng, task, value["n"], units)
            value = (vx, vy, vrng.uniform(0.5, 2.0, size=value["n"]).astype("float32")) if value["weighted"] \
                else (vx, vy)
        kwargs[name] = value
    return x, y, kwargs


def predict(model: Any, x: np.ndarray) -> Any:
    return model.predict(x, verbose=0)


def optimizer(K: Any, name: str, lr_name: str, lr: float) -> Any:
    return getattr(K.optimizers, name)(**{lr_name: lr})


def compile_mse(model: Any, opt: Any) -> None:
    model.compile(optimizer=opt, loss="mean_squared_error")


def first_scalar(value: Any, to_numpy) -> float:
    """train_on_batch's return: a scalar loss, or a list whose first entry is the loss."""
    if isinstance(value, dict):
        value = value.get("loss", next(iter(value.values())))
    if isinstance(value, (list, tuple)):
        value = value[0]
    return float(np.asarray(to_numpy(value)).ravel()[0])


# -- the documented weights of a recipe's model, in model order ------------------------------------------
def evaluate(expr: str, item: Any, kwargs: dict, input_shape: tuple) -> Any:
    """A spec expression (``output_shape``, a weight's ``shape`` / ``when``) over ``input_shape`` (batch
    first) and the constructor arguments (given, else the documented defaults), with exactly the names
    the schema admits (spec/shapes.py)."""
    from ..spec import shapes
    env = {**{k: v for k, v in item.defaults().items()}, **kwargs, "input_shape": tuple(input_shape)}
    return shapes.evaluate(expr, env)


def documented_weights(spec: Any, recipe: dict) -> list[dict]:
    """What ``Model.get_weights()`` of the recipe's model documents, in order: one entry per weight of each
    layer (model order, then the spec's ``weights`` order) with ``layer`` (index), ``item``
    (``layers.Dense``), ``name`` (``kernel``), ``expr`` (the spec's shape expression), ``shape`` (evaluated,
    batch dimension unknown) and ``source`` (where the spec has it from). Each layer's input shape is the
    previous layer's documented ``output_shape``."""
    out = []
    shape = (None,) + tuple(recipe["input_shape"])
    for index, (cls_name, kwargs) in enumerate(recipe["layers"]):
        item = spec[f"layers.{cls_name}"]
        for w in item.weights:
            if w.when and not evaluate(w.when, item, kwargs, shape):
                continue
            out.append({"layer": index, "item": item.name, "name": w.name, "expr": w.shape,
                        "shape": tuple(evaluate(w.shape, item, kwargs, shape)), "source": item.source})
        if item.output_shape:
            shape = tuple(evaluate(item.output_shape, item, kwargs, shape))
    return out


def weight_order_problem(spec: Any, recipe: dict, model: Any, shapes: list) -> str | None:
    """None when ``shapes`` (those of ``model.get_weights()``) follow the documented weights order of the
    recipe's layers; else one sentence naming the first weight that does not, e.g. ``Model.get_weights:
    weight 0 of layer 'dense' has shape (1,), documented kernel (input_shape[-1], units) = (1, 1) (keras
    2.3.1 source)``."""
    documented = documented_weights(spec, recipe)
    layers = list(getattr(model, "layers", []))
    layers = layers[-len(recipe["layers"]):] if len(layers) >= len(recipe["layers"]) else []

    def layer_name(i):
        name = getattr(layers[i], "name", None) if layers else None
        return f"layer {name!r}" if name else f"layer {i}"

    shapes = [tuple(int(d) for d in s) for s in shapes]
    for i, (got, doc) in enumerate(zip(shapes, documented)):
        if got != doc["shape"]:
            return (f"Model.get_weights: weight {i} of {layer_name(doc['layer'])} ({doc['item']}) has shape "
                    f"{got}, documented {doc['name']} {doc['expr']} = {doc['shape']} ({doc['source']}); "
                    f"documented order: " + ", ".join(f"{d['name']} {d['shape']}" for d in documented))
    if len(shapes) != len(documented):
        return (f"Model.get_weights: {len(shapes)} arrays {shapes}, documented {len(documented)}: "
                + ", ".join(f"{d['item']} {d['name']} {d['shape']}" for d in documented))
    return None


def drawn_weights(shapes: list, seed: int) -> list[np.ndarray]:
    """Non-zero float32 weights of the given shapes (so a dropped bias, or a kernel used the wrong way,
    shows in the outputs): standard normal * 0.5 from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return [(0.5 * rng.standard_normal(tuple(s))).astype("float32") for s in shapes]


def drawn_weights_code(var: str, model_var: str, seed: int) -> str:
    return (f"from keras_conformance.conformance import oracle; "
            f"{var} = oracle.drawn_weights([np.shape(w) for w in {model_var}.get_weights()], {seed})")


# -- a layer shared by two calls: two inputs of different ranks, two outputs -------------------------------
SHARED_GRAPH_CODE = ("a = {ns}.layers.Input(shape=(4,)); b = {ns}.layers.Input(shape=(2, 4)); "
                     "shared = {ns}.layers.Dense(3)\n"
                     "outputs = [shared(a), shared(b)]   # two calls of one layer: its nodes 0 and 1")


def shared_graph(K: Any):
    """``Dense(3)`` called on ``Input((4,))`` and on ``Input((2, 4))``: ([a, b], [outputs], the shared layer)."""
    a, b = K.layers.Input(shape=(4,)), K.layers.Input(shape=(2, 4))
    shared = K.layers.Dense(3)
    return [a, b], [shared(a), shared(b)], shared


# -- the same batches as a Python generator and as a keras.utils.Sequence (the *_generator methods) --------
def batch_list(x, y=None, sample_weight=None, batch_size=1) -> list[tuple]:
    """Consecutive batches of the arrays: (x, y[, sample_weight]) tuples, or x alone where y is None."""
    out = []
    for lo in range(0, len(x), batch_size):
        hi = lo + batch_size
        if y is None:
            out.append(x[lo:hi])
        else:
            out.append((x[lo:hi], y[lo:hi]) + (() if sample_weight is None else (sample_weight[lo:hi],)))
    return out


def batch_generator(batches: list):
    """An endless Python generator cycling through ``batches`` in order."""
    while True:
        yield from batches


def batch_sequence(K: Any, batches: list):
    """A ``K.utils.Sequence`` whose item i is ``batches[i]`` (documented: __len__ and __getitem__)."""
    class Batches(K.utils.Sequence):
        def __len__(self):
            return len(batches)

        def __getitem__(self, index):
            return batches[index]
    return Batches()
