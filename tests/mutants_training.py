"""Mutants of the training loop: what fit and evaluate do with their documented arguments (registered
through mutants.mutant; caught by conformance/test_training.py); and of the model methods and constructors
around it (set_weights, from_config, to_json / to_yaml and the model_from_* loaders, summary,
predict_on_batch, predict_generator, models.Model, models.Sequential), each caught by the checks that
exercise it (round trips, errors, numerics, capabilities, signatures)."""
from __future__ import annotations

import inspect

import numpy as np

from mutants import ALL, _same_signature, _without_param, mutant


def _bound(method, self, args, kwargs):
    bound = inspect.signature(method).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _models(K, **methods):
    """Replace Sequential and Model by subclasses overriding ``methods`` (made per base class)."""
    for cls_name in ("Sequential", "Model"):
        Base = K.get(f"models.{cls_name}")
        K.set(f"models.{cls_name}", type(cls_name, (Base,), {k: make(Base) for k, make in methods.items()}))


def _method_with(name, change):
    """An override of Model.<name>: ``change(arguments)`` edits the bound arguments before the reference's
    method runs."""
    def make(Base):
        method = getattr(Base, name)

        @_same_signature(method)
        def override(self, *args, **kwargs):
            arguments = _bound(method, self, args, kwargs)
            arguments.pop("self")
            extra = arguments.pop("kwargs", {})
            change(arguments)
            return method(self, **arguments, **extra)
        return override
    return make


def _fit_with(change):
    """A fit override: ``change(arguments)`` edits the bound arguments before the reference's fit runs."""
    return _method_with("fit", change)


@mutant("training", ALL, "Model.fit takes the validation_split samples from the front of x and y (documented: "
        "the last fraction, before any shuffling)", items=("Model.fit",))
def fit_validation_split_from_front(K, v):
    def change(a):
        split = a.get("validation_split") or 0.0
        if split and a.get("validation_data") is None:
            n = len(a["x"])
            k = n - int(n * (1.0 - split))

            def front_last(arr):
                return None if arr is None else np.concatenate([arr[k:], arr[:k]])
            a["x"], a["y"], a["sample_weight"] = front_last(a["x"]), front_last(a["y"]), front_last(a["sample_weight"])
    _models(K, fit=_fit_with(change))


@mutant("training", ALL, "Model.fit ignores class_weight", items=("Model.fit",))
def fit_class_weight_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(class_weight=None)))


@mutant("training", ALL, "Model.fit ignores sample_weight", items=("Model.fit",))
def fit_sample_weight_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(sample_weight=None)))


@mutant("training", ALL, "Model.fit ignores initial_epoch: it trains `epochs` epochs counted from 0",
        items=("Model.fit",))
def fit_initial_epoch_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(initial_epoch=0)))


@mutant("training", ALL, "Model.fit never shuffles (shuffle=True trains in the given order)", items=("Model.fit",))
def fit_never_shuffles(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(shuffle=False)))


@mutant("training", ALL, "Model.fit's batch_size defaults to 16 (documented: 32 when None)", items=("Model.fit",))
def fit_batch_size_default_16(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(batch_size=a.get("batch_size") or 16)))


@mutant("training", ("2.3", "3"), "Model.fit ignores validation_freq: it validates after every epoch",
        items=("Model.fit",))
def fit_validation_freq_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(validation_freq=1)))


@mutant("training", ALL, "History names the validation values 'validation_loss', ... (documented 'val_loss')",
        items=("Model.fit",))
def history_validation_keys_renamed(K, v):
    def make(Base):
        @_same_signature(Base.fit)
        def fit(self, *args, **kwargs):
            history = Base.fit(self, *args, **kwargs)
            history.history = {("validation_" + k[4:] if k.startswith("val_") else k): val
                               for k, val in history.history.items()}
            return history
        return fit
    _models(K, fit=make)


class _LastBatchLogs:
    """Callbacks that report each epoch's training values as those of its last batch."""

    def __init__(self, inner):
        self._inner, self._last = inner, {}

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def on_train_batch_end(self, batch, logs=None):
        self._last = {k: val for k, val in (logs or {}).items() if k not in ("batch", "size")}
        self._inner.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs.update(self._last)
        self._inner.on_epoch_end(epoch, logs)


@mutant("training", ALL, "Model.fit reports each epoch's loss and metrics as those of its last batch (documented: "
        "the mean over the epoch's batches)", items=("Model.fit",))
def fit_epoch_logs_last_batch(K, v):
    def make(Base):
        def _train_epochs(self, cb, *args, **kwargs):
            return Base._train_epochs(self, _LastBatchLogs(cb), *args, **kwargs)
        return _train_epochs
    _models(K, _train_epochs=make)


@mutant("training", ALL, "Model.evaluate averages its batches' values unweighted (a short last batch counts as "
        "much as a full one)", items=("Model.evaluate",))
def evaluate_unweighted_batch_mean(K, v):
    def make(Base):
        def _run_test_loop(self, xs, ys, sws, batch_size, steps=None, callbacks=None):
            n = len(xs[0])
            batches = self._batches(n, batch_size)[:steps] if steps is not None else self._batches(n, batch_size)
            totals = {}
            for idx in batches:
                logs = self._test_batch([a[idx] for a in xs], [a[idx] for a in ys],
                                        [None if w is None else w[idx] for w in sws])
                for k, val in logs.items():
                    totals[k] = totals.get(k, 0.0) + val / len(batches)
            return totals
        return _run_test_loop
    _models(K, _run_test_loop=make)


@mutant("training", ("2.2.4", "2.3"), "Sequential.predict_classes of a one-unit model takes the argmax over its single "
        "output (always class 0) instead of thresholding at 0.5", items=("Sequential.predict_classes",))
def predict_classes_argmax_of_one_unit(K, v):
    Base = K.get("models.Sequential")

    @_same_signature(Base.predict_classes)
    def predict_classes(self, x, batch_size=32, verbose=1):
        return np.argmax(self.predict(x, batch_size=batch_size, verbose=verbose), axis=-1)
    K.set("models.Sequential", type("Sequential", (Base,), {"predict_classes": predict_classes}))


@mutant("training", ("2.2.4", "2.3"), "Sequential.predict_proba returns one-hot class predictions instead of the "
        "probabilities", items=("Sequential.predict_proba",))
def predict_proba_one_hot(K, v):
    Base = K.get("models.Sequential")

    @_same_signature(Base.predict_proba)
    def predict_proba(self, x, batch_size=32, verbose=1):
        p = self.predict(x, batch_size=batch_size, verbose=verbose)
        return (p == p.max(axis=-1, keepdims=True)).astype(p.dtype)
    K.set("models.Sequential", type("Sequential", (Base,), {"predict_proba": predict_proba}))


# -- *_on_batch, the generator methods, several outputs, temporal weights -----------------------------------
@mutant("training", ("2.3",), "train_on_batch ignores reset_metrics=False: its metrics never accumulate over "
        "calls", items=("Model.train_on_batch",))
def train_on_batch_reset_metrics_ignored(K, v):
    _models(K, train_on_batch=_method_with("train_on_batch", lambda a: a.update(reset_metrics=True)))


@mutant("training", ALL, "test_on_batch ignores sample_weight", items=("Model.test_on_batch",))
def test_on_batch_sample_weight_ignored(K, v):
    _models(K, test_on_batch=_method_with("test_on_batch", lambda a: a.update(sample_weight=None)))


@mutant("training", ("2.2.4", "2.3"), "fit_generator ignores initial_epoch: it trains `epochs` epochs from 0",
        items=("Model.fit_generator",))
def fit_generator_initial_epoch_ignored(K, v):
    _models(K, fit_generator=_method_with("fit_generator", lambda a: a.update(initial_epoch=0)))


@mutant("training", ("2.2.4", "2.3"), "evaluate_generator stops one step early (steps - 1 batches)",
        items=("Model.evaluate_generator",))
def evaluate_generator_one_step_short(K, v):
    def change(a):
        if a.get("steps") and a["steps"] > 1:
            a["steps"] -= 1
    _models(K, evaluate_generator=_method_with("evaluate_generator", change))


@mutant("training", ALL, "compile ignores loss_weights: every output's loss counts once", items=("Model.compile",))
def compile_loss_weights_ignored(K, v):
    _models(K, compile=_method_with("compile", lambda a: a.update(loss_weights=None)))


@mutant("training", ALL, "compile's weighted_metrics are computed without the sample weights (as plain metrics)",
        items=("Model.compile",))
def compile_weighted_metrics_unweighted(K, v):
    def change(a):
        if a.get("weighted_metrics"):
            a["metrics"], a["weighted_metrics"] = a["weighted_metrics"], None
    _models(K, compile=_method_with("compile", change))


@mutant("training", ("2.2.4", "2.3"), "sample_weight_mode='temporal' weighs each sample by the mean of its "
        "time-step weights", items=("Model.compile",))
def temporal_weights_averaged(K, v):
    def make(Base):
        @_same_signature(Base.fit)
        def fit(self, *args, **kwargs):
            arguments = _bound(Base.fit, self, args, kwargs)
            arguments.pop("self")
            extra = arguments.pop("kwargs", {})
            sw = arguments.get("sample_weight")
            if getattr(self, "_sample_weight_mode", None) == "temporal" and sw is not None and np.ndim(sw) == 2:
                arguments["sample_weight"] = np.repeat(np.mean(sw, axis=1, keepdims=True), np.shape(sw)[1], axis=1)
            return Base.fit(self, **arguments, **extra)
        return fit
    _models(K, fit=make)


# -- the model methods: weights, configuration, JSON / YAML, summary, predict_on_batch, predict_generator -----
@mutant("training", ALL, "Model.set_weights adds the given arrays to the current weights (an assign_add slip) "
        "instead of replacing them", items=("Model.set_weights", "Model.fit"))
def model_set_weights_adds(K, v):
    def make(Base):
        @_same_signature(Base.set_weights)
        def set_weights(self, weights):
            current = Base.get_weights(self)
            return Base.set_weights(self, [c + np.asarray(w, dtype=c.dtype) for c, w in zip(current, weights)])
        return set_weights
    _models(K, set_weights=make)


@mutant("roundtrips", ALL, "Sequential.from_config (Model.from_config of a Sequential) gives every rebuilt layer "
        "a fresh name instead of the name in the config", items=("Model.from_config", "Model.get_config"))
def from_config_fresh_layer_names(K, v):
    import copy
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            config = copy.deepcopy(config)
            for entry in config["layers"] if isinstance(config, dict) else config:
                if entry.get("class_name") != "InputLayer":
                    entry.get("config", {}).pop("name", None)
            return super().from_config(config, custom_objects=custom_objects)
    K.set("models.Sequential", Sequential)


def _batch_axis_dropped(obj, key=None):
    """The model dict with every batch shape (2.x batch_input_shape; 3 batch_shape, build_input_shape,
    build_config's input_shape) written without its leading batch axis."""
    if isinstance(obj, dict):
        return {k: _batch_axis_dropped(val, k) for k, val in obj.items()}
    if isinstance(obj, (list, tuple)) and key in ("batch_input_shape", "batch_shape", "build_input_shape",
                                                  "input_shape"):
        return list(obj)[1:]
    if isinstance(obj, list):
        return [_batch_axis_dropped(val) for val in obj]
    return obj


@mutant("roundtrips", ALL, "Model.to_json writes each batch shape (2.x batch_input_shape, 3 the InputLayer's "
        "batch_shape and build_input_shape) without its batch axis, as if it were input_shape: the model "
        "rebuilt from the JSON expects inputs of the wrong rank", items=("Model.to_json",))
def to_json_batch_shape_without_batch_axis(K, v):
    import json

    def make(Base):
        @_same_signature(Base.to_json)
        def to_json(self, **kwargs):
            return json.dumps(_batch_axis_dropped(json.loads(Base.to_json(self))), **kwargs)
        return to_json
    _models(K, to_json=make)


@mutant("roundtrips", ("2.2.4", "2.3"), "Model.to_yaml writes the shape tuples of the config (batch_input_shape) "
        "as strings such as '(None, 4)' (yaml.safe_dump cannot write a tuple), which model_from_yaml cannot "
        "read back as a shape", items=("Model.to_yaml",))
def to_yaml_tuples_as_strings(K, v):
    import yaml

    def plain(obj):
        if isinstance(obj, dict):
            return {k: plain(val) for k, val in obj.items()}
        if isinstance(obj, list):
            return [plain(val) for val in obj]
        return str(obj) if isinstance(obj, tuple) else obj

    def make(Base):
        @_same_signature(Base.to_yaml)
        def to_yaml(self, **kwargs):
            return yaml.safe_dump(plain(self._model_dict()), **kwargs)
        return to_yaml
    _models(K, to_yaml=make)


@mutant("roundtrips", ALL, "models.model_from_json gives the rebuilt model a fresh name (the model's own `name` "
        "in the JSON is dropped)", items=("models.model_from_json", "Model.to_json"))
def model_from_json_fresh_model_name(K, v):
    import functools
    import json
    pristine = K.get("models.model_from_json")

    @functools.wraps(pristine)
    def model_from_json(json_string, custom_objects=None):
        data = json.loads(json_string)
        data.get("config", {}).pop("name", None)
        return pristine(json.dumps(data), custom_objects=custom_objects)
    K.set("models.model_from_json", model_from_json)


@mutant("roundtrips", ("2.2.4", "2.3"), "models.model_from_yaml rebuilds a Sequential's layers with fresh names "
        "(the layers' `name` in the YAML is dropped)", items=("models.model_from_yaml", "Model.to_yaml"))
def model_from_yaml_fresh_layer_names(K, v):
    import functools

    import yaml
    pristine = K.get("models.model_from_yaml")

    @functools.wraps(pristine)
    def model_from_yaml(yaml_string, custom_objects=None):
        data = yaml.safe_load(yaml_string)
        if data.get("class_name") == "Sequential":
            for entry in data.get("config", {}).get("layers", []):
                entry.get("config", {}).pop("name", None)
        return pristine(yaml.safe_dump(data), custom_objects=custom_objects)
    K.set("models.model_from_yaml", model_from_yaml)


@mutant("signatures", ALL, "Model.summary has no `print_fn` parameter (it always prints to stdout)",
        items=("Model.summary",))
def summary_without_print_fn(K, v):
    _models(K, summary=lambda Base: _without_param(Base.summary, "print_fn"))


@mutant("shapes", ALL, "Model.summary counts every weight as trainable: 'Trainable params' is the total and "
        "'Non-trainable params' 0 (a BatchNormalization's moving mean and variance are miscounted)",
        items=("Model.summary",))
def summary_counts_every_weight_trainable(K, v):
    def make(Base):
        @_same_signature(Base.summary)
        def summary(self, *args, **kwargs):
            arguments = _bound(Base.summary, self, args, kwargs)
            arguments.pop("self")
            out = arguments.get("print_fn") or print
            total = int(sum(int(np.prod(w.shape)) for w in self.weights))

            def print_fn(line, *a, **k):
                if str(line).startswith("Trainable params:"):
                    line = f"Trainable params: {total:,}"
                elif str(line).startswith("Non-trainable params:"):
                    line = "Non-trainable params: 0"
                return out(line, *a, **k)
            arguments["print_fn"] = print_fn
            return Base.summary(self, **arguments)
        return summary
    _models(K, summary=make)


@mutant("errors", ALL, "Model.predict_on_batch with more input features than the model expects predicts on the "
        "first ones (no check of the input shape), documented ValueError", items=("Model.predict_on_batch",))
def predict_on_batch_truncates_features(K, v):
    def make(Base):
        @_same_signature(Base.predict_on_batch)
        def predict_on_batch(self, x):
            width = self.input_shape[-1] if not isinstance(self.input_shape, list) else None
            if isinstance(x, np.ndarray) and x.ndim == 2 and width is not None and x.shape[-1] > width:
                x = x[:, :width]
            return Base.predict_on_batch(self, x)
        return predict_on_batch
    _models(K, predict_on_batch=make)


def _first_items(source):
    """``source`` (a generator or a Sequence) read as if each item were an (x, y) tuple: item[0]."""
    if hasattr(source, "__getitem__") and hasattr(source, "__len__") and not inspect.isgenerator(source):
        class Items:
            def __len__(self):
                return len(source)

            def __getitem__(self, index):
                return source[index][0]
        return Items()
    return (item[0] for item in source)


@mutant("training", ("2.2.4", "2.3"), "Model.predict_generator takes item[0] of whatever the generator yields, "
        "as if every item were an (x, y) tuple: a generator of input arrays is read as their first samples",
        items=("Model.predict_generator",))
def predict_generator_reads_first_item(K, v):
    _models(K, predict_generator=_method_with(
        "predict_generator", lambda a: a.update(generator=_first_items(a["generator"]))))


@mutant("numerics", ALL, "a functional models.Model runs a layer called at several nodes once and gives every "
        "call its first result (the graph runner caches outputs by layer, not by node): the shared layer's "
        "second output is its first's", items=("models.Model",))
def functional_model_runs_shared_layer_once(K, v):
    from keras_conformance.reference.engine.functional import _as_list
    Base = K.get("models.Model")

    class Model(Base):
        def _run_graph(self, inputs, training=None):
            values = {id(t): x for t, x in zip(self.inputs, inputs)}
            masks, ran = {}, {}
            for node in self._nodes:
                if not node.input_tensors:
                    continue
                if id(node.layer) not in ran:                  # the slip: keyed by layer
                    args = [values[id(t)] for t in node.input_tensors]
                    in_masks = [masks.get(id(t)) for t in node.input_tensors]
                    arg = args if len(args) > 1 else args[0]
                    in_mask = in_masks if len(in_masks) > 1 else in_masks[0]
                    out = node.layer._run(arg, training=node.call_kwargs.get("training", training), mask=in_mask)
                    out_mask = node.layer.compute_mask(arg, in_mask)
                    outs = _as_list(out)
                    out_masks = (list(out_mask) + [None] * (len(outs) - len(out_mask))
                                 if isinstance(out_mask, (list, tuple))
                                 else [out_mask if len(outs) == 1 else None] * len(outs))
                    ran[id(node.layer)] = (outs, out_masks)
                outs, out_masks = ran[id(node.layer)]
                for t, value, m in zip(node.output_tensors, outs, out_masks):
                    values[id(t)] = value
                    if m is not None:
                        masks[id(t)] = m
            self._output_masks = [masks.get(id(t)) for t in self.outputs]
            return [values[id(t)] for t in self.outputs]
    K.set("models.Model", Model)


@mutant("capabilities", ALL, "models.Sequential refuses its documented `layers` list (TypeError): only a model "
        "built empty and filled with add() can be made", items=("models.Sequential",))
def sequential_rejects_layers_list(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        def __init__(self, layers=None, *args, **kwargs):
            if layers is not None:
                raise TypeError("Sequential() takes no layers; add them one by one with model.add(layer)")
            super().__init__(None, *args, **kwargs)
    K.set("models.Sequential", Sequential)
