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
