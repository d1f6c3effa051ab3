"""The compiled state in a save file: the training configuration (optimizer, loss, metrics, loss weights)
written per version, compiling a loaded model from it, and restoring the optimizer's state."""
from __future__ import annotations

import inspect
import warnings

import numpy as np

from .files import SaveFileError
from .weights import _uniquify

def _compile_config(model):
    cfg = getattr(model, "_compile_config", None)
    if isinstance(cfg, dict):
        return dict(cfg)
    cfg = getattr(cfg, "config", None)  # keras-3-like Config object
    return dict(cfg) if isinstance(cfg, dict) else {}


def _training_config(model, version):
    cc = _compile_config(model)
    opt = model.optimizer
    optimizer_config = {"class_name": type(opt).__name__, "config": opt.get_config()}
    loss = cc.get("loss", getattr(model, "loss", None))
    metrics = cc.get("metrics", None)
    loss_weights = cc.get("loss_weights", None)
    if version == "3":
        tc = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": cc.get("weighted_metrics", None),
            "run_eagerly": cc.get("run_eagerly", False),
            "steps_per_execution": cc.get("steps_per_execution", 1),
            "jit_compile": cc.get("jit_compile", "auto"),
            "optimizer_config": optimizer_config,
        }
        return tc
    tc = {"optimizer_config": optimizer_config, "loss": loss, "metrics": metrics}
    if version != "2.2.4":
        tc["weighted_metrics"] = cc.get("weighted_metrics", None)
    tc["sample_weight_mode"] = cc.get("sample_weight_mode", None)
    tc["loss_weights"] = loss_weights
    return tc


def _optimizer_weight_names(opt, version):
    names = []
    cls = type(opt).__name__
    for i, var in enumerate(getattr(opt, "weights", None) or []):
        name = str(getattr(var, "name", None) or f"param_{i}")
        if version == "3":
            name = name.rsplit(":", 1)[0]
            if "/" not in name:
                name = f"{str(opt.get_config().get('name', cls.lower())).lower()}/{name}"
        else:
            if "/" not in name:
                name = f"{cls}/{name}"
            if ":" not in name:
                name += ":0"
        names.append(name)
    return _uniquify(names)


def _deserialize(module, cfg, custom_objects, kind):
    """A loss / metric from its saved form: a name stays a name (compile resolves it)."""
    if cfg is None:
        return None
    if isinstance(cfg, str):
        return custom_objects.get(cfg, cfg)
    if isinstance(cfg, list):
        return [_deserialize(module, c, custom_objects, kind) for c in cfg]
    if isinstance(cfg, dict) and "class_name" in cfg:
        cn = str(cfg["class_name"]).split(">")[-1]
        inner = dict(cfg.get("config") or {})
        if cn == "MeanMetricWrapper" and isinstance(inner.get("fn"), str):  # tf_keras metric wrapper
            return custom_objects.get(inner["fn"], inner["fn"])
        if cn == "__function__" or cn == "function":
            return custom_objects.get(inner.get("function_name") or inner.get("name"), inner.get("name"))
        cls = custom_objects.get(cn) or getattr(module, cn, None)
        if cls is None:
            name = inner.get("name")
            if isinstance(name, str):
                return custom_objects.get(name, name)
            raise ValueError(f"Unknown {kind} {cn!r} in the training configuration; pass it in custom_objects.")
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    if isinstance(cfg, dict):
        return {k: _deserialize(module, v, custom_objects, kind) for k, v in cfg.items()}
    return cfg


def _deserialize_optimizer(K, cfg, custom_objects, path):
    if isinstance(cfg, str):
        return cfg
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise SaveFileError(path, "'training_config' has no valid 'optimizer_config'.")
    cn = str(cfg["class_name"]).split(">")[-1]  # tf_keras writes "Custom>Adam"
    inner = dict(cfg.get("config") or {})
    cls = custom_objects.get(cn) or getattr(K.optimizers, cn, None)
    if cls is None:
        raise ValueError(f"Unknown optimizer {cn!r} in the training configuration of '{path}'.")
    try:
        named = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        named = set()
    # Another Keras' spelling of the learning rate (2.2.4 says lr, later versions learning_rate).
    if "learning_rate" in inner and "learning_rate" not in named and "lr" in named:
        inner["lr"] = inner.pop("learning_rate")
    elif "lr" in inner and "lr" not in named and "learning_rate" in named:
        inner["learning_rate"] = inner.pop("lr")
    build = cls.from_config if hasattr(cls, "from_config") else (lambda c: cls(**c))
    dropped = []
    while True:
        try:
            optimizer = build(dict(inner))
            break
        except (TypeError, ValueError) as e:
            # A file from another Keras (tf_keras, keras 3) carries settings this version does not
            # take: drop the ones the error names and try again.
            msg = str(e)
            bad = [k for k in inner if f"'{k}'" in msg or f'"{k}"' in msg]
            if not bad:
                raise
            for k in bad:
                dropped.append(k)
                inner.pop(k)
    if dropped:
        warnings.warn(
            f"The optimizer configuration in '{path}' has settings {dropped} that {cn} of this Keras "
            "version does not take; they were ignored.",
            stacklevel=3,
        )
    return optimizer


def _compile_from_training_config(K, model, tc, custom_objects, path):
    if not isinstance(tc, dict):
        raise SaveFileError(path, "'training_config' is not a JSON object.")
    optimizer = _deserialize_optimizer(K, tc.get("optimizer_config"), custom_objects, path)
    losses = getattr(K, "losses", None)
    metrics_mod = getattr(K, "metrics", None)
    metrics = _deserialize(metrics_mod, tc.get("metrics"), custom_objects, "metric")
    if (isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list)
            and len(getattr(model, "outputs", None) or [None]) == 1):
        metrics = metrics[0]  # tf_keras writes one list per output
    kwargs = {
        "optimizer": optimizer,
        "loss": _deserialize(losses, tc.get("loss"), custom_objects, "loss"),
        "metrics": metrics,
        "loss_weights": tc.get("loss_weights"),
        "sample_weight_mode": tc.get("sample_weight_mode"),
        "weighted_metrics": _deserialize(metrics_mod, tc.get("weighted_metrics"), custom_objects, "metric"),
    }
    try:
        params = inspect.signature(model.compile).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        params, var_kw = {}, True
    call = {"optimizer": kwargs.pop("optimizer"), "loss": kwargs.pop("loss")}
    for k, v in kwargs.items():
        if k in params or (var_kw and v is not None):
            call[k] = v
    model.compile(**call)


def _restore_optimizer_state(r, model):
    g = r.group(r.f, "optimizer_weights")
    names = r.names(g, "weight_names", "optimizer weight names")
    values = [r.dataset(g, n, f"optimizer weight {n!r}") for n in names]
    opt = model.optimizer
    if len(opt.weights or []) != len(values):
        _build_optimizer(model, opt)
    try:
        opt.set_weights(values)
    except (ValueError, TypeError, IndexError) as e:
        warnings.warn(
            f"Error in loading the saved optimizer state from '{r.path}' ({e}). As a result, your model "
            "is starting with a freshly initialized optimizer.",
            stacklevel=3,
        )


def _build_optimizer(model, opt):
    """Create the optimizer's slots (Keras builds the train function here) without moving weights."""
    variables = list(getattr(model, "trainable_weights", None) or [])
    if hasattr(opt, "build"):
        try:
            opt.build(variables)
            return
        except (TypeError, NotImplementedError):
            pass
    saved = [np.array(getattr(v, "data", v), copy=True) for v in variables]
    opt.apply_gradients([(np.zeros_like(s), v) for s, v in zip(saved, variables)])
    for v, s in zip(variables, saved):
        v.assign(s)
