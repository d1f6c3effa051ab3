"""The graph of layers behind a functional ``Model(inputs, outputs)`` (Keras' ``Network``).

The graph is read back from the outputs' ``_keras_history``: every KerasTensor knows the layer call
(node) that made it, and every node its input tensors. Running the model walks the nodes in
topological order, feeding each layer the Tensors computed for its inputs.
"""
from __future__ import annotations

import copy

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..layers.base import KerasTensor, Layer, unique_name

__all__ = ["Network"]


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _node_of(tensor):
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]


class Network(Layer):
    """A layer made of layers: the graph part of Model (inputs, outputs, layers, running it)."""

    _name_prefix_by_version = {"2.2.4": "model", "2.3": "model", "3": "functional"}

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if name is None:
            prefix = self._default_prefix()
            name = unique_name(prefix, self._api_version)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._is_graph_network = False
        self._layers: list[Layer] = []
        self._nodes: list = []
        self.inputs: list[KerasTensor] = []
        self.outputs: list[KerasTensor] = []
        self._single_input = self._single_output = True
        self._tracked: list[Layer] = []   # layers assigned as attributes (subclassed models)
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs` "
                                 f"(got inputs={inputs!r}, outputs={outputs!r}).")
            self._init_graph(inputs, outputs)

    def _default_prefix(self):
        cls_name = type(self).__name__
        if cls_name in ("Model", "Functional", "Network"):
            return self._name_prefix_by_version[self._api_version]
        from ..layers.base import to_snake_case
        return to_snake_case(cls_name)

    def __setattr__(self, key, value):
        if isinstance(value, Layer) and key not in ("_layers",) and hasattr(self, "_tracked"):
            if value not in self._tracked:
                self._tracked.append(value)
        super().__setattr__(key, value)

    # -- the graph --
    def _init_graph(self, inputs, outputs):
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        inputs, outputs = _as_list(inputs), _as_list(outputs)
        for which, tensors in (("inputs", inputs), ("outputs", outputs)):
            for t in tensors:
                if not isinstance(t, KerasTensor):
                    raise TypeError(f"All `{which}` of a functional Model must be symbolic tensors "
                                    f"(the result of `Input(...)` or of calling a layer on one). "
                                    f"Received: {t!r}")
        for t in inputs:
            if t._keras_history[0]._inbound_nodes[t._keras_history[1]].input_tensors:
                raise ValueError(f"Model inputs must come from `Input` (an InputLayer); "
                                 f"{t.name} was produced by layer {t._keras_history[0].name}.")
        self.inputs, self.outputs = inputs, outputs
        self._is_graph_network = True

        # Topological order of nodes, depth first from the outputs.
        order, seen = [], set()
        input_ids = {id(t) for t in inputs}

        def visit(tensor, path):
            node = _node_of(tensor)
            if id(node) in seen:
                return
            if id(node) in path:
                raise ValueError("The graph of the model has a cycle.")
            path = path | {id(node)}
            for t in node.input_tensors:
                visit(t, path)
            if not node.input_tensors and id(tensor) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {tensor} at "
                                 f"layer \"{node.layer.name}\". The following previous layers were "
                                 f"accessed without issue: {[n.layer.name for n in order]}")
            seen.add(id(node))
            order.append(node)

        for t in outputs:
            visit(t, frozenset())
        self._nodes = order
        layers = []
        for node in order:
            if node.layer not in layers:
                layers.append(node.layer)
        names = [l.name for l in layers]
        for n in names:
            if names.count(n) > 1:
                raise ValueError(f"The name \"{n}\" is used {names.count(n)} times in the model. "
                                 "All layer names should be unique.")
        self._layers = layers
        self.built = True

    @property
    def layers(self):
        if self._is_graph_network:
            return list(self._layers)
        return list(self._tracked)

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def _run_graph(self, inputs: list[Tensor], training=None) -> list[Tensor]:
        """Run the graph; the masks the layers compute (Masking, ...) travel along with the values, and
        those of the outputs are kept in ``_output_masks`` for the loss (masked steps do not count)."""
        values = {id(t): x for t, x in zip(self.inputs, inputs)}
        masks: dict[int, object] = {}
        for node in self._nodes:
            if not node.input_tensors:
                continue
            args = [values[id(t)] for t in node.input_tensors]
            in_masks = [masks.get(id(t)) for t in node.input_tensors]
            call_training = node.call_kwargs.get("training", training)
            arg = args if len(args) > 1 else args[0]
            in_mask = in_masks if len(in_masks) > 1 else in_masks[0]
            out = node.layer._run(arg, training=call_training, mask=in_mask)
            out_mask = node.layer.compute_mask(arg, in_mask)
            outs = _as_list(out)
            # several outputs carry one mask each (return_state: [sequence mask, None, ...]), as Keras
            # zips compute_mask's list with the outputs; a single mask belongs to a single output
            if isinstance(out_mask, (list, tuple)):
                out_masks = list(out_mask) + [None] * (len(outs) - len(out_mask))
            else:
                out_masks = [out_mask if len(outs) == 1 else None] * len(outs)
            for t, value, m in zip(node.output_tensors, outs, out_masks):
                values[id(t)] = value
                if m is not None:
                    masks[id(t)] = m
        self._output_masks = [masks.get(id(t)) for t in self.outputs]
        return [values[id(t)] for t in self.outputs]

    def call(self, inputs, training=None):
        if self._is_graph_network:
            outs = self._run_graph(_as_list(inputs), training=training)
            return outs[0] if self._single_output and len(outs) == 1 else outs
        raise NotImplementedError(f"Model {self.name} has no graph; a subclassed model must "
                                  "define `call(self, inputs)`.")

    def _run(self, inputs, training=None, mask=None):
        if self._is_graph_network:
            return self.call(inputs, training=training)
        return super()._run(inputs, training=training, mask=mask)

    def compute_output_shape(self, input_shape):
        if self._is_graph_network:
            return self.output_shape
        return super().compute_output_shape(input_shape)

    def build(self, input_shape):
        self.built = True

    # -- weights --
    def _all_layers(self):
        return [l for l in self.layers]

    def _unique_weights(self, of_layer):
        # a layer shared in several places holds its weights once
        out = []
        for layer in self._all_layers():
            for w in of_layer(layer):
                if not any(w is o for o in out):
                    out.append(w)
        return out

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self._unique_weights(lambda layer: layer.trainable_weights)

    @property
    def non_trainable_weights(self):
        return self._unique_weights(
            lambda layer: layer.weights if not self.trainable else layer.non_trainable_weights)

    @property
    def weights(self):
        return self._unique_weights(lambda layer: layer.weights)

    @property
    def losses(self):
        out = []
        for layer in self._all_layers():
            out.extend(layer.losses)
        return out

    def count_params(self):
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- get_layer --
    def get_layer(self, name=None, index=None):
        """A layer by index (which wins when both are given in 2.x) or by unique name."""
        v3 = self._api_version == "3"
        if v3 and index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(layers)} layers.")
            return layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index"
                             + (" at `get_layer`." if v3 else "."))
        for layer in layers:
            if layer.name == name:
                return layer
        if v3:
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[l.name for l in layers]}.")
        raise ValueError(f"No such layer: {name}")

    # -- configuration --
    def get_config(self):
        if not self._is_graph_network:
            raise NotImplementedError("get_config() is not available for a subclassed model "
                                      "(its topology is Python code).")
        if self._api_version == "3":
            return self._get_config_v3()
        from .serialization import serialize_layer
        node_ids = {}
        for layer in self._layers:
            for i, node in enumerate(layer._inbound_nodes):
                node_ids[id(node)] = i
        model_nodes = {id(n) for n in self._nodes}
        layer_configs = []
        for layer in self._layers:
            inbound = []
            for node in layer._inbound_nodes:
                if id(node) not in model_nodes or not node.input_tensors:
                    continue
                entries = []
                for t in node.input_tensors:
                    src, node_index, tensor_index = t._keras_history
                    entries.append([src.name, node_index, tensor_index, {}])
                inbound.append(entries)
            entry = serialize_layer(layer)
            entry = {"name": layer.name, **entry, "inbound_nodes": inbound}
            layer_configs.append(entry)

        def refs(tensors):
            return [[t._keras_history[0].name, t._keras_history[1], t._keras_history[2]]
                    for t in tensors]

        return {"name": self.name, "layers": copy.deepcopy(layer_configs),
                "input_layers": refs(self.inputs), "output_layers": refs(self.outputs)}

    def _get_config_v3(self):
        """The keras 3.15 layout (``keras.src.models.functional.Functional.get_config``):
        ``{"name", "trainable", "layers", "input_layers", "output_layers"}``; each layer entry is the
        layer's serialization plus ``"name"`` and ``"inbound_nodes"``, one ``{"args", "kwargs"}`` per
        call of the layer inside this model, its input tensors as ``__keras_tensor__`` records whose
        ``keras_history`` counts only the nodes that belong to the model (keras' node re-indexing).
        ``input_layers``/``output_layers`` keep the structure given to the constructor: one
        ``[name, node, tensor]`` for a single tensor, a list of them for a list."""
        from .serialization import serialize_layer
        model_nodes = {id(n) for n in self._nodes}
        reindex = {}   # id(node) -> its index among the layer's nodes that belong to the model
        for layer in self._layers:
            kept = 0
            for node in layer._inbound_nodes:
                if id(node) in model_nodes:
                    reindex[id(node)] = kept
                    kept += 1

        def history(t):
            layer, node_index, tensor_index = t._keras_history
            return [layer.name, reindex[id(layer._inbound_nodes[node_index])], tensor_index]

        def tensor_record(t):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": tuple(t.shape), "dtype": t.dtype,
                               "keras_history": history(t)}}

        layer_configs = []
        for layer in self._layers:
            inbound = []
            for node in layer._inbound_nodes:
                if id(node) not in model_nodes or not node.input_tensors:
                    continue
                records = [tensor_record(t) for t in node.input_tensors]
                arg = records[0] if len(records) == 1 else records
                inbound.append({"args": (arg,), "kwargs": dict(node.call_kwargs)})
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = inbound
            layer_configs.append(entry)

        def refs(tensors, single):
            out = [history(t) for t in tensors]
            return out[0] if single and len(out) == 1 else out

        return copy.deepcopy({"name": self.name, "trainable": self.trainable,
                              "layers": layer_configs,
                              "input_layers": refs(self.inputs, self._single_input),
                              "output_layers": refs(self.outputs, self._single_output)})

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .serialization import deserialize_layer
        created = {}
        for entry in _without_mask_operations(config["layers"]):
            layer = deserialize_layer(entry, cls._api_version, custom_objects)
            created[entry.get("name", layer.name)] = (layer, entry)
        tensors = {}   # (layer name, node index, tensor index) -> KerasTensor
        pending = [name for name in created]
        progress = True
        while pending and progress:
            progress = False
            for name in list(pending):
                layer, entry = created[name]
                inbound = entry.get("inbound_nodes", [])
                if not inbound:
                    node = layer._inbound_nodes[0]
                    tensors[(name, 0, 0)] = node.output_tensors[0]
                    pending.remove(name)
                    progress = True
                    continue
                calls = [_node_call(node) for node in inbound]
                ready = all(tuple(ref) in tensors for refs, _, _ in calls for ref in refs)
                if not ready:
                    continue
                for k, (refs, as_list, kwargs) in enumerate(calls):
                    args = [tensors[tuple(ref)] for ref in refs]
                    out = layer(args if as_list or len(args) > 1 else args[0], **kwargs)
                    for j, t in enumerate(_as_list(out)):
                        tensors[(name, k, j)] = t
                pending.remove(name)
                progress = True
        if pending:
            raise ValueError(f"Could not rebuild the model graph; unresolved layers: {pending}")

        def lookup(refs):
            """(tensors, whether the config gave one flat ``[name, node, tensor]``)."""
            single = bool(refs) and not isinstance(refs[0], (list, tuple))
            if single:
                refs = [refs]
            return [tensors[(r[0], r[1], r[2])] for r in refs], single

        (inputs, in_single), (outputs, out_single) = (lookup(config["input_layers"]),
                                                      lookup(config["output_layers"]))
        if cls._api_version == "3":
            # keras 3 keeps the structure: a flat reference is one tensor, a list stays a list
            ins = inputs[0] if in_single else inputs
            outs = outputs[0] if out_single else outputs
        else:
            ins = inputs if len(inputs) > 1 else inputs[0]
            outs = outputs if len(outputs) > 1 else outputs[0]
        model = cls(inputs=ins, outputs=outs, name=config.get("name"))
        if cls._api_version == "3" and "trainable" in config:
            model.trainable = bool(config["trainable"])
        return model


def _is_tensor_record(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


# keras 3.15's legacy .h5 writer drops the module of those entries, leaving these class names (a file
# keras 3.15.1 itself cannot load back: "Unknown layer: 'NotEqual'").
_LEGACY_MASK_OPERATIONS = ("NotEqual", "Any")


def _without_mask_operations(entries):
    """A keras 3 functional config without the operations that compute masks.

    keras 3.15 records the mask a layer is called with as graph nodes: Masking's
    ``any(not_equal(x, mask_value), axis=-1)`` appears as ``keras.src.ops.numpy`` NotEqual and Any entries
    whose output is passed as the ``mask`` keyword of the next call. The reference propagates masks from
    layer to layer itself (as Keras 2 did), so those entries and the ``mask`` keywords that refer to them
    are left out and the same mask is computed again. An operation used any other way (a keras.ops call
    in the user's graph) is refused with a clear error: the reference implements layers, not keras.ops."""
    ops = {e.get("name") for e in entries if str(e.get("module") or "").startswith("keras.src.ops")
           or ("module" not in e and e.get("class_name") in _LEGACY_MASK_OPERATIONS)}
    if not ops:
        return list(entries)
    out = []
    for entry in entries:
        if entry.get("name") in ops:
            continue
        nodes = []
        for node in entry.get("inbound_nodes") or []:
            if isinstance(node, dict):
                kwargs = dict(node.get("kwargs") or {})
                mask = kwargs.get("mask")
                if _is_tensor_record(mask) and mask["config"]["keras_history"][0] in ops:
                    kwargs.pop("mask")
                used = [r for r in _records(node.get("args")) + _records(kwargs)
                        if r["config"]["keras_history"][0] in ops]
                if used:
                    raise ValueError(
                        f"Layer {entry.get('name')!r} is called on the output of the keras 3 operation "
                        f"{used[0]['config']['keras_history'][0]!r}: the reference rebuilds layers, not keras.ops "
                        "calls (only the operations that compute a mask are recomputed by mask propagation).")
                node = dict(node, kwargs=kwargs)
            nodes.append(node)
        out.append(dict(entry, inbound_nodes=nodes))
    return out


def _records(value):
    if _is_tensor_record(value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _records(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _records(v)]
    return []


def _node_call(node):
    """One serialized call of a layer -> ([(layer name, node index, tensor index)], whether the
    inputs were a list, call kwargs). Reads the 2.x layout (``[[name, node, tensor, kwargs], ...]``)
    and the keras 3 one (``{"args": [tensor record or list of them], "kwargs": {...}}``)."""
    if isinstance(node, dict):
        args = list(node.get("args") or [])
        kwargs = dict(node.get("kwargs") or {})
        if len(args) != 1:
            raise ValueError(f"Cannot rebuild a layer call with {len(args)} positional "
                             f"arguments: {node!r}")
        arg = args[0]
        as_list = isinstance(arg, (list, tuple))
        records = list(arg) if as_list else [arg]
        refs = []
        for rec in records:
            if not (isinstance(rec, dict) and rec.get("class_name") == "__keras_tensor__"):
                raise ValueError(f"Expected a serialized KerasTensor in a node, got {rec!r}")
            refs.append(tuple(rec["config"]["keras_history"][:3]))
        return refs, as_list and len(refs) > 1, kwargs
    refs, kwargs = [], {}
    for entry in node:
        refs.append(tuple(entry[:3]))
        if len(entry) > 3 and entry[3]:
            kwargs.update(entry[3])
    return refs, False, kwargs
