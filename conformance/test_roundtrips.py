"""Round trips: what is saved and loaded again predicts the same.

File formats come from the spec: ``Model.save``'s ``formats`` in the run's version (``h5`` in 2.x; ``keras``,
then ``h5``, in 3). A check that writes a file runs once per format: under the item's own id for the
version's default (first) format, under ``<item>-<format>`` for the others (``test_layer_save[layers.Dense]``
is a ``.keras`` file in 3 and an ``.h5`` file in 2.x; ``test_layer_save[layers.Dense-h5]`` is 3's legacy file).

Generated for each documented model method that has a round-trip procedure:
- ``test_roundtrip[Model.save]`` (and ``-<format>``): ``save`` to a path of that format -> ``models.load_model``;
- ``test_roundtrip[Model.save_weights]``: ``save_weights`` (``.weights.h5``) -> ``load_weights`` on a fresh model;
- ``test_roundtrip[Model.get_config]``: ``from_config`` (``models.Sequential``) + ``set_weights``;
- ``test_roundtrip[Model.to_json]`` / ``[Model.to_yaml]``: ``models.model_from_json`` / ``model_from_yaml``.
Predictions before and after are compared (tolerance kind ``roundtrip``).

More round trips, each generated from the spec item that documents it (skipped, with the reason, where
the run's API version does not document what it needs):
- ``test_config_roundtrip[Model.get_config]`` / ``[Model.to_json]`` / ``[Model.to_yaml]``: the
  configuration of the rebuilt model equals the original's (``get_config`` compared as JSON data, the
  JSON text parsed, the YAML text as text), and so do its predictions on the same weights;
- ``test_load_weights_by_name[Model.load_weights]``: the seed 002 example: weights saved from
  ``Dense(2, name="dense_1"), Dense(3, name="dense_2")`` load with ``by_name=True`` into
  ``Dense(2, name="dense_1"), Dense(10, name="new_dense")``: ``dense_1`` gets the saved weights,
  ``new_dense`` keeps its own;
- ``test_resume_training[Model.save]``: fit 1 epoch, ``save``, ``models.load_model``, fit 1 more epoch
  (``shuffle=False``, Adam, so the optimizer state must survive the file) equals 2 epochs that never
  stopped, from the same initial weights (tolerance kind ``trajectory``); before the second fit, the
  loaded model must be compiled with the original optimizer's class, ``get_config()`` and number of state
  arrays (a model loaded uncompiled is named as such, not left to crash in ``fit``);
- ``test_layer_interchange[layers.X]`` (and ``-<format>``): a model holding the layer saved by the
  implementation loads in the reference, and the same model saved by the reference loads in the
  implementation, with the same weights and predictions;
- ``test_custom_objects[models.load_model]`` (and ``-<format>``), ``[models.model_from_json]``,
  ``[models.model_from_yaml]``: every documented loader that takes ``custom_objects``, on a model ending in
  a user's own layer (``Scale``: a weight from ``build``, an argument in ``get_config``, as the docs teach
  writing one). Without ``custom_objects`` the loader raises, naming the class it does not know; with
  ``custom_objects={"Scale": Scale}`` the rebuilt layer is of that class, with its argument, and the
  model predicts as before (on the saved weights, or set again for an architecture-only loader);
- ``test_load_model_compile_false[models.load_model]``: ``load_model(path, compile=False)`` of a compiled,
  trained model predicts the same and is not compiled (``model.optimizer`` None, ``train_on_batch``
  raises the documented not-compiled error).
"""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import layers as harness
from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case, one_line
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
# the documented parameters each procedure passes (coverage table)
_EXERCISES = {"save": ("filepath",), "save_weights": ("filepath",), "load_weights": ("filepath",)}


def conformance_cases(ctx, function_name):
    if function_name == "test_layer_config":
        return [Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call")) for i in _layer_cases(ctx)]
    if function_name == "test_layer_save":
        return [Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY, ("construct", "call", "save"),
                     {"format": fmt}) for i in _layer_cases(ctx) for fmt in file_formats(ctx)]
    if function_name == "test_layer_interchange":
        # not for a layer that carries code (Lambda): loading its file means running the file's code, which
        # the safety checks and test_layer_save (with the documented opt-in) cover; and not when the
        # implementation is the reference itself (its files against its own files: test_layer_save)
        if ctx.adapter_name == "reference":
            return []
        return [Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY, ("construct", "call", "save"),
                     {"format": fmt}) for i in _layer_cases(ctx) if not i.carries_code for fmt in file_formats(ctx)]
    if function_name == "test_config_roundtrip":
        return [Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call"), {"procedure": i.attr})
                for i in ctx.spec.items() if i.kind == "method" and i.owner == "Model"
                and i.attr in ("get_config", "to_json", "to_yaml")]
    if function_name == "test_load_weights_by_name":
        return [Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call"))
                for i in ctx.spec.items() if i.name == "Model.load_weights"]
    if function_name == "test_custom_objects":
        out = []
        for i in ctx.spec.items():
            source = _LOADED_FROM.get(i.name)
            if source is None or not any(p.name == "custom_objects" for p in i.params) \
                    or f"Model.{source}" not in ctx.spec:
                continue
            formats = file_formats(ctx) if source == "save" else (None,)
            needs = ("construct", "call", "save") if source == "save" else ("construct", "call")
            out += [Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY, needs,
                         {"source": source, "format": fmt}) for fmt in formats]
        return out
    if function_name == "test_load_model_compile_false":
        return [Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY,
                     ("construct", "call", "compile", "fit", "save"), {"format": fmt})
                for i in ctx.spec.items() if i.name == "models.load_model" for fmt in file_formats(ctx)]
    if function_name == "test_resume_training":
        return [Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY,
                     ("construct", "call", "compile", "fit", "save"), {"format": fmt})
                for i in ctx.spec.items() if i.name == "Model.save" for fmt in file_formats(ctx)]
    out = []
    for i in ctx.spec.items():
        if i.kind == "method" and i.owner in ("Model", "Sequential") and i.attr in PROCEDURES:
            needs = ("construct", "call", "save") if i.attr == "save" else ("construct", "call")
            for fmt in file_formats(ctx) if i.attr == "save" else (None,):
                out.append(Case(_format_id(i.name, fmt, ctx), i.name, CONFORMANCE_CATEGORY, needs,
                                {"procedure": i.attr, "format": fmt}))
    return out


# The name a save file of each format gets (keras 3.15 saving_api chooses the format by it).
SUFFIXES = {"h5": ".h5", "keras": ".keras", "weights.h5": ".weights.h5"}


def file_formats(ctx, item="Model.save"):
    """The formats the spec documents for `item` in the run's version, its default first; ("h5",) for an
    item that names none (the one format of 2.x)."""
    entry = ctx.spec.get(item)
    return (entry.formats or ("h5",)) if entry is not None else ()


def _format_id(name, fmt, ctx):
    """The check id of a file format: the item's own name for the version's default format (so an id reads
    the same across versions), ``<item>-<format>`` for the others."""
    return name if fmt is None or fmt == file_formats(ctx)[0] else f"{name}-{fmt}"


def _restore(ctx, model, procedure, recipe, tmp, fmt=None):
    K = ctx.K
    if procedure == "save":
        path = str(tmp / f"model{SUFFIXES[fmt]}")
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
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
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
    conformance_check.exercise(item.name, *_EXERCISES.get(procedure, ()))
    loaded, steps = _restore(ctx, model, procedure, recipe, tmp, case.data.get("format"))
    conformance_check.reproducer = "\n".join(
        lines + steps + ["print(np.max(np.abs(np.asarray(loaded.predict(x, verbose=0)) - before)))"])
    after = ctx.k_numpy(oracle.predict(loaded, x))
    assert_close(after, before, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                 what=f"{item.name}: predictions after the round trip")
    assert [np.shape(w) for w in loaded.get_weights()] == [np.shape(w) for w in model.get_weights()], (
        f"{item.name}: weight shapes changed in the round trip")


# -- a user's own layer, through every loader that takes custom_objects -----------------------------------
#: the loader item -> the Model method whose output it reads
_LOADED_FROM = {"models.load_model": "save", "models.model_from_json": "to_json",
                "models.model_from_yaml": "to_yaml", "Model.from_config": "get_config"}
_CUSTOM_WEIGHTS = [1.0, -2.0, 0.5]


def custom_layer_class(K):
    """A user's layer, as the docs teach writing one: ``build`` adds a weight, ``call`` uses it and the
    layer's own argument, ``get_config`` adds that argument. Defined inside a function, so no loader can
    find it but through ``custom_objects``."""
    class Scale(K.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(int(input_shape[-1]),), initializer="ones", trainable=True)
            super().build(input_shape)

        def call(self, inputs):
            return inputs * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    return Scale


def test_custom_objects(conformance, case, conformance_check, tmp_path):
    ctx = conformance
    loader_name, source, fmt = case.item, case.data["source"], case.data["format"]
    recipe = {"input_shape": (4,), "layers": [("Dense", {"units": 3})]}
    ctx.locate(loader_name)
    x = oracle.inputs((5, 4), 3)
    path = str(tmp_path / f"model{SUFFIXES[fmt]}") if source == "save" else None
    made = (f"model.save({path!r}); what = {path!r}" if source == "save" else f"what = model.{source}()")
    call = "type(model).from_config" if loader_name == "Model.from_config" else f"K.{loader_name}"
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), "from keras_conformance.conformance.test_roundtrips import custom_layer_class",
        "Scale = custom_layer_class(K)", oracle.code(recipe, ctx.api_version), "model.add(Scale(factor=3.0))",
        f"model.layers[-1].set_weights([np.array({_CUSTOM_WEIGHTS!r}, 'float32')])", made,
        f"loaded = {call}(what, custom_objects={{'Scale': Scale}})",
        "print(type(loaded.layers[-1]), loaded.layers[-1].factor)"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    argument = {"save": "filepath", "get_config": "config"}.get(source, f"{source[3:]}_string")
    conformance_check.exercise(loader_name, argument, "custom_objects")
    conformance_check.exercise(f"Model.{source}", *(("filepath",) if source == "save" else ()))
    Scale = custom_layer_class(ctx.K)
    ctx.seed(3)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    model.add(Scale(factor=3.0))
    model.layers[-1].set_weights([np.array(_CUSTOM_WEIGHTS, "float32")])
    before = ctx.k_numpy(oracle.predict(model, x))
    if source == "save":
        model.save(path)
        what = path
    else:
        what = getattr(model, source)()
    if loader_name == "Model.from_config":
        def load(config, **kwargs):     # a classmethod; some from_config edit their argument
            return type(model).from_config(copy.deepcopy(config), **kwargs)
    else:
        load = ctx.locate(loader_name)
    try:
        load(what)
    except Exception as exc:  # noqa: BLE001 - the refusal is what is checked
        if "Scale" not in str(exc):
            raise AssertionError(f"{loader_name} without custom_objects raised {one_line(exc)}, which does not "
                                 f"name the layer class it does not know ('Scale'){tail}") from None
    else:
        raise AssertionError(f"{loader_name} without custom_objects rebuilt a model whose layer class 'Scale' it "
                             f"was never given{tail}")
    try:
        loaded = load(what, custom_objects={"Scale": Scale})
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"{loader_name}(..., custom_objects={{'Scale': Scale}}) raised {one_line(exc)}{tail}") \
            from None
    layer = loaded.layers[-1]
    assert type(layer) is Scale, (f"{loader_name}: the last layer was rebuilt as {type(layer).__name__}, not as "
                                  f"the class given in custom_objects{tail}")
    assert layer.factor == 3.0, f"{loader_name}: the rebuilt Scale has factor {layer.factor!r}, saved 3.0{tail}"
    if source != "save":        # an architecture only: the weights are set again
        loaded.set_weights(model.get_weights())
    assert_close(ctx.k_numpy(oracle.predict(loaded, x)), before, kind="roundtrip", device=ctx.device,
                 reproducer=conformance_check.reproducer,
                 what=f"{loader_name}: predictions of the model rebuilt with custom_objects")


# -- configuration round trips ----------------------------------------------------------------------------
def _as_data(config):
    """A config as plain JSON data (tuples -> lists), so equal configs compare equal."""
    return json.loads(json.dumps(config, default=repr))


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_config_roundtrip(conformance, case, conformance_check, data):
    ctx = conformance
    item = ctx.spec[case.item]
    procedure = case.data["procedure"]
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, batch, seed = c["recipe"], c["batch"], c["seed"]
    xshape = (batch,) + tuple(recipe["input_shape"])
    ctx.locate(item.name)
    if procedure == "get_config":
        ctx.locate("Model.from_config")
        conformance_check.exercise("Model.from_config", "config")
        steps = ["original = model.get_config()",
                 "loaded = type(model).from_config(original)", "again = loaded.get_config()"]
    else:
        fmt = procedure[3:]
        ctx.locate(f"models.model_from_{fmt}")
        steps = [f"original = model.{procedure}()", f"loaded = K.models.model_from_{fmt}(original)",
                 f"again = loaded.{procedure}()"]
    conformance_check.reproducer = "\n".join(
        [ctx.preamble(), oracle.code(recipe, ctx.api_version), *steps, "print(original == again)",
         oracle.inputs_code("x", xshape, seed), "loaded.set_weights(model.get_weights())",
         "print(np.max(np.abs(np.asarray(loaded.predict(x, verbose=0)) - np.asarray(model.predict(x, verbose=0)))))"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    if procedure == "get_config":
        original = model.get_config()
        loaded = type(model).from_config(original)
        got, expected = _as_data(loaded.get_config()), _as_data(original)
    else:
        fmt = procedure[3:]
        original = getattr(model, procedure)()
        loaded = getattr(ctx.K.models, f"model_from_{fmt}")(original)
        again = getattr(loaded, procedure)()
        got, expected = (json.loads(again), json.loads(original)) if fmt == "json" else (again, original)
    if got != expected:
        raise AssertionError(f"{item.name}: the configuration changed in the round trip: "
                             f"{_first_difference(expected, got)}{tail}")
    x = oracle.inputs(xshape, seed)
    loaded.set_weights(model.get_weights())
    assert_close(ctx.k_numpy(oracle.predict(loaded, x)), ctx.k_numpy(oracle.predict(model, x)),
                 kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                 what=f"{item.name}: predictions of the rebuilt model on the same weights")


def _first_difference(expected, got, where="config") -> str:
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in list(expected) + [k for k in got if k not in expected]:
            if k not in got:
                return f"{where}[{k!r}] is missing after the round trip (was {expected[k]!r})"
            if k not in expected:
                return f"{where}[{k!r}] = {got[k]!r} appeared in the round trip"
            if expected[k] != got[k]:
                return _first_difference(expected[k], got[k], f"{where}[{k!r}]")
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for i, (e, g) in enumerate(zip(expected, got)):
            if e != g:
                return _first_difference(e, g, f"{where}[{i}]")
    text_e, text_g = repr(expected), repr(got)
    return f"{where} was {text_e[:300]}, is now {text_g[:300]}"


# -- load_weights(by_name=True), the seed 002 example ------------------------------------------------------
BY_NAME_SAVED = {"input_shape": (3,), "layers": [("Dense", {"units": 2, "name": "dense_1"}),
                                                 ("Dense", {"units": 3, "name": "dense_2"})]}
BY_NAME_TARGET = {"input_shape": (3,), "layers": [("Dense", {"units": 2, "name": "dense_1"}),
                                                  ("Dense", {"units": 10, "name": "new_dense"})]}


def test_load_weights_by_name(conformance, case, conformance_check, tmp_path):
    ctx = conformance
    item = ctx.spec[case.item]
    if not any(p.name == "by_name" for p in item.params):
        pytest.skip(f"Model.load_weights documents no by_name in API {ctx.api_version}")
    if "Model.save_weights" not in ctx.spec:
        pytest.skip(f"Model.save_weights is not documented in API {ctx.api_version}")
    ctx.locate("Model.save_weights")
    ctx.locate(item.name)
    path = str(tmp_path / "my_model_weights.h5")
    conformance_check.exercise("Model.load_weights", "filepath", "by_name")
    conformance_check.exercise("Model.save_weights", "filepath")
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(BY_NAME_SAVED, ctx.api_version, "K", "saved"),
        f"saved.save_weights({path!r})", oracle.code(BY_NAME_TARGET, ctx.api_version, "K", "model"),
        "own = model.get_weights()", f"model.load_weights({path!r}, by_name=True)",
        "print([np.max(np.abs(np.asarray(a) - np.asarray(b))) for a, b in "
        "zip(model.get_weights(), saved.get_weights()[:2] + own[2:])])"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.seed(1)
    saved = oracle.build(ctx.K, ctx.api_version, BY_NAME_SAVED)
    saved.save_weights(path)
    ctx.seed(2)
    model = oracle.build(ctx.K, ctx.api_version, BY_NAME_TARGET)
    own = [ctx.k_numpy(w) for w in model.get_weights()]
    try:
        model.load_weights(path, by_name=True)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"Model.load_weights(by_name=True) raised {one_line(exc)}; seed 002 loads the "
                             f"layers whose names match and leaves the others{tail}") from None
    got = [ctx.k_numpy(w) for w in model.get_weights()]
    expected = [ctx.k_numpy(w) for w in saved.get_weights()][:2] + own[2:]
    names = ["dense_1 kernel (loaded by name)", "dense_1 bias (loaded by name)",
             "new_dense kernel (not in the file: unchanged)", "new_dense bias (not in the file: unchanged)"]
    assert len(got) == len(expected), f"Model.load_weights: {len(got)} weight arrays, expected 4{tail}"
    for name, g, e in zip(names, got, expected):
        assert_close(g, e, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                     what=f"Model.load_weights(by_name=True): {name}")


# -- training resumed after a reload ---------------------------------------------------------------------
_RESUME_SAMPLES, _RESUME_BATCH = 8, 4


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_resume_training(conformance, case, conformance_check, data, tmp_path_factory):
    ctx = conformance
    for needed in ("models.load_model", "Model.fit", "optimizers.Adam"):
        if needed not in ctx.spec:
            pytest.skip(f"{needed} is not documented in API {ctx.api_version}")
    lr_name = ctx.optimizer_lr_name("Adam")
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, seed = c["recipe"], c["seed"]
    units = recipe["layers"][0][1]["units"]
    xshape, yshape = (_RESUME_SAMPLES,) + tuple(recipe["input_shape"]), (_RESUME_SAMPLES, units)
    path = str(tmp_path_factory.mktemp("resume") / f"model{SUFFIXES[case.data['format']]}")
    fit = f"fit(x, y, batch_size={_RESUME_BATCH}, shuffle=False, verbose=0"
    compile_code = f"compile(optimizer=K.optimizers.Adam({lr_name}=0.01), loss='mean_squared_error')"
    conformance_check.exercise("Model.fit", "x", "y", "batch_size", "epochs", "shuffle", "verbose")
    conformance_check.exercise("Model.compile", "optimizer", "loss")
    conformance_check.exercise("Model.save", "filepath")
    conformance_check.exercise("models.load_model", "filepath")
    conformance_check.exercise("optimizers.Adam", lr_name)
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(recipe, ctx.api_version), "initial = model.get_weights()",
        oracle.inputs_code("x", xshape, seed), oracle.inputs_code("y", yshape, seed + 1),
        f"model.{compile_code}", f"model.{fit}, epochs=1)", f"model.save({path!r})",
        f"resumed = K.models.load_model({path!r})", f"resumed.{fit}, epochs=1)",
        oracle.code(recipe, ctx.api_version, "K", "straight"), "straight.set_weights(initial)",
        f"straight.{compile_code}", f"straight.{fit}, epochs=2)",
        "print([np.max(np.abs(np.asarray(a) - np.asarray(b))) for a, b in "
        "zip(resumed.get_weights(), straight.get_weights())])"])
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    initial = [ctx.k_numpy(w) for w in model.get_weights()]
    x, y = oracle.inputs(xshape, seed), oracle.inputs(yshape, seed + 1)
    kw = {"batch_size": _RESUME_BATCH, "shuffle": False, "verbose": 0}
    oracle.compile_mse(model, oracle.optimizer(ctx.K, "Adam", lr_name, 0.01))
    model.fit(x, y, epochs=1, **kw)
    model.save(path)
    resumed = ctx.K.models.load_model(path)
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    _assert_optimizer_restored(ctx, model, resumed, path, tail)
    try:
        resumed.fit(x, y, epochs=1, **kw)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"Model.save -> models.load_model({path!r}): fit on the loaded model raised "
                             f"{one_line(exc)} (the original compiled model trains){tail}") from None
    straight = oracle.build(ctx.K, ctx.api_version, recipe)
    straight.set_weights(initial)
    oracle.compile_mse(straight, oracle.optimizer(ctx.K, "Adam", lr_name, 0.01))
    straight.fit(x, y, epochs=2, **kw)
    got = [ctx.k_numpy(w) for w in resumed.get_weights()]
    expected = [ctx.k_numpy(w) for w in straight.get_weights()]
    assert len(got) == len(expected), f"{len(got)} weight arrays after the reload, {len(expected)} without"
    for i, (g, e) in enumerate(zip(got, expected)):
        assert_close(g, e, kind="trajectory", device=ctx.device, reproducer=conformance_check.reproducer,
                     what=f"weight {i} after fit 1 epoch + save + load_model + fit 1 epoch, against fit "
                          f"2 epochs ({oracle._kwargs_code(recipe['layers'][0][1])})")


def _optimizer_state_size(opt):
    """How many state arrays the optimizer exposes (Keras 2: ``get_weights()``; keras 3 / tf_keras:
    ``variables``), or None where it exposes none."""
    get = getattr(opt, "get_weights", None)
    if callable(get):
        try:
            return len(get())
        except Exception:  # noqa: BLE001 - fall through to variables
            pass
    for attr in ("variables", "weights"):
        value = getattr(opt, attr, None)
        if callable(value):
            try:
                value = value()
            except Exception:  # noqa: BLE001
                continue
        if value is not None:
            try:
                return len(value)
            except TypeError:
                continue
    return None


def _assert_optimizer_restored(ctx, model, loaded, path, tail):
    """models.load_model (compile=True, the default) of a model saved after compile + fit returns a
    compiled model whose optimizer has the original's class, configuration and number of state arrays."""
    opt = getattr(loaded, "optimizer", None)
    if opt is None:
        error = ""
        try:
            loaded.train_on_batch(np.zeros((1,) + tuple(model.input_shape[1:]), "float32"),
                                  np.zeros((1,) + tuple(model.output_shape[1:]), "float32"))
        except Exception as exc:  # noqa: BLE001
            error = f": train_on_batch raises {one_line(exc)}"
        raise AssertionError(
            f"Model.save -> models.load_model({path!r}) returned a model that is not compiled (the file's "
            f"training config / optimizer state was not restored; model.optimizer is None){error}{tail}")
    original = model.optimizer
    if type(opt).__name__ != type(original).__name__:
        raise AssertionError(f"Model.save -> models.load_model: the loaded optimizer is "
                             f"{type(opt).__name__}, the saved model's {type(original).__name__}{tail}")
    got, expected = _as_data(opt.get_config()), _as_data(original.get_config())
    if got != expected:
        raise AssertionError(f"Model.save -> models.load_model: the optimizer configuration changed: "
                             f"{_first_difference(expected, got, 'optimizer.get_config()')}{tail}")
    n_got, n_expected = _optimizer_state_size(opt), _optimizer_state_size(original)
    if n_got is not None and n_expected is not None and n_got != n_expected:
        raise AssertionError(f"Model.save -> models.load_model: the loaded optimizer has {n_got} state "
                             f"arrays, the saved one {n_expected} (its state after fit was not restored){tail}")


# -- load_model(compile=False) ---------------------------------------------------------------------------
def _not_compiled_error(ctx):
    """The exception type the spec documents for Model.train_on_batch on a never-compiled model."""
    item = ctx.spec.get("Model.train_on_batch")
    for r in (item.raises if item is not None else ()):
        if r.trigger == "not_compiled":
            return r
    return None


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_load_model_compile_false(conformance, case, conformance_check, data, tmp_path_factory):
    """``models.load_model(path, compile=False)`` of a compiled, trained model: the same predictions, and
    a model that is not compiled: ``model.optimizer`` is None (absent) and ``train_on_batch`` raises the
    documented not-compiled error (spec ``Model.train_on_batch`` raises, trigger ``not_compiled``)."""
    ctx = conformance
    item = ctx.spec[case.item]
    if not any(p.name == "compile" for p in item.params):
        pytest.skip(f"models.load_model documents no compile argument in API {ctx.api_version}")
    for needed in ("Model.save", "Model.fit", "optimizers.Adam"):
        if needed not in ctx.spec:
            pytest.skip(f"{needed} is not documented in API {ctx.api_version}")
    lr_name = ctx.optimizer_lr_name("Adam")
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, batch, seed = c["recipe"], c["batch"], c["seed"]
    units = recipe["layers"][0][1]["units"]
    xshape, yshape = (batch,) + tuple(recipe["input_shape"]), (batch, units)
    path = str(tmp_path_factory.mktemp("nocompile") / f"model{SUFFIXES[case.data['format']]}")
    raises = _not_compiled_error(ctx)
    conformance_check.exercise("models.load_model", "filepath", "compile")
    conformance_check.exercise("Model.save", "filepath")
    conformance_check.exercise("Model.compile", "optimizer", "loss")
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(recipe, ctx.api_version),
        oracle.inputs_code("x", xshape, seed), oracle.inputs_code("y", yshape, seed + 1),
        f"model.compile(optimizer=K.optimizers.Adam({lr_name}=0.01), loss='mean_squared_error')",
        "model.fit(x, y, epochs=1, verbose=0)", f"model.save({path!r})",
        f"loaded = K.models.load_model({path!r}, compile=False)",
        "print(np.max(np.abs(np.asarray(loaded.predict(x, verbose=0)) - np.asarray(model.predict(x, verbose=0)))))",
        "print(getattr(loaded, 'optimizer', None))  # None: not compiled",
        "loaded.train_on_batch(x, y)" + (f"  # documented: {raises.type} ({raises.when})" if raises else "")])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.locate(item.name)
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    x, y = oracle.inputs(xshape, seed), oracle.inputs(yshape, seed + 1)
    oracle.compile_mse(model, oracle.optimizer(ctx.K, "Adam", lr_name, 0.01))
    model.fit(x, y, epochs=1, verbose=0)
    model.save(path)
    try:
        loaded = ctx.K.models.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"models.load_model({path!r}, compile=False) raised {one_line(exc)}{tail}") from None
    assert_close(ctx.k_numpy(oracle.predict(loaded, x)), ctx.k_numpy(oracle.predict(model, x)),
                 kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                 what="models.load_model(path, compile=False): predictions of the loaded model")
    opt = getattr(loaded, "optimizer", None)
    if opt is not None:
        raise AssertionError(f"models.load_model(path, compile=False) returned a compiled model: "
                             f"model.optimizer is {type(opt).__name__} (documented: the model is not compiled "
                             f"when compile=False, {item.source}){tail}")
    if raises is None:
        return
    try:
        loaded.train_on_batch(x, y)
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ != raises.type and not any(k.__name__ == raises.type for k in type(exc).__mro__):
            raise AssertionError(f"models.load_model(path, compile=False): train_on_batch on the loaded model "
                                 f"raised {one_line(exc)}, documented {raises.type} ({raises.when}){tail}") from None
        return
    raise AssertionError(f"models.load_model(path, compile=False): train_on_batch on the loaded model did not "
                         f"raise: it trains, so the model was compiled (documented {raises.type}: "
                         f"{raises.when}){tail}")


# -- every documented layer: its configuration and a model file holding it -------------------------------
def _code_compared(config):
    """A config with each serialized function (Keras' base64 of the marshalled code) replaced by what the
    code is (its bytecode, constants and names): marshal's bytes for the same function differ between a
    first dump and a dump after a load (reference flags), so the text cannot be compared."""
    import codecs
    import marshal

    def code_of(text):
        try:
            co = marshal.loads(codecs.decode(text.encode("ascii"), "base64"))
        except Exception:  # noqa: BLE001 - not a serialized function: compared as it is
            return text
        return ["<code>", co.co_code.hex(), repr(co.co_consts), list(co.co_names), list(co.co_varnames)]

    def walk(obj, key=None):
        if isinstance(obj, dict):
            if obj.get("class_name") == "__lambda__" and isinstance(obj.get("config"), dict):
                return {**obj, "config": {**obj["config"], "code": code_of(obj["config"].get("code", ""))}}
            out = {k: walk(v, k) for k, v in obj.items()}
            if obj.get("function_type") == "lambda" and isinstance(obj.get("function"), list) and obj["function"]:
                out["function"] = [code_of(obj["function"][0])] + obj["function"][1:]
            return out
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj
    return walk(config)


def _code_opt_in(ctx, item) -> dict:
    """``{"safe_mode": False}`` for a layer whose config carries code, where the version documents that
    opt-in (``models.load_model(safe_mode=...)``, keras 3); else nothing."""
    if not item.carries_code:
        return {}
    load = ctx.spec.get("models.load_model")
    return {"safe_mode": False} if load is not None and any(p.name == "safe_mode" for p in load.params) else {}


def _layer_cases(ctx):
    return [i for i in ctx.spec.items() if i.is_layer]


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_layer_config(conformance, case, conformance_check, data):
    """``layer.get_config()`` has the documented keys (the item's ``config_keys`` and ``layers.Layer``'s);
    ``type(layer).from_config(config)`` rebuilds a layer with the same configuration that, on the same
    weights, predicts the same."""
    ctx = conformance
    item = ctx.spec[case.item]
    lc = harness.draw_case(data, item, need=("input", "config_keys"))
    opt_in = _code_opt_in(ctx, item)
    ctx.locate(item.name)
    conformance_check.exercise(item.name, *lc.kwargs)
    conformance_check.exercise("Layer.get_config")
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), harness.build_code(item, lc), "config = layer.get_config(); print(sorted(config))",
        f"again = K.layers.{item.attr}.from_config(config{', safe_mode=False' if opt_in else ''})",
        "print(again.get_config() == config)"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.seed(lc.seed)
    model, layer = harness.build(ctx.K, item, lc)
    config = layer.get_config()
    expected = harness.expected_config_keys(ctx.spec, item, lc.kwargs)
    got = set(config)
    if got != expected:
        raise AssertionError(
            f"{lc!r}: get_config() keys " + (f"lack {sorted(expected - got)}" if expected - got else "")
            + (" and " if expected - got and got - expected else "")
            + (f"have undocumented {sorted(got - expected)}" if got - expected else "")
            + f"; documented {sorted(expected)} ({item.source}){tail}")
    first = _as_data(config)
    again = type(layer).from_config(copy.deepcopy(config), **opt_in)   # some from_config edit their argument
    rebuilt, again = harness.build(ctx.K, item, lc, layer=again)
    got_config = _as_data(again.get_config())
    if item.carries_code:
        got_config, first = _code_compared(got_config), _code_compared(first)
    if got_config != first:
        raise AssertionError(f"{lc!r}: from_config(get_config()) changed the configuration: "
                             f"{_first_difference(first, got_config)}{tail}")
    weights = [ctx.k_numpy(w) for w in layer.get_weights()]
    if weights:
        again.set_weights(weights)
    xs = harness.feed(lc, harness.inputs(lc))
    for i, (g, e) in enumerate(zip(harness.predictions(rebuilt, xs, ctx.k_numpy),
                                   harness.predictions(model, xs, ctx.k_numpy))):
        assert_close(g, e, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                     what=f"{lc!r}: predictions (output {i}) of the layer rebuilt from its config, on the same weights")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_layer_save(conformance, case, conformance_check, data, tmp_path_factory):
    """A functional model holding the layer, with drawn non-zero weights: ``Model.save`` (in the case's file
    format) then ``models.load_model`` predicts the same and has the same weights."""
    ctx = conformance
    item = ctx.spec[case.item]
    opt_in = _code_opt_in(ctx, item)
    # a layer carrying code, where the version documents no opt-in (2.x load_model has no safe_mode): the
    # file may be refused with a clear error (the suite's safety rule: loading never runs a file's code
    # unprompted) or loaded as it was saved (what 2.x Keras does); anything else fails
    may_refuse = item.carries_code and not opt_in
    lc = harness.draw_case(data, item)
    ctx.locate(item.name)
    path = str(tmp_path_factory.mktemp("layer_save") / f"model{SUFFIXES[case.data['format']]}")
    conformance_check.exercise(item.name, *lc.kwargs)
    conformance_check.exercise("Model.save", "filepath")
    conformance_check.exercise("models.load_model", "filepath")
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), harness.build_code(item, lc), harness.inputs_code(lc),
        f"model.save({path!r}); loaded = K.models.load_model({path!r}{', safe_mode=False' if opt_in else ''})",
        f"x = {'xs' if lc.multi else 'xs[0]'}",
        "print(np.max(np.abs(np.asarray(loaded.predict(x, verbose=0)) - np.asarray(model.predict(x, verbose=0)))))"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.seed(lc.seed)
    model, layer = harness.build(ctx.K, item, lc)
    arrays = oracle.drawn_weights([np.shape(w) for w in layer.get_weights()], lc.seed + 2)
    if arrays:
        layer.set_weights(arrays)
    xs = harness.feed(lc, harness.inputs(lc))
    before = harness.predictions(model, xs, ctx.k_numpy)
    model.save(path)
    try:
        loaded = ctx.K.models.load_model(path, **opt_in)
    except Exception as exc:  # noqa: BLE001
        from keras_conformance.conformance.test_safety import clear_error
        if may_refuse and clear_error(exc, path) is None:
            return
        raise AssertionError(f"{lc!r}: models.load_model of the saved model raised {one_line(exc)}{tail}") from None
    for i, (g, e) in enumerate(zip(harness.predictions(loaded, xs, ctx.k_numpy), before)):
        assert_close(g, e, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                     what=f"{lc!r}: predictions (output {i}) after save / load_model")
    got = [ctx.k_numpy(w) for w in loaded.get_weights()]
    assert [np.shape(w) for w in got] == [np.shape(w) for w in arrays], (
        f"{lc!r}: the loaded model's weight shapes {[np.shape(w) for w in got]}, saved "
        f"{[np.shape(w) for w in arrays]}{tail}")
    for i, (g, e) in enumerate(zip(got, arrays)):
        assert_close(g, e, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                     what=f"{lc!r}: weight {i} after save / load_model")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(_EXAMPLES))
def test_layer_interchange(conformance, case, conformance_check, data, tmp_path_factory):
    """Files move both ways between the implementation and the reference, in each of the version's formats:
    a functional model holding the layer (drawn non-zero weights), saved by the implementation, loads in the
    reference with the same weights and predictions; the same model built and saved by the reference loads
    in the implementation with the same weights and predictions (tolerance ``forward``: two
    implementations compute them)."""
    ctx = conformance
    item = ctx.spec[case.item]
    fmt = case.data["format"]
    lc = harness.draw_case(data, item)
    ctx.locate(item.name)
    tmp = tmp_path_factory.mktemp("interchange")
    theirs, ours = str(tmp / f"implementation{SUFFIXES[fmt]}"), str(tmp / f"reference{SUFFIXES[fmt]}")
    conformance_check.exercise(item.name, *lc.kwargs)
    conformance_check.exercise("Model.save", "filepath")
    conformance_check.exercise("models.load_model", "filepath")
    conformance_check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), harness.build_code(item, lc), harness.inputs_code(lc),
        f"x = {'xs' if lc.multi else 'xs[0]'}",
        f"model.save({theirs!r}); in_reference = R.models.load_model({theirs!r})",
        "print(np.max(np.abs(np.asarray(in_reference.predict(x)) - np.asarray(model.predict(x, verbose=0)))))",
        harness.build_code(item, lc, ns="R", var="ref_model", layer_var="ref_layer"),
        "from keras_conformance.conformance import oracle",
        f"ref_layer.set_weights(oracle.drawn_weights([np.shape(w) for w in ref_layer.get_weights()], {lc.seed + 2}))",
        f"ref_model.save({ours!r}); in_implementation = K.models.load_model({ours!r})",
        "print(np.max(np.abs(np.asarray(in_implementation.predict(x, verbose=0)) - np.asarray(ref_model.predict(x)))))"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.seed(lc.seed)
    model, layer = harness.build(ctx.K, item, lc)
    arrays = oracle.drawn_weights([np.shape(w) for w in layer.get_weights()], lc.seed + 2)
    if arrays:
        layer.set_weights(arrays)
    xs = harness.feed(lc, harness.inputs(lc))
    written = [
        ("the implementation's file loaded in the reference", model, ctx.k_numpy, theirs, ctx.R, ctx.r_numpy)]
    ref_model, ref_layer = harness.build(ctx.R, item, lc)
    # the same draw for the reference's twin (equal arrays where the weight shapes agree; a deviation in the
    # shapes is the first direction's failure, not a crash here)
    ref_arrays = oracle.drawn_weights([np.shape(w) for w in ref_layer.get_weights()], lc.seed + 2)
    if ref_arrays:
        ref_layer.set_weights(ref_arrays)
    written.append(("the reference's file loaded in the implementation", ref_model, ctx.r_numpy, ours, ctx.K,
                    ctx.k_numpy))
    for what, writer, writer_numpy, path, reader, reader_numpy in written:
        before = harness.predictions(writer, xs, writer_numpy)
        saved = [writer_numpy(w) for w in writer.get_weights()]
        try:
            writer.save(path)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{lc!r}: {what}: save({path!r}) raised {one_line(exc)}{tail}") from None
        try:
            loaded = reader.models.load_model(path)
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{lc!r}: {what}: load_model raised {one_line(exc)}{tail}") from None
        got = [reader_numpy(w) for w in loaded.get_weights()]
        assert [np.shape(w) for w in got] == [np.shape(w) for w in saved], (
            f"{lc!r}: {what}: weight shapes {[np.shape(w) for w in got]}, saved {[np.shape(w) for w in saved]}{tail}")
        for i, (g, e) in enumerate(zip(got, saved)):
            assert_close(g, e, kind="roundtrip", device=ctx.device, reproducer=conformance_check.reproducer,
                         what=f"{lc!r}: {what}: weight {i}")
        for i, (g, e) in enumerate(zip(harness.predictions(loaded, xs, reader_numpy), before)):
            assert_close(g, e, kind="forward", device=ctx.device, reproducer=conformance_check.reproducer,
                         what=f"{lc!r}: {what}: predictions (output {i})")
