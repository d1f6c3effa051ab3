"""Layer weights in save files: names and order as each Keras version writes them (Keras 2's per-layer
`weight_names`, keras 3's variable paths and its `.weights.h5` layout), and loading them back
(topologically, by name, skipping mismatches)."""
from __future__ import annotations

import re
import warnings

import numpy as np

from .config import BACKEND, _keras_version_string
from .files import SaveFileError, _has_names, _read_string_attr, _Reader, _string_attr, _write_names, names_the_file

# ----------------------------------------------------------------------------------------------
# what the model looks like from here
# ----------------------------------------------------------------------------------------------

def _layer_weights(layer):
    return list(getattr(layer, "weights", None) or [])


def _values(obj):
    return [np.asarray(v) for v in obj.get_weights()]


def _var_shape(var):
    return tuple(int(d) for d in np.shape(getattr(var, "data", var)))


def _short_name(var, i):
    name = getattr(var, "name", None) or f"param_{i}"
    name = str(name)
    if ":" in name:
        name = name.rsplit(":", 1)[0]
    return name


def _keras2_weight_names(layer):
    names = []
    for i, var in enumerate(_layer_weights(layer)):
        name = str(getattr(var, "name", None) or f"param_{i}")
        if "/" not in name:
            name = f"{layer.name}/{name}"
        if ":" not in name:
            name += ":0"
        names.append(name)
    return _uniquify(names)


def _keras3_weight_names(layer, model):
    names = []
    for i, var in enumerate(_layer_weights(layer)):
        path = getattr(var, "path", None)
        if not isinstance(path, str) or not path:
            short = _short_name(var, i).split("/")[-1]
            prefix = f"{model.name}/" if type(model).__name__ == "Sequential" else ""
            path = f"{prefix}{layer.name}/{short}"
        names.append(path)
    return _uniquify(names)


def _uniquify(names):
    seen, out = {}, []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        out.append(n)
    return out


def _write_model_weights(group, model, version):
    layers = list(model.layers)
    _write_names(group, "layer_names", [l.name for l in layers], version)
    group.attrs["backend"] = _string_attr(BACKEND, version)
    group.attrs["keras_version"] = _string_attr(_keras_version_string(version), version)
    order = sorted(layers, key=lambda l: l.name) if version == "3" else layers
    for layer in order:
        g = group.create_group(layer.name)
        values = _values(layer) if _layer_weights(layer) else []
        names = _keras3_weight_names(layer, model) if version == "3" else _keras2_weight_names(layer)
        if len(names) != len(values):
            raise ValueError(
                f"Layer {layer.name!r} lists {len(names)} weights but get_weights() returned {len(values)}."
            )
        _write_names(g, "weight_names", names, version)
        for name, val in zip(names, values):
            g.create_dataset(name, data=val)
    if version == "3":
        _write_names(group.create_group("top_level_model_weights"), "weight_names", [], version)


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def _keras3_keys(layers):
    used, keys = {}, []
    for layer in layers:
        key = _snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append(key)
    return keys


def _keras3_layers(model):
    layers = list(model.layers)
    if type(model).__name__ == "Sequential":  # keras 3 Sequential tracks no InputLayer in `layers`
        layers = [l for l in layers if type(l).__name__ != "InputLayer"]
    return layers


def _keras3_children(layer):
    """[(attribute, layer or list of layers)]: where keras 3.15's saving walk (saving_lib._save_state over
    the object's attributes) files a layer's sub-layers, checked against the files keras 3.15.1 writes:
    Bidirectional's forward_layer / backward_layer (it keeps no `layer`), a wrapper's layer, a recurrent
    layer's cell, stacked cells' cells, a model's layers."""
    from ..layers.base import Layer
    if type(layer).__name__ == "Bidirectional":
        return [("forward_layer", layer.forward_layer), ("backward_layer", layer.backward_layer)]
    out = []
    for attr in ("cell", "cells", "layer"):
        child = layer.__dict__.get(attr)
        if isinstance(child, Layer) or (isinstance(child, (list, tuple)) and child
                                        and all(isinstance(c, Layer) for c in child)):
            out.append((attr, list(child) if isinstance(child, (list, tuple)) else child))
    if hasattr(layer, "layers") and hasattr(layer, "outputs"):   # a model inside the model
        out.append(("layers", _keras3_layers(layer)))
    return out


def _keras3_own_variables(layer, children):
    """The layer's variables that no sub-layer holds: keras 3 saves them as the layer's own `vars`."""
    inner = {id(w) for _, child in children for sub in (child if isinstance(child, list) else [child])
             for w in _layer_weights(sub)}
    return [w for w in _layer_weights(layer) if id(w) not in inner]


def _write_keras3_object(group, obj):
    children = _keras3_children(obj)
    vg = group.create_group("vars")
    vg.attrs["name"] = obj.name
    for i, var in enumerate(_keras3_own_variables(obj, children)):
        vg.create_dataset(str(i), data=np.asarray(getattr(var, "data", var)))
    for attr, child in children:
        g = group.create_group(attr)
        if isinstance(child, list):
            for key, sub in zip(_keras3_keys(child), child):
                _write_keras3_object(g.create_group(key), sub)
        else:
            _write_keras3_object(g, child)


def _write_keras3_weights(f, model, include_optimizer=True):
    """keras 3's weights store (a `.weights.h5` file, the `model.weights.h5` of a `.keras` archive): the
    model's object tree, `layers/<snake_case class>[_<n>]/vars/<i>` with nested groups for sub-layers,
    and `optimizer/vars/<i>` (its variables in order: iterations, learning rate, the slots) once compiled."""
    _write_keras3_object(f, model)
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None and getattr(model, "_is_compiled", True):
        vg = f.create_group("optimizer").create_group("vars")
        vg.attrs["name"] = str(opt.get_config().get("name", type(opt).__name__.lower()))
        for i, value in enumerate(opt.get_weights() or []):
            vg.create_dataset(str(i), data=np.asarray(value))


# ----------------------------------------------------------------------------------------------
# public: loading
# ----------------------------------------------------------------------------------------------

@names_the_file(1)
def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Load weights saved by `save_weights` (or the `model_weights` of a `save_model` file).

    Topological by default: the i-th layer with weights in the model gets the i-th layer with weights
    in the file, and the counts must agree. With by_name=True a layer gets the weights stored under
    its own name, layers without a match are left alone. skip_mismatch=True skips (with a warning)
    a layer whose weight count, or a weight whose shape, differs instead of raising ValueError.
    Nothing is assigned when a ValueError is raised."""
    with _Reader(filepath) as r:
        f = r.f
        if "layers" in f and not _has_names(f, "layer_names") and "model_weights" not in f:
            plan = _plan_keras3_weights(r, model, by_name, skip_mismatch)
            _apply(plan)
            _load_keras3_optimizer(r, f, model)
            return
        else:
            group = f
            if not _has_names(f, "layer_names") and "model_weights" in f:
                group = r.group(f, "model_weights")
            if not _has_names(group, "layer_names"):
                raise SaveFileError(
                    r.path, "it holds no Keras weights (no 'layer_names' attribute at the root or in 'model_weights')."
                )
            if by_name:
                plan = _plan_by_name(r, group, model, skip_mismatch)
            else:
                plan = _plan_topological(r, group, model, skip_mismatch)
    _apply(plan)


def _file_layers(r, group):
    """[(layer name, [weight names], group)] for the file's layers that hold weights."""
    out = []
    for name in r.names(group, "layer_names", "list of layer names"):
        g = r.group(group, name, f"the weights group of layer {name!r}")
        wnames = r.names(g, "weight_names", f"weight names of layer {name!r}")
        if wnames:
            out.append((name, wnames, g))
    return out


def _read_layer_values(r, name, wnames, g):
    return [r.dataset(g, w, f"weight {w!r} of layer {name!r}") for w in wnames]


def _plan_topological(r, group, model, skip_mismatch):
    file_layers = _file_layers(r, group)
    model_layers = [l for l in model.layers if _layer_weights(l)]
    if len(file_layers) != len(model_layers):
        raise ValueError(
            f"You are trying to load a weight file containing {len(file_layers)} layers with weights "
            f"({', '.join(n for n, _, _ in file_layers) or 'none'}) into a model with "
            f"{len(model_layers)} layers with weights ({', '.join(l.name for l in model_layers) or 'none'}) "
            f"('{r.path}'). Topological loading needs the same architecture; "
            "use by_name=True to load the layers that share a name."
        )
    plan = []
    for k, ((name, wnames, g), layer) in enumerate(zip(file_layers, model_layers)):
        values = _read_layer_values(r, name, wnames, g)
        expected = _layer_weights(layer)
        if len(values) != len(expected):
            raise ValueError(
                f"Layer #{k} (named {layer.name!r} in the current model) was found to correspond to "
                f"layer {name!r} in the save file '{r.path}'. However the new layer {layer.name!r} expects "
                f"{len(expected)} weights, but the saved weights have {len(values)} elements."
            )
        plan.append(_check_shapes(layer, values, f"layer #{k} ({layer.name!r}, file layer {name!r})", r.path, skip_mismatch))
    return plan


def _plan_by_name(r, group, model, skip_mismatch):
    index = {}
    for layer in model.layers:
        index.setdefault(layer.name, []).append(layer)
    plan = []
    for k, (name, wnames, g) in enumerate(_file_layers(r, group)):
        targets = index.get(name, [])
        if not targets:
            continue
        values = _read_layer_values(r, name, wnames, g)
        for layer in targets:
            expected = _layer_weights(layer)
            if len(values) != len(expected):
                msg = (
                    f"Layer #{k} (named {layer.name!r}) expects {len(expected)} weight(s), but the saved "
                    f"weights in '{r.path}' have {len(values)} element(s)."
                )
                if skip_mismatch:
                    warnings.warn("Skipping loading of weights: " + msg, stacklevel=3)
                    continue
                raise ValueError(msg)
            plan.append(_check_shapes(layer, values, f"layer #{k} ({layer.name!r})", r.path, skip_mismatch))
    return plan


def _plan_keras3_weights(r, model, by_name, skip_mismatch, root=None):
    """What to assign from a keras 3 weights store: each object's `vars` by its path in the tree. A missing
    group or a count or shape that differs raises ValueError naming the path (a warning and a skip with
    skip_mismatch=True); an object without variables needs no group. by_name is keras 2's and is refused
    (keras 3.15 load_weights: "Invalid keyword arguments")."""
    if by_name:
        raise ValueError(f"by_name=True is for the legacy .h5 format; '{r.path}' is a keras 3 weights file "
                         "(keras 3 loads it by the model's structure).")
    plan = []
    _plan_keras3_object(r, r.f if root is None else root, model, "", skip_mismatch, plan)
    return plan


def _plan_keras3_object(r, group, obj, where, skip_mismatch, plan):
    children = _keras3_children(obj)
    own = _keras3_own_variables(obj, children)
    label = where.strip("/") or "the model"

    def mismatch(msg):
        if skip_mismatch:
            warnings.warn("Skipping loading of weights: " + msg, stacklevel=5)
            return
        raise ValueError(msg)

    if own:
        if "vars" not in group:
            return mismatch(f"Layer {obj.name!r} ({label}) has {len(own)} variables, but '{r.path}' has no "
                            f"group {where}vars for them.")
        vg = r.group(group, "vars", f"the variables of {label}")
        n = len(vg.keys())
        if n != len(own):
            return mismatch(f"Layer {obj.name!r} ({label}) expected {len(own)} variables, but received {n} "
                            f"variables during loading from '{r.path}'.")
        index = {id(w): i for i, w in enumerate(_layer_weights(obj))}
        pairs = []
        for i, var in enumerate(own):
            value = r.dataset(vg, str(i), f"variable {where}vars/{i} of {obj.name!r}")
            want = _var_shape(var)
            if tuple(value.shape) != want:
                mismatch(f"Layer {obj.name!r} ({label}): variable {i} has shape {want}, but the saved one in "
                         f"'{r.path}' has shape {tuple(value.shape)}.")
                continue
            pairs.append((index[id(var)], value))
        plan.append((obj, pairs))
    for attr, child in children:
        if attr not in group:
            if any(_layer_weights(c) for c in (child if isinstance(child, list) else [child])):
                mismatch(f"'{r.path}' has no group {where}{attr} for the weights of {obj.name!r}.")
            continue
        g = r.group(group, attr, f"{where}{attr}")
        if isinstance(child, list):
            for key, sub in zip(_keras3_keys(child), child):
                if key not in g:
                    if _layer_weights(sub):
                        mismatch(f"Layer {sub.name!r} (saved as {where}{attr}/{key}) has no weights in "
                                 f"'{r.path}'.")
                    continue
                _plan_keras3_object(r, r.group(g, key, f"{where}{attr}/{key}"), sub, f"{where}{attr}/{key}/",
                                    skip_mismatch, plan)
        else:
            _plan_keras3_object(r, g, child, f"{where}{attr}/", skip_mismatch, plan)


def _load_keras3_optimizer(r, root, model):
    """keras 3.15 BaseOptimizer.load_own_variables: the saved variables when their count matches the
    optimizer's (built first, as keras 3's compile_from_config builds it), else a warning and the
    optimizer as it was."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(model, "_is_compiled", False) or "optimizer" not in root:
        return
    vg = r.group(root, "optimizer/vars", "the optimizer's variables")
    values = [r.dataset(vg, str(i), f"optimizer variable {i}") for i in range(len(vg.keys()))]
    if len(opt.weights or []) != len(values):
        from .training_config import _build_optimizer
        _build_optimizer(model, opt)
    if len(opt.weights or []) != len(values):
        warnings.warn(f"Skipping variable loading for optimizer {opt.get_config().get('name')!r}, because it "
                      f"has {len(opt.weights or [])} variables whereas the saved optimizer in '{r.path}' has "
                      f"{len(values)} variables.", stacklevel=4)
        return
    opt.set_weights(values)


def _check_shapes(layer, values, label, path, skip_mismatch):
    """(layer, [(index, value)]) for the weights whose shapes agree; ValueError otherwise."""
    expected = _layer_weights(layer)
    keep = []
    for i, (var, val) in enumerate(zip(expected, values)):
        want = _var_shape(var)
        if tuple(val.shape) != want:
            msg = (f"{label}: weight {_short_name(var, i)!r} has shape {want}, but the saved weight in "
                   f"'{path}' has shape {tuple(val.shape)}.")
            if skip_mismatch:
                warnings.warn("Skipping loading of weights: " + msg, stacklevel=4)
                continue
            raise ValueError(msg[0].upper() + msg[1:])
        keep.append((i, val))
    return layer, keep


def _apply(plan):
    for layer, pairs in plan:
        n = len(_layer_weights(layer))
        if len(pairs) == n:
            layer.set_weights([v for _, v in pairs])
        else:  # some weights skipped for a shape mismatch: assign the others one by one
            variables = _layer_weights(layer)
            for i, v in pairs:
                var = variables[i]
                var.assign(np.asarray(v, dtype=getattr(var, "dtype", None)))
