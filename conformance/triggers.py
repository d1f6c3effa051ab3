"""How to provoke each documented error (the spec's ``raises[].trigger`` names, spec.TRIGGERS).

A trigger is ``fn(ctx, item) -> (action, code)``: ``action()`` performs the documented misuse of
``item`` (e.g. ``Model.fit`` before ``compile``) on the implementation under test, ``code`` is the same
misuse as Python source for the reproducer. ``NEEDS`` lists the capabilities it relies on.
"""
from __future__ import annotations

import numpy as np

from . import oracle

RECIPE = {"input_shape": (4,), "layers": [("Dense", {"units": 3})]}
_X = "x = np.ones((5, 4), 'float32'); y = np.zeros((5, 3), 'float32')"


def _call(model, attr, x, y):
    """Call a documented data method the documented way (quietly where it has ``verbose``)."""
    fn = getattr(model, attr)
    if attr == "fit":
        return fn(x, y, epochs=1, verbose=0)
    if attr == "evaluate":
        return fn(x, y, verbose=0)
    if attr == "predict":
        return fn(x, verbose=0)
    if attr in ("train_on_batch", "test_on_batch"):
        return fn(x, y)
    if attr == "predict_on_batch":
        return fn(x)
    raise LookupError(f"no data call for Model.{attr}")


def _call_code(attr, x="x", y="y"):
    return {"fit": f"model.fit({x}, {y}, epochs=1, verbose=0)",
            "evaluate": f"model.evaluate({x}, {y}, verbose=0)",
            "predict": f"model.predict({x}, verbose=0)",
            "train_on_batch": f"model.train_on_batch({x}, {y})",
            "test_on_batch": f"model.test_on_batch({x}, {y})",
            "predict_on_batch": f"model.predict_on_batch({x})"}.get(attr, f"model.{attr}({x}, {y})")


def _model(ctx, compiled: bool):
    m = oracle.build(ctx.K, ctx.api_version, RECIPE)
    if compiled:
        m.compile(optimizer="sgd", loss="mean_squared_error")
    return m


def _code(ctx, compiled: bool, *tail):
    lines = [ctx.preamble(), oracle.code(RECIPE, ctx.api_version)]
    if compiled:
        lines.append("model.compile(optimizer='sgd', loss='mean_squared_error')")
    return "\n".join(lines + list(tail))


def not_compiled(ctx, item):
    def action():
        _call(_model(ctx, compiled=False), item.attr, np.ones((5, 4), "float32"), np.zeros((5, 3), "float32"))
    return action, _code(ctx, False, _X, _call_code(item.attr))


def input_shape_mismatch(ctx, item):
    compiled = item.attr not in ("predict", "predict_on_batch")

    def action():
        _call(_model(ctx, compiled), item.attr, np.ones((5, 7), "float32"), np.zeros((5, 3), "float32"))
    return action, _code(ctx, compiled, "x = np.ones((5, 7), 'float32'); y = np.zeros((5, 3), 'float32')",
                         _call_code(item.attr))


def sample_count_mismatch(ctx, item):
    def action():
        _call(_model(ctx, True), item.attr, np.ones((5, 4), "float32"), np.zeros((4, 3), "float32"))
    return action, _code(ctx, True, "x = np.ones((5, 4), 'float32'); y = np.zeros((4, 3), 'float32')",
                         _call_code(item.attr))


def invalid_loss(ctx, item):
    def action():
        _model(ctx, False).compile(optimizer="sgd", loss="no_such_loss_function")
    return action, _code(ctx, False, "model.compile(optimizer='sgd', loss='no_such_loss_function')")


def invalid_optimizer(ctx, item):
    def action():
        _model(ctx, False).compile(optimizer="no_such_optimizer", loss="mean_squared_error")
    return action, _code(ctx, False, "model.compile(optimizer='no_such_optimizer', loss='mean_squared_error')")


def get_layer_unknown_name(ctx, item):
    def action():
        _model(ctx, False).get_layer(name="no_such_layer")
    return action, _code(ctx, False, "model.get_layer(name='no_such_layer')")


def get_layer_index_out_of_range(ctx, item):
    def action():
        _model(ctx, False).get_layer(index=99)
    return action, _code(ctx, False, "model.get_layer(index=99)")


def sample_and_class_weight(ctx, item):
    x, y = np.ones((4, 4), "float32"), np.eye(3, dtype="float32")[[0, 1, 2, 0]]

    def action():
        getattr(_model(ctx, True), item.attr)(x, y, sample_weight=np.ones(4, "float32"), class_weight={0: 1.0, 1: 2.0, 2: 1.0})
    return action, _code(ctx, True, "x = np.ones((4, 4), 'float32'); y = np.eye(3, dtype='float32')[[0, 1, 2, 0]]",
                         f"model.{item.attr}(x, y, sample_weight=np.ones(4, 'float32'), "
                         f"class_weight={{0: 1.0, 1: 2.0, 2: 1.0}})")


TRIGGERS = {f.__name__: f for f in (not_compiled, input_shape_mismatch, sample_count_mismatch, invalid_loss,
                                    invalid_optimizer, get_layer_unknown_name, get_layer_index_out_of_range,
                                    sample_and_class_weight)}

# the documented parameters each trigger's call names (coverage table)
_CALL_PARAMS = {"fit": ("x", "y", "epochs", "verbose"), "evaluate": ("x", "y", "verbose"),
                "predict": ("x", "verbose"), "train_on_batch": ("x", "y"), "test_on_batch": ("x", "y"),
                "predict_on_batch": ("x",)}
_TRIGGER_PARAMS = {"invalid_loss": ("optimizer", "loss"), "invalid_optimizer": ("optimizer", "loss"),
                   "get_layer_unknown_name": ("name",), "get_layer_index_out_of_range": ("index",),
                   "sample_and_class_weight": ("x", "y", "sample_weight", "class_weight")}


def params(trigger: str, item) -> tuple[str, ...]:
    return _TRIGGER_PARAMS.get(trigger) or _CALL_PARAMS.get(item.attr, ())


NEEDS = {
    "not_compiled": ("construct",),
    "input_shape_mismatch": ("construct", "call"),
    "sample_count_mismatch": ("construct", "compile"),
    "invalid_loss": ("construct",),
    "invalid_optimizer": ("construct",),
    "get_layer_unknown_name": ("construct",),
    "get_layer_index_out_of_range": ("construct",),
    "sample_and_class_weight": ("construct", "compile", "fit"),
}
