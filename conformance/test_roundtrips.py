"""Round trips: what is saved and loaded again predicts the same.

Generated for each documented model method that has a round-trip procedure:
- ``test_roundtrip[Model.save]``: ``save`` to an HDF5 path (``.h5``, every version) -> ``models.load_model``;
- ``test_roundtrip[Model.save_weights]``: ``save_weights`` (``.weights.h5``) -> ``load_weights`` on a fresh model;
- ``test_roundtrip[Model.get_config]``: ``from_config`` (``models.Sequential``) + ``set_weights``;
- ``test_roundtrip[Model.to_json]`` / ``[Model.to_yaml]``: ``models.model_from_json`` / ``model_from_yaml``.
Predictions before and after are compared (tolerance kind ``roundtrip``).
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "roundtrips"

PROCEDURES = {
    "save": ("models.load_model",),
    "save_weights": ("Model.load_weights",),
    "get_config": ("models.Sequential",),
    "to_json": ("models.model_from_json",),
    "to_yaml": ("models.model_from_yaml",),
}
_EXAMPLES = 3


def conformance_cases(ctx, function_name):
    out = []
    for i in ctx.spec.items():
        if i.kind == "method" and i.owner in ("Model", "Sequential") and i.attr in PROCEDURES:
            needs = ("construct", "call", "save") if i.attr == "save" else ("construct", "call")
            out.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, needs, {"procedure": i.attr}))
    return out


def _restore(ctx, model, procedure, recipe, tmp):
    K = ctx.K
    if procedure == "save":
        path = str(tmp / "model.h5")
        model.save(path)
        return K.models.load_model(path), [f"model.save({path!r})", f"loaded = K.models.load_model({path!r})"]
    if procedure == "save_weights":
        path = str(tmp / "model.weights.h5")
        model.save_weights(path)
        fresh = oracle.build(K, ctx.api_version, recipe)
        fresh.load_weights(path)
        return fresh, [f"model.save_weights({path!r})", oracle.code(recipe, ctx.api_version, "K", "loaded"),
                       f"loaded.load_weights({path!r})"]
    if procedure == "get_config":
        loaded = type(model).from_config(model.get_config())
        loaded.set_weights(model.get_weights())
        return loaded, ["loaded = type(model).from_config(model.get_config())",
                        "loaded.set_weights(model.get_weights())"]
    if procedure in ("to_json", "to_yaml"):
        fmt = procedure[3:]
        text = getattr(model, procedure)()
        ctx.locate(f"models.model_from_{fmt}")
        loaded = getattr(K.models, f"model_from_{fmt}")(text)
        loaded.set_weights(model.get_weights())
        return loaded, [f"loaded = K.models.model_from_{fmt}(model.{procedure}())",
                        "loaded.set_weights(model.get_weights())"]
    raise LookupError(procedure)


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=_EXAMPLES)
def test_roundtrip(conformance, case, conformance_check, data, tmp_path_factory):
    ctx = conformance
    item = ctx.spec[case.item]
    procedure = case.data["procedure"]
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, batch, seed = c["recipe"], c["batch"], c["seed"]
    xshape = (batch,) + tuple(recipe["input_shape"])
    tmp = tmp_path_factory.mktemp("roundtrip")
    ctx.locate(item.name)
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    x = oracle.inputs(xshape, seed)
    before = ctx.k_numpy(oracle.predict(model, x))
    lines = [ctx.preamble(), oracle.code(recipe, ctx.api_version), oracle.inputs_code("x", xshape, seed),
             "before = np.asarray(model.predict(x, verbose=0))"]
    conformance_check.reproducer = "\n".join(lines + [f"# then {item.name} and restore"])
    loaded, steps = _restore(ctx, model, procedure, recipe, tmp)
    conformance_check.reproducer = "\n".join(
        lines + steps + ["print(np.max(np.abs(np.asarray(loaded.predict(x, verbose=0)) - before)))"])
    after = ctx.k_numpy(oracle.predict(loaded, x))
    assert_close(after, before, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                 what=f"{item.name}: predictions after the round trip")
    assert [np.shape(w) for w in loaded.get_weights()] == [np.shape(w) for w in model.get_weights()], (
        f"{item.name}: weight shapes changed in the round trip")
