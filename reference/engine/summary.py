"""``model.summary()`` in the Keras 2 text layout (seed 002 shows it), used for every version.

Sequential-like models: columns Layer (type) / Output Shape / Param # (line length 65);
other graphs add "Connected to" (line length 98). 2.3 and 3 print ``Model: "name"`` first.
"""
from __future__ import annotations

import numpy as np

__all__ = ["print_summary"]


def _is_sequential_like(model) -> bool:
    if type(model).__name__ == "Sequential" or not model._is_graph_network:
        return True
    for node in model._nodes:
        if len(node.input_tensors) > 1:
            return False
    for layer in model._layers:
        if len([n for n in layer._inbound_nodes if n in model._nodes]) > 1:
            return False
    return len(model.inputs) == 1 and len(model.outputs) == 1


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def print_summary(model, line_length=None, positions=None, print_fn=None):
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [.45, .85, 1.]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [.33, .55, .67, 1.]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    if model._api_version != "2.2.4":
        print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    layers = model.layers
    if type(model).__name__ != "Sequential" and model._is_graph_network:
        layers = model._layers
    for i, layer in enumerate(layers):
        try:
            shape = layer.output_shape
        except AttributeError:
            shape = "multiple"
        params = layer.count_params() if layer.built else 0
        name = f"{layer.name} ({type(layer).__name__})"
        if sequential_like:
            row([name, shape, params])
        else:
            connections = []
            for node in layer._inbound_nodes:
                if node not in model._nodes:
                    continue
                for t in node.input_tensors:
                    src, ni, ti = t._keras_history
                    connections.append(f"{src.name}[{ni}][{ti}]")
            row([name, shape, params, connections[0] if connections else ""])
            for extra in connections[1:]:
                row(["", "", "", extra])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = _count(model.trainable_weights)
    total = _count(model.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)
