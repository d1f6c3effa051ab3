"""Model: compile, fit, evaluate, predict, the *_on_batch and *_generator methods, saving, summary.

Version-agnostic core; ``self._api_version`` selects the documented behaviour where versions differ
(error types and messages before compile, metric names, History params, return_dict, ...).
The objective for one batch is ``sum_i loss_weight_i * reduce_weighted(loss_i(y_i, y_pred_i), w_i)``
plus the layers' regularization penalties; it is differentiated with ``autodiff.grad`` with respect
to the trainable weights and handed to ``optimizer.apply_gradients``.
"""
from __future__ import annotations

import inspect
import json

import numpy as np

from .. import backend
from .. import versions
from .. import threads
from ..autodiff import Tensor, as_tensor, grad, no_grad
from .callbacks import CallbackList, History
from .functional import Network, _as_list

__all__ = ["Model"]

KERAS_VERSION = versions.KERAS_VERSION

_OPTIMIZER_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                    "adadelta": "Adadelta", "adam": "Adam", "adamax": "Adamax", "nadam": "Nadam"}


def _same_rank(y, pred, api_version):
    """keras 3.15 LossFunctionWrapper (losses/loss.py squeeze_or_expand_to_same_rank): targets one rank
    below an output whose last axis is 1 get that axis ((n,) labels for a (n, 1) output); targets one
    rank above with a last axis of 1 lose it. keras 2 expanded 1-D arrays when it standardized them."""
    if api_version != "3":
        return y
    y = np.asarray(getattr(y, "data", y)) if isinstance(y, Tensor) else np.asarray(y)
    if y.ndim + 1 == pred.ndim and pred.shape[-1] == 1:
        return y[..., None] if y.ndim == 1 else y
    if y.ndim == pred.ndim + 1 and y.shape[-1] == 1:
        return y[..., 0]
    return y


def _mask_for(mask, scores):
    """An output mask where it fits the per-step losses (one entry per sample and step), else None."""
    if mask is None:
        return None
    mask = np.asarray(getattr(mask, "data", mask))
    return mask if tuple(mask.shape) == tuple(scores.shape) else None


def _float(x) -> float:
    return float(np.asarray(x.data if isinstance(x, Tensor) else x))


def _is_generator_like(x) -> bool:
    return (inspect.isgenerator(x) or (hasattr(x, "__next__") and not isinstance(x, np.ndarray))
            or (hasattr(x, "__getitem__") and hasattr(x, "__len__") and hasattr(x, "on_epoch_end")))


def _num_samples(arrays):
    return int(arrays[0].shape[0]) if arrays else 0



def _base_metric_name(name, model, output_index):
    """A reported metric name without its output prefix (``cls_accuracy`` -> ``accuracy``)."""
    outs = model.output_names if model.outputs else ["output_1"]
    prefix = f"{outs[output_index]}_" if len(outs) > 1 else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


class _Logs(dict):
    """A batch's (or a run's) logs by name, as callbacks see them, and its per-output losses in output
    order. Several outputs of one layer share a name in keras 2 (network.py: output_names are the layers'
    names), so their ``<name>_loss`` entries collide in the dict (the last one stays, as keras 2's
    ``batch_logs[l] = o`` keeps it), while the list train_on_batch, test_on_batch and evaluate return
    holds each output's loss in its place (keras 2.3.1: one loss metric per output index)."""

    output_losses: list | None = None


class _EpochMeans:
    """The epoch (or evaluation) values of a run's batch logs.

    The losses: the batch-size-weighted mean of the batch values (keras 2 BaseLogger; keras 3's loss
    trackers are Means updated with ``sample_weight=batch_size``). The metrics: in 2.2.4 the same
    (they are functions of each batch); in 2.3 and 3 they are stateful means over every sample seen,
    weighted by the sample weights for the weighted ones (keras 2.3.1 MeanMetricWrapper, keras 3.15
    metrics ``Mean.update_state(values, sample_weight)``): the sums of the batches' weighted values over
    the sums of their weights, which differs from a mean of batch means where the weights differ."""

    def __init__(self, model):
        self.model, self.totals, self.seen, self.parts = model, {}, 0, {}
        self.output_totals = None

    def add(self, logs, size):
        for k, v in logs.items():
            self.totals[k] = self.totals.get(k, 0.0) + v * size
        losses = getattr(logs, "output_losses", None)
        if losses is not None:
            self.output_totals = [t + v * size for t, v in zip(self.output_totals or [0.0] * len(losses), losses)]
        self.seen += size
        if self.model._api_version != "2.2.4":
            for name, (total, weight) in getattr(self.model, "_metric_parts", {}).items():
                t, w = self.parts.get(name, (0.0, 0.0))
                self.parts[name] = (t + total, w + weight)

    def result(self) -> dict:
        out = _Logs({k: v / self.seen for k, v in self.totals.items()} if self.seen else {})
        for name, (total, weight) in self.parts.items():
            out[name] = total / weight if weight else 0.0
        if self.output_totals is not None and self.seen:
            out.output_losses = [t / self.seen for t in self.output_totals]
        return out

class _LossEntry:
    """One output's loss: a function ``fn(y_true, y_pred) -> per-sample`` or a Loss object."""

    def __init__(self, fn, weight, name):
        self.fn = fn
        self.weight = float(weight)
        self.name = name
        self.is_object = (not inspect.isfunction(fn) and not inspect.ismethod(fn)
                          and hasattr(fn, "get_config") and callable(fn))


class Model(Network):
    """A trainable network: ``Model(inputs, outputs, name=None)`` (functional) or a subclass
    defining ``call``."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)
        self.optimizer = None
        self.loss = None
        self._compile_config = None
        self._is_compiled = False
        self._loss_entries = []
        self._metric_specs = []      # (output index, requested metric, weighted)
        self._metric_entries = None  # resolved: (output index, name, fn, weighted)
        self.stop_training = False
        self.history = None

    # ---------------------------------------------------------------- compile
    def _get_optimizer(self, optimizer):
        K = versions.classes(self._api_version)
        if isinstance(optimizer, str):
            cls_name = _OPTIMIZER_NAMES.get(optimizer.lower())
            if cls_name is None or not hasattr(K.optimizers, cls_name):
                raise ValueError(f"Unknown optimizer: {optimizer!r}. Valid names are "
                                 f"{sorted(_OPTIMIZER_NAMES)}.")
            return getattr(K.optimizers, cls_name)()
        if optimizer is None or not hasattr(optimizer, "apply_gradients"):
            raise ValueError(f"Could not interpret optimizer identifier: {optimizer!r}")
        return optimizer

    def _get_loss(self, identifier):
        from .. import losses
        if isinstance(identifier, str):
            return losses.get(identifier, api_version=self._api_version)
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, weighted_metrics=None, target_tensors=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True, **kwargs):
        """Configure the model for training (optimizer, loss per output, metrics, loss weights)."""
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(kwargs)}")
        if target_tensors is not None:
            raise NotImplementedError("`target_tensors` is not supported by the reference.")
        if sample_weight_mode not in (None, "temporal"):
            raise ValueError(f"`sample_weight_mode` should be None or 'temporal', got "
                             f"{sample_weight_mode!r}.")
        self._compile_config = {
            "optimizer": optimizer, "loss": loss, "metrics": metrics, "loss_weights": loss_weights,
            "sample_weight_mode": sample_weight_mode, "weighted_metrics": weighted_metrics}
        self.optimizer = self._get_optimizer(optimizer)
        self.loss = loss
        self._raw_loss = loss
        self._raw_loss_weights = loss_weights
        self._raw_metrics = metrics
        self._raw_weighted_metrics = weighted_metrics
        self._sample_weight_mode = sample_weight_mode
        self._is_compiled = True
        self._metric_entries = None
        if self.outputs:
            self._resolve_compile()

    def _resolve_compile(self):
        """Bind loss, loss weights and metrics to the outputs (needs the output names/shapes)."""
        names = self.output_names if self.outputs else ["output_1"]
        n = len(names)
        loss = self._raw_loss
        if isinstance(loss, dict):
            for key in loss:
                if key not in names:
                    raise ValueError(f"Unknown entry in loss dictionary: {key!r}. Only expected "
                                     f"the following keys: {names}")
            per_output = [loss.get(name) for name in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != n:
                raise ValueError(f"When passing a list as loss, it should have one entry per model "
                                 f"output. The model has {n} outputs, but you passed "
                                 f"loss={list(loss)}")
            per_output = list(loss)
        else:
            per_output = [loss] * n
        weights = self._raw_loss_weights
        if weights is None:
            weights = [1.0] * n
        elif isinstance(weights, dict):
            weights = [weights.get(name, 1.0) for name in names]
        elif len(weights) != n:
            raise ValueError(f"When passing a list as loss_weights, it should have one entry per "
                             f"model output. The model has {n} outputs, but you passed "
                             f"loss_weights={list(weights)}")
        self._loss_entries = [
            None if fn is None else _LossEntry(self._get_loss(fn), w, name)
            for fn, w, name in zip(per_output, weights, names)]

        def per_output_metrics(metrics):
            if metrics is None:
                return [[] for _ in names]
            if isinstance(metrics, dict):
                return [_as_list(metrics.get(name)) for name in names]
            metrics = list(metrics)
            if n > 1 and len(metrics) == n and any(isinstance(m, (list, tuple)) for m in metrics):
                return [_as_list(m) for m in metrics]
            return [list(metrics) for _ in names]

        per = {weighted: per_output_metrics(raw)
               for weighted, raw in ((False, self._raw_metrics), (True, self._raw_weighted_metrics))}
        if self._api_version == "3":
            # keras 3.15 CompileMetrics: every output's metrics, then every output's weighted metrics
            specs = [(i, m, w) for w in (False, True) for i, ms in enumerate(per[w]) for m in ms]
        else:
            # keras 2.2.4 compile handle_metrics / 2.3.1 _set_metric_attributes: per output, its metrics
            # then its weighted metrics
            specs = [(i, m, w) for i in range(n) for w in (False, True) for m in per[w][i]]
        self._metric_specs = specs
        self._metric_entries = None

    def _metric_name(self, metric, weighted, output_index):
        """The name under which a requested metric is reported (logs, History, metrics_names)."""
        from .. import metrics as metrics_module
        v = self._api_version
        if isinstance(metric, str):
            if metric in ("accuracy", "acc"):
                name = "acc" if v == "2.2.4" else metric
            elif v in ("2.3", "3"):
                # keras 3.15 trainers/compile_utils.get_metric: "if isinstance(identifier, str):
                # metric_name = identifier" ("mae" is reported as "mae"); seed 004 is silent.
                name = metric
            else:
                fn = metrics_module.get(metric, api_version=v)
                name = getattr(fn, "__name__", metric)
        else:
            name = (getattr(metric, "name", None) or getattr(metric, "__name__", None)
                    or type(metric).__name__)
        if weighted and v == "2.2.4":
            # keras 2.2.4 compile: metric_name_prefix = 'weighted_'; 2.3.1's get_metric_name ignores
            # `weighted` (a collision gets `_1` instead, _add_unique_metric_name)
            name = "weighted_" + name
        outs = self.output_names if self.outputs else ["output_1"]
        if len(outs) > 1:
            name = f"{outs[output_index]}_{name}"
        return name

    def _resolve_metrics(self, ys):
        """Metric functions per output; 'accuracy' needs the loss and the shapes (ys: targets)."""
        from .. import metrics as metrics_module
        entries = []
        for i, metric, weighted in self._metric_specs:
            loss_fn = self._loss_entries[i].fn if self._loss_entries[i] else None
            out_shape = self.outputs[i].shape if self.outputs else ys[i].shape
            if isinstance(metric, str) and metric in ("accuracy", "acc"):
                fn = metrics_module.resolve_accuracy(
                    loss_fn, out_shape, None if ys is None else ys[i].shape,
                    api_version=self._api_version)
            elif isinstance(metric, str):
                fn = metrics_module.get(metric, api_version=self._api_version)
            elif callable(metric):
                fn = metric
            else:
                raise ValueError(f"Could not interpret metric identifier: {metric!r}")
            entries.append((i, fn, weighted))
        self._metric_entries = [(i, name, fn, weighted)
                                for (i, fn, weighted), name in zip(entries, self._metric_names())]

    def _metric_names(self):
        """The reported name of each requested metric, in ``_metric_specs`` order, made unique the
        version's way: keras 2.2.4 / 2.3.1 append ``_1``, ``_2``... to a name already among the
        metrics names (2.2.4 compile, 2.3.1 _add_unique_metric_name); keras 3.15 CompileMetrics.result
        renames a weighted metric whose name an unweighted one took to ``<output>_weighted_<name>``."""
        outs = self.output_names if self.outputs else ["output_1"]
        taken = ["loss"] + ([f"{name}_loss" for name, e in zip(outs, self._loss_entries) if e is not None]
                            if len(outs) > 1 else [])
        names = []
        for i, metric, weighted in self._metric_specs:
            name = self._metric_name(metric, weighted, i)
            if self._api_version == "3":
                if weighted and name in names:
                    base = _base_metric_name(name, self, i)
                    name = name[:len(name) - len(base)] + "weighted_" + base
            else:
                base, j = name, 1
                while name in taken + names:
                    name, j = f"{base}_{j}", j + 1
            names.append(name)
        return names
        self._metric_entries = entries

    @property
    def metrics_names(self):
        """``["loss", <per-output losses when several>, <metrics>]`` once compiled.

        Version 3 too: seed 004 (Model.evaluate, returns) says "model.metrics_names gives the
        display labels for the scalar outputs", so they label the list evaluate /
        train_on_batch / test_on_batch return, ``["loss", "accuracy"]``. keras 3.15 itself
        reports ``["loss", "compile_metrics"]`` once compiled with metrics (one name for the whole
        compiled-metrics container, checked with keras 3.15.1 on jax: compile(metrics=["accuracy",
        "mae"]) gives metrics_names ["loss", "compile_metrics"] but evaluate() three scalars) —
        a deviation of real Keras from its documentation, which the seed decides. Where the seed
        is silent keras 3.15 decides: the ``return_dict=True`` keys are the metric names
        ("loss", "accuracy", the string given for a metric), sorted as keras'
        ``python_utils.pythonify_logs`` sorts them."""
        if not self._is_compiled:
            return []
        names = ["loss"]
        outs = self.output_names if self.outputs else ["output_1"]
        if len(outs) > 1:
            names += [f"{name}_loss" for name, e in zip(outs, self._loss_entries) if e is not None]
        return names + self._metric_names()

    def _assert_compiled(self, method):
        if self._is_compiled:
            return
        if self._api_version == "3":
            raise ValueError("You must call `compile()` before using the model.")
        if method.endswith("_generator"):
            raise RuntimeError("You must compile your model before using it.")
        raise RuntimeError("You must compile a model before training/testing. "
                           "Use `model.compile(optimizer, loss)`.")

    # ---------------------------------------------------------------- data
    def _ensure_graph(self, xs):
        """Sequential overrides this to build a deferred model from the data's shapes."""

    def _standardize_x(self, x):
        if x is None:
            raise ValueError("No input data: `x` is None.")
        names = self.input_names if self.inputs else None
        if isinstance(x, dict):
            if names is None:
                raise ValueError("A dict `x` needs a model with named inputs.")
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError(f"No data provided for {missing[0]!r}. Need data for each key "
                                 f"in: {names}")
            xs = [x[n] for n in names]
        elif isinstance(x, (list, tuple)) and not (names and len(names) == 1 and
                                                    np.asarray(x[0]).ndim == 0):
            xs = list(x) if (names is None or len(names) > 1 or
                             isinstance(x[0], (np.ndarray, Tensor))) else [x]
        else:
            xs = [x]
        xs = [self._standardize_single(np.asarray(a.data if isinstance(a, Tensor) else a)) for a in xs]
        xs = [a.astype(backend.floatx()) if a.dtype.kind in "biuf" and a.dtype.kind != "f" else a
              for a in xs]
        self._ensure_graph(xs)
        if self.inputs:
            if len(xs) != len(self.inputs):
                raise ValueError(f"Error when checking model input: the list of Numpy arrays that "
                                 f"you are passing to your model is not the size the model "
                                 f"expected. Expected to see {len(self.inputs)} array(s), but "
                                 f"instead got {len(xs)} array(s).")
            for i, (a, t) in enumerate(zip(xs, self.inputs)):
                self._check_shape(a, t.shape, t._keras_history[0].name, "input", i)
        return xs

    def _check_shape(self, array, shape, name, what, index):
        ok = array.ndim == len(shape) and all(
            ref is None or ref == dim for dim, ref in zip(array.shape[1:], shape[1:]))
        if ok:
            return
        if self._api_version == "3":
            if what == "input":
                raise ValueError(f"Input {index} of layer \"{self.name}\" is incompatible with the "
                                 f"layer: expected shape={tuple(shape)}, found "
                                 f"shape={tuple(array.shape)}")
            raise ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                             f"target.shape={tuple(array.shape)}, output.shape={tuple(shape)}")
        if array.ndim != len(shape):
            raise ValueError(f"Error when checking {what}: expected {name} to have {len(shape)} "
                             f"dimensions, but got array with shape {tuple(array.shape)}")
        raise ValueError(f"Error when checking {what}: expected {name} to have shape "
                         f"{tuple(shape[1:])} but got array with shape {tuple(array.shape[1:])}")

    def _standardize_single(self, array):
        """keras 2.2.4 / 2.3.1 training_utils.standardize_single_array: a 1-D array (labels of shape
        (n,)) becomes (n, 1); keras 3 keeps it (its losses bring targets to the output's rank)."""
        if array.ndim == 1 and self._api_version != "3":
            return np.expand_dims(array, 1)
        return array

    def _standardize_y(self, y):
        if y is None:
            raise ValueError("No target data: `y` is None (a model with a loss needs targets).")
        names = self.output_names if self.outputs else ["output_1"]
        if isinstance(y, dict):
            ys = [y[n] for n in names]
        elif isinstance(y, (list, tuple)) and len(names) > 1:
            ys = list(y)
        else:
            ys = [y]
        ys = [self._standardize_single(np.asarray(a.data if isinstance(a, Tensor) else a)) for a in ys]
        if len(ys) != len(names):
            raise ValueError(f"Error when checking model target: expected {len(names)} arrays, "
                             f"got {len(ys)}.")
        if self.outputs and self._api_version != "3":
            from .. import losses
            for i, (a, t) in enumerate(zip(ys, self.outputs)):
                entry = self._loss_entries[i] if i < len(self._loss_entries) else None
                fn_name = getattr(entry.fn, "__name__", None) if entry else None
                if fn_name == "sparse_categorical_crossentropy" or entry is None:
                    continue
                self._check_shape(a, t.shape, t._keras_history[0].name, "target", i)
        return ys

    def _standardize_weights(self, ys, sample_weight, class_weight):
        n = len(ys)
        if isinstance(sample_weight, dict):
            names = self.output_names
            sws = [sample_weight.get(name) for name in names]
        elif isinstance(sample_weight, (list, tuple)):
            sws = list(sample_weight)
        else:
            sws = [sample_weight] * n
        out = []
        for y, sw in zip(ys, sws):
            w = None
            if sw is not None:
                w = np.asarray(sw, dtype=backend.floatx())
                if w.ndim > 2 or w.shape[0] != y.shape[0]:
                    raise ValueError(f"Found a sample_weight array with shape {w.shape} for an "
                                     f"input with shape {y.shape}. sample_weight cannot be "
                                     "broadcast.")
            if class_weight:
                if y.ndim >= 2 and y.shape[-1] > 1:
                    classes = np.argmax(y, axis=-1)
                else:
                    classes = np.round(y.reshape(y.shape[0], -1)[:, 0]).astype(int)
                cw = np.asarray([class_weight.get(int(c), 1.0) for c in classes.reshape(-1)],
                                dtype=backend.floatx()).reshape(classes.shape)
                w = cw if w is None else w * cw
            out.append(w)
        return out

    def _check_counts(self, xs, ys, sws=None):
        nx = {int(a.shape[0]) for a in xs}
        ny = {int(a.shape[0]) for a in ys} if ys else set()
        v3 = self._api_version == "3"
        if len(nx) > 1:
            raise ValueError("All input arrays (x) should have the same number of samples. Got "
                             f"array shapes: {[a.shape for a in xs]}")
        if len(ny) > 1:
            raise ValueError("All target arrays (y) should have the same number of samples. Got "
                             f"array shapes: {[a.shape for a in ys]}")
        if ny and nx != ny:
            if v3:
                raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the "
                                 f"same number of samples.'x' sizes: {nx.pop()}\n'y' sizes: "
                                 f"{ny.pop()}\n")
            raise ValueError("Input arrays should have the same number of samples as target "
                             f"arrays. Found {nx.pop()} input samples and {ny.pop()} target "
                             "samples.")

    def _prepare(self, x, y, sample_weight=None, class_weight=None):
        xs = self._standardize_x(x)
        if self._is_compiled and self._metric_entries is None and not self._loss_entries:
            self._resolve_compile()
        ys = self._standardize_y(y)
        self._check_counts(xs, ys)
        sws = self._standardize_weights(ys, sample_weight, class_weight)
        if self._metric_entries is None:
            self._resolve_metrics(ys)
        return xs, ys, sws

    # ---------------------------------------------------------------- one batch
    def _forward(self, xs, training):
        inputs = [as_tensor(a) for a in xs]
        if self._is_graph_network:
            return self._run_graph(inputs, training=training)
        arg = inputs[0] if len(inputs) == 1 else inputs
        if "training" in inspect.signature(self.call).parameters:
            out = self.call(arg, training=training)
        else:
            out = self.call(arg)
        return _as_list(out)

    def _objective(self, ys, preds, sws):
        """(total loss Tensor, [per-output loss Tensor])"""
        from .. import losses
        total, per_output = None, []
        masks = list(getattr(self, "_output_masks", None) or [None] * len(preds))
        masks += [None] * (len(preds) - len(masks))
        for entry, y, p, w, m in zip(self._loss_entries, ys, preds, sws, masks):
            if entry is None:
                per_output.append(None)
                continue
            if entry.is_object:
                value = entry.fn(y, p, sample_weight=w)
            else:
                y = _same_rank(y, p, self._api_version)
                scores = entry.fn(as_tensor(y), p)
                m = _mask_for(m, scores)
                value = losses.reduce_weighted(scores, w, m, api_version=self._api_version)
            per_output.append(value)
            term = value * entry.weight if entry.weight != 1.0 else value
            total = term if total is None else total + term
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        for penalty in self.losses:
            total = total + penalty
        return total, per_output

    def _batch_logs(self, ys, preds, sws, total, per_output):
        logs = _Logs(loss=_float(total))
        names = self.output_names if self.outputs else ["output_1"]
        if len(names) > 1:
            logs.output_losses = []
            for name, value in zip(names, per_output):
                if value is not None:
                    logs[f"{name}_loss"] = _float(value)
                    logs.output_losses.append(_float(value))
        self._metric_parts = {}      # name -> (weighted sum, total weight) of this batch
        with no_grad():
            for i, name, fn, weighted in self._metric_entries:
                values = np.asarray(as_tensor(fn(as_tensor(ys[i]), preds[i])).data,
                                    dtype=np.float64)
                if weighted and sws[i] is not None:
                    w = np.broadcast_to(sws[i].reshape(sws[i].shape + (1,) * (values.ndim - sws[i].ndim)),
                                        values.shape) if values.ndim else sws[i]
                    self._metric_parts[name] = (float(np.sum(values * w)), float(np.sum(w)))
                    logs[name] = float(np.sum(values * w) / max(np.sum(w), 1e-12))
                else:
                    self._metric_parts[name] = (float(np.sum(values)), float(values.size))
                    logs[name] = float(np.mean(values))
        return logs

    def _stateful_metrics(self, logs, reset_metrics):
        """2.3's *_on_batch: the metrics are stateful (keras 2.3.1 training.py train_on_batch /
        test_on_batch: ``reset_metrics=False`` accumulates them across calls, the loss stays the batch's;
        ``True`` returns the running values including this batch, then resets them). 2.2.4 has no metric
        state; keras 3 resets them before each call (trainer.train_on_batch ``self.reset_metrics()``)."""
        if self._api_version != "2.3":
            return logs
        state = getattr(self, "_metric_state", None) or {}
        for name, (total, count) in self._metric_parts.items():
            t, c = state.get(name, (0.0, 0.0))
            state[name] = (t + total, c + count)
            logs[name] = state[name][0] / max(state[name][1], 1e-12)
        self._metric_state = {} if reset_metrics else state
        return logs

    def _train_batch(self, xs, ys, sws):
        variables = self.trainable_weights
        preds = self._forward(xs, training=True)
        total, per_output = self._objective(ys, preds, sws)
        logs = self._batch_logs(ys, preds, sws, total, per_output)
        if variables:
            # keras 3 scales the loss in the train step (trainer: optimizer.scale_loss) and the optimizer
            # divides the gradients by loss_scale_factor again
            scale = getattr(self.optimizer, "scale_loss", None)
            grads = grad(scale(total) if scale is not None else total, variables)
            self.optimizer.apply_gradients(list(zip(grads, variables)))
            for var in variables:
                constraint = getattr(var, "constraint", None)
                if constraint is not None:
                    var.assign(np.asarray(as_tensor(constraint(var)).data))
        return logs

    def _test_batch(self, xs, ys, sws):
        with no_grad():
            preds = self._forward(xs, training=False)
            total, per_output = self._objective(ys, preds, sws)
            return self._batch_logs(ys, preds, sws, total, per_output)

    def _predict_batch(self, xs):
        with no_grad():
            return [np.array(p.data, copy=True) for p in self._forward(xs, training=False)]

    def _logs_to_result(self, logs, return_dict=False):
        if return_dict:
            if self._api_version == "3":   # keras 3.15 pythonify_logs: sorted(logs.items())
                return dict(sorted(logs.items()))
            return dict(logs)
        losses = getattr(logs, "output_losses", None) or []
        values = [losses[i - 1] if 1 <= i <= len(losses) else logs[name]
                  for i, name in enumerate(self.metrics_names) if name in logs]
        return values[0] if len(values) == 1 else values

    # ---------------------------------------------------------------- *_on_batch
    @threads.limited
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One gradient update on one batch; returns the loss (and metrics) before the update."""
        self._assert_compiled("train_on_batch")
        if self._api_version == "3" and sample_weight is not None and class_weight is not None:
            raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same "
                             f"time. Received: sample_weight={sample_weight}, class_weight={class_weight}")
        xs, ys, sws = self._prepare(x, y, sample_weight, class_weight)
        logs = self._stateful_metrics(self._train_batch(xs, ys, sws), reset_metrics)
        return self._logs_to_result(logs, return_dict)

    @threads.limited
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        self._assert_compiled("test_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight)
        logs = self._stateful_metrics(self._test_batch(xs, ys, sws), reset_metrics)
        return self._logs_to_result(logs, return_dict)

    @threads.limited
    def predict_on_batch(self, x):
        xs = self._standardize_x(x)
        out = self._predict_batch(xs)
        return out[0] if len(out) == 1 else out

    # ---------------------------------------------------------------- loops
    @staticmethod
    def _batches(n, batch_size, order=None):
        order = np.arange(n) if order is None else order
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]

    def _run_test_loop(self, xs, ys, sws, batch_size, steps=None, callbacks=None):
        self._metric_state = {}
        n = _num_samples(xs)
        batches = self._batches(n, batch_size)
        if steps is not None:
            batches = batches[:steps]
        means = _EpochMeans(self)
        if callbacks:
            callbacks.on_test_begin({})
        for b, idx in enumerate(batches):
            if callbacks:
                callbacks.on_test_batch_begin(b, {"batch": b, "size": len(idx)})
            logs = self._test_batch([a[idx] for a in xs], [a[idx] for a in ys],
                                    [None if w is None else w[idx] for w in sws])
            if callbacks:
                callbacks.on_test_batch_end(b, {"batch": b, "size": len(idx), **logs})
            means.add(logs, len(idx))
        result = means.result()
        if callbacks:
            callbacks.on_test_end(dict(result))
        return result

    @threads.limited
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, max_queue_size=10, workers=1,
            use_multiprocessing=False, **kwargs):
        """Train for ``epochs - initial_epoch`` epochs; returns a History."""
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to `fit`: {sorted(kwargs)}")
        self._assert_compiled("fit")
        if x is not None and _is_generator_like(x) and self._api_version != "2.2.4":
            if y is not None:
                raise ValueError("`y` should not be given when `x` is a generator.")
            return self.fit_generator(x, steps_per_epoch=steps_per_epoch, epochs=epochs,
                                      verbose=verbose, callbacks=callbacks,
                                      validation_data=validation_data,
                                      validation_steps=validation_steps,
                                      validation_freq=validation_freq, class_weight=class_weight,
                                      initial_epoch=initial_epoch, shuffle=shuffle)
        verbose = 1 if verbose == "auto" else verbose
        batch_size = 32 if batch_size is None else batch_size
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"`batch_size` should be a positive integer, got {batch_size!r}.")
        xs, ys, sws = self._prepare(x, y, sample_weight, class_weight)

        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("When passing validation_data, it must contain 2 (x_val, y_val) "
                                 "or 3 (x_val, y_val, val_sample_weights) items, however it "
                                 f"contains {len(validation_data) if isinstance(validation_data, (tuple, list)) else validation_data!r} items")
            vx, vy = validation_data[0], validation_data[1]
            vsw = validation_data[2] if len(validation_data) == 3 else None
            val = self._prepare(vx, vy, vsw)
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"`validation_split` must be between 0 and 1, got "
                                 f"{validation_split!r}.")
            n = _num_samples(xs)
            split_at = int(n * (1.0 - validation_split))
            if self._api_version == "3" and (split_at == 0 or split_at == n):
                raise ValueError(f"Training data contains {n} samples, which is not sufficient to "
                                 f"split it into a validation and training set as specified by "
                                 f"`validation_split={validation_split}`.")
            val = ([a[split_at:] for a in xs], [a[split_at:] for a in ys],
                   [None if w is None else w[split_at:] for w in sws])
            xs, ys = [a[:split_at] for a in xs], [a[:split_at] for a in ys]
            sws = [None if w is None else w[:split_at] for w in sws]

        n = _num_samples(xs)
        names = self.metrics_names
        if self._api_version == "3":
            params = {"verbose": verbose, "epochs": epochs,
                      "steps": steps_per_epoch or int(np.ceil(n / batch_size))}
        else:
            params = {"batch_size": batch_size, "epochs": epochs, "steps": steps_per_epoch,
                      "samples": n, "verbose": verbose, "do_validation": val is not None,
                      "metrics": names + (["val_" + m for m in names] if val is not None else [])}
        self._metric_state = {}      # 2.3: fit and evaluate reset the stateful metrics
        cb, history = self._callbacks(callbacks, verbose, params)
        rng = backend.rng()

        def epoch_batches(epoch):
            order = np.arange(n)
            if shuffle == "batch":
                if self._api_version == "3":
                    raise ValueError("`shuffle='batch'` is not a Keras 3 option.")
                full = order[: (n // batch_size) * batch_size].reshape(-1, batch_size)
                full = full[rng.permutation(full.shape[0])]
                order = np.concatenate([full.reshape(-1), order[(n // batch_size) * batch_size:]])
            elif shuffle:
                order = rng.permutation(n)
            batches = self._batches(n, batch_size, order)
            if steps_per_epoch is not None:
                batches = batches[:steps_per_epoch]
            for idx in batches:
                yield ([a[idx] for a in xs], [a[idx] for a in ys],
                       [None if w is None else w[idx] for w in sws])

        def validate(epoch):
            if val is None or not self._should_validate(epoch, validation_freq):
                return None
            return self._run_test_loop(*val, validation_batch_size or batch_size,
                                       steps=validation_steps, callbacks=cb.for_validation())

        self._train_epochs(cb, epochs, initial_epoch, epoch_batches, validate)
        return history

    def _callbacks(self, callbacks, verbose, params):
        """The callbacks of a training run. 2.x: a progress bar (when verbose), the caller's, then a new
        History (keras 2.2.4 / 2.3.1 fit_loop; the loop itself averages as BaseLogger would). 3: the
        caller's, then History and the progress bar unless the caller passed one (keras 3.15
        CallbackList add_history / add_progbar)."""
        v = self._api_version
        classes = versions.classes(v).callbacks       # the version's History and ProgbarLogger
        cbs = list(callbacks or [])
        if v == "3":
            history = next((c for c in cbs if isinstance(c, History)), None)
            if history is None:
                history = classes.History()
                cbs.append(history)
            if verbose and not any(isinstance(c, classes.ProgbarLogger) for c in cbs):
                cbs.append(classes.ProgbarLogger())
        else:
            history = classes.History()
            cbs = ([classes.ProgbarLogger()] if verbose else []) + cbs + [history]
        cb = CallbackList(cbs, api_version=v)
        cb.set_model(self)
        cb.set_params(params)
        history.params, history.model, self.history = params, self, history
        return cb, history

    def _train_epochs(self, cb, epochs, initial_epoch, epoch_batches, validate):
        """The loop fit and fit_generator share. Each epoch trains on the ``(xs, ys, sws)`` batches
        that ``epoch_batches(epoch)`` yields; the epoch's logs are the batch-size-weighted means of
        the batch logs (Keras 2's BaseLogger), plus ``val_`` logs when ``validate(epoch)`` gives some."""
        self.stop_training = False
        cb.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            cb.on_epoch_begin(epoch, {})
            means = _EpochMeans(self)
            for b, (xs, ys, sws) in enumerate(epoch_batches(epoch)):
                size = _num_samples(xs)
                cb.on_train_batch_begin(b, {"batch": b, "size": size})
                logs = self._train_batch(xs, ys, sws)
                means.add(logs, size)
                cb.on_train_batch_end(b, {"batch": b, "size": size, **logs})
                if self.stop_training:
                    break
            epoch_logs = means.result()
            vlogs = validate(epoch)
            if vlogs is not None:
                epoch_logs.update({"val_" + k: v for k, v in vlogs.items()})
            cb.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        finalize = getattr(self.optimizer, "finalize_variable_values", None)
        if finalize is not None:        # keras 3 fit: with use_ema the variables take their averages
            finalize(self.trainable_weights)
        cb.on_train_end({})

    def _should_validate(self, epoch, validation_freq):
        if self._api_version == "2.2.4":
            return True
        if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
            if validation_freq < 1:
                raise ValueError(f"`validation_freq` can not be less than 1, got "
                                 f"{validation_freq!r}.")
            return (epoch + 1) % validation_freq == 0
        if isinstance(validation_freq, (list, tuple, set)):
            return (epoch + 1) in validation_freq
        raise ValueError("`validation_freq` should be an int or a list/tuple/set of epochs, got "
                         f"{validation_freq!r}.")

    @threads.limited
    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                 return_dict=False, **kwargs):
        """Loss (and metrics) over the data, batch by batch, averaged by batch size."""
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to `evaluate`: {sorted(kwargs)}")
        self._assert_compiled("evaluate")
        if x is not None and _is_generator_like(x) and self._api_version != "2.2.4":
            return self.evaluate_generator(x, steps=steps, callbacks=callbacks)
        batch_size = 32 if batch_size is None else batch_size
        xs, ys, sws = self._prepare(x, y, sample_weight)
        cb = CallbackList(callbacks, api_version=self._api_version)
        cb.set_model(self)
        cb.set_params(self._eval_params(verbose, batch_size, steps, _num_samples(xs), metrics=True))
        logs = self._run_test_loop(xs, ys, sws, batch_size, steps=steps, callbacks=cb)
        if verbose not in (0, "auto") and verbose:
            n = _num_samples(xs)
            print(f"{n}/{n} [==============================]"
                  + "".join(f" - {k}: {v:.4f}" for k, v in logs.items()))
        return self._logs_to_result(logs, return_dict)

    @threads.limited
    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Outputs for the inputs, computed batch by batch (ndarray, or a list for several)."""
        if _is_generator_like(x) and self._api_version != "2.2.4":
            return self.predict_generator(x, steps=steps, callbacks=callbacks)
        batch_size = 32 if batch_size is None else batch_size
        xs = self._standardize_x(x)
        batches = self._batches(_num_samples(xs), batch_size)
        if steps is not None:
            batches = batches[:steps]
        cb = CallbackList(callbacks, api_version=self._api_version)
        cb.set_model(self)
        cb.set_params(self._eval_params(verbose, batch_size, steps, _num_samples(xs)))
        cb.on_predict_begin({})
        chunks = []
        for b, idx in enumerate(batches):
            cb.on_predict_batch_begin(b, {"batch": b, "size": len(idx)})
            chunks.append(self._predict_batch([a[idx] for a in xs]))
            cb.on_predict_batch_end(b, {"batch": b, "size": len(idx), "outputs": chunks[-1]})
        cb.on_predict_end({})
        if not chunks:
            outs = [np.zeros((0,) + tuple(d or 0 for d in t.shape[1:])) for t in self.outputs]
        else:
            outs = [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(chunks[0]))]
        return outs[0] if len(outs) == 1 else outs

    def _eval_params(self, verbose, batch_size, steps, samples, metrics=False):
        """The params evaluate and predict give their callbacks: 2.3 batch_size, steps, samples,
        verbose (and evaluate's metrics); 3 verbose, epochs 1, steps (the batches)."""
        if self._api_version == "3":
            return {"verbose": verbose, "epochs": 1,
                    "steps": steps or int(np.ceil(samples / batch_size)) if samples else steps}
        params = {"batch_size": batch_size, "steps": steps, "samples": samples, "verbose": verbose}
        if metrics:
            params["metrics"] = list(self.metrics_names)
        return params

    # ---------------------------------------------------------------- generators (2.x)
    @staticmethod
    def _unpack(output, what="generator"):
        if not isinstance(output, tuple) or len(output) not in (2, 3):
            raise ValueError("Output of generator should be a tuple `(x, y, sample_weight)` or "
                             f"`(x, y)`. Found: {str(output)[:200]}")
        x, y = output[0], output[1]
        sw = output[2] if len(output) == 3 else None
        return x, y, sw

    @staticmethod
    def _steps_for(generator, steps, arg):
        if steps is not None:
            return int(steps)
        if hasattr(generator, "__len__") and hasattr(generator, "__getitem__"):
            return len(generator)
        raise ValueError(f"`{arg}=None` is only valid for a generator based on the "
                         f"`keras.utils.Sequence` class. Please specify `{arg}` or use the "
                         "`keras.utils.Sequence` class.")

    @staticmethod
    def _stream(generator):
        if hasattr(generator, "__getitem__") and hasattr(generator, "__len__") \
                and not inspect.isgenerator(generator):
            def cycle():
                while True:
                    for i in range(len(generator)):
                        yield generator[i]
                    if hasattr(generator, "on_epoch_end"):
                        generator.on_epoch_end()
            return cycle()
        return iter(generator)

    @threads.limited
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1,
                      class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                      shuffle=True, initial_epoch=0):
        """Train on batches produced by a Python generator or a Sequence."""
        self._assert_compiled("fit_generator")
        verbose = 1 if verbose == "auto" else verbose
        steps = self._steps_for(generator, steps_per_epoch, "steps_per_epoch")
        stream = self._stream(generator)
        val_stream = val_arrays = None
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
                vsw = validation_data[2] if len(validation_data) == 3 else None
                val_arrays = self._prepare(validation_data[0], validation_data[1], vsw)
            else:
                validation_steps = self._steps_for(validation_data, validation_steps,
                                                   "validation_steps")
                val_stream = self._stream(validation_data)
        if self._api_version == "3":
            params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        else:
            do_val = validation_data is not None
            names = self.metrics_names
            params = {"epochs": epochs, "steps": steps, "verbose": verbose,
                      "do_validation": do_val,
                      "metrics": names + (["val_" + m for m in names] if do_val else [])}
        self._metric_state = {}      # 2.3: fit and evaluate reset the stateful metrics
        cb, history = self._callbacks(callbacks, verbose, params)

        def epoch_batches(epoch):
            for _ in range(steps):
                try:
                    output = next(stream)
                except StopIteration:
                    return
                x, y, sw = self._unpack(output)
                yield self._prepare(x, y, sw, class_weight)

        def validate(epoch):
            if validation_data is None or not self._should_validate(epoch, validation_freq):
                return None
            if val_arrays is not None:
                return self._run_test_loop(*val_arrays, 32)
            return self._generator_test_loop(val_stream, validation_steps)

        self._train_epochs(cb, epochs, initial_epoch, epoch_batches, validate)
        return history

    def _generator_test_loop(self, stream, steps):
        means = _EpochMeans(self)
        for _ in range(steps):
            try:
                output = next(stream)
            except StopIteration:
                break
            x, y, sw = self._unpack(output)
            xs, ys, sws = self._prepare(x, y, sw)
            means.add(self._test_batch(xs, ys, sws), _num_samples(xs))
        return means.result()

    @threads.limited
    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                           workers=1, use_multiprocessing=False, verbose=0):
        self._assert_compiled("evaluate_generator")
        steps = self._steps_for(generator, steps, "steps")
        logs = self._generator_test_loop(self._stream(generator), steps)
        return self._logs_to_result(logs)

    @threads.limited
    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                          workers=1, use_multiprocessing=False, verbose=0):
        steps = self._steps_for(generator, steps, "steps")
        stream = self._stream(generator)
        chunks = []
        for _ in range(steps):
            try:
                output = next(stream)
            except StopIteration:
                break
            x = output[0] if isinstance(output, tuple) and len(output) in (2, 3) else output
            chunks.append(self._predict_batch(self._standardize_x(x)))
        outs = [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(chunks[0]))]
        return outs[0] if len(outs) == 1 else outs

    # ---------------------------------------------------------------- weights, config, saving
    def get_weights(self):
        return [np.array(w.data, copy=True) for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(f"You called `set_weights(weights)` on model \"{self.name}\" with a "
                             f"weight list of length {len(weights)}, but the model was expecting "
                             f"{len(params)} weights.")
        for var, value in zip(params, weights):
            if tuple(var.shape) != tuple(np.shape(value)):
                raise ValueError(f"Layer weight shape {tuple(var.shape)} not compatible with "
                                 f"provided weight shape {tuple(np.shape(value))}")
        for var, value in zip(params, weights):
            var.assign(np.asarray(value, dtype=var.dtype))

    def _json_class_name(self):
        name = type(self).__name__
        if self._api_version == "3" and name == "Model":
            return "Functional"
        return name

    def _model_dict(self):
        return {"class_name": self._json_class_name(), "config": self.get_config(),
                "keras_version": KERAS_VERSION[self._api_version], "backend": "numpy"}

    def to_json(self, **kwargs):
        """The architecture (no weights) as JSON: ``{"class_name", "config", "keras_version",
        "backend"}``."""
        def default(obj):
            if isinstance(obj, (np.integer,)):
                return int(obj)
            if isinstance(obj, (np.floating,)):
                return float(obj)
            if isinstance(obj, np.ndarray):
                return obj.tolist()
            raise TypeError(f"Not JSON serializable: {obj!r}")
        return json.dumps(self._model_dict(), default=default, **kwargs)

    def to_yaml(self, **kwargs):
        import yaml
        return yaml.safe_dump(json.loads(self.to_json()), **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True, zipped=None, **kwargs):
        from ..saving import saving_api
        if kwargs and self._api_version == "3":
            raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
        return saving_api.save_model(self, filepath, overwrite=overwrite,
                                     include_optimizer=include_optimizer, zipped=zipped)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        from ..saving import saving_api
        return saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, reshape=False, **kwargs):
        from ..saving import saving_api
        if reshape:
            raise NotImplementedError("`reshape` is not implemented by the reference.")
        if self._api_version != "3" and not by_name:
            # Keras 2.2.4 / 2.3.1 (engine/network.py load_weights): skip_mismatch is "only valid
            # when by_name=True"; topological loading ignores it and raises on a mismatch.
            skip_mismatch = False
        return saving_api.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from .summary import print_summary
        return print_summary(self, line_length=line_length, positions=positions,
                             print_fn=print_fn)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return super().from_config(config, custom_objects=custom_objects)
