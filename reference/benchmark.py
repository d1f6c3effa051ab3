"""How fast the NumPy reference is next to real Keras, in one run.

    python -m keras_conformance.reference.benchmark [--backend jax|tensorflow|torch] [--repeat 5]

Each workload is built the same way in both (same layer sizes, same weights through set_weights,
same data), timed as the best of ``--repeat`` runs after one warm-up, and printed with the ratio
reference / keras (above 1: the reference is slower). This is a measurement to read, never a test
with a time limit.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _best_of(fn, repeat):
    fn()  # warm-up: tracing, compilation, allocations
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _mlp(K, sizes, n_in):
    model = K.models.Sequential()
    model.add(K.layers.Dense(sizes[0], activation="relu", input_shape=(n_in,)))
    for units in sizes[1:-1]:
        model.add(K.layers.Dense(units, activation="relu"))
    model.add(K.layers.Dense(sizes[-1], activation="softmax"))
    return model


def _sgd(K, version):
    return K.optimizers.SGD(**({"lr": 0.01} if version == "2.2.4" else {"learning_rate": 0.01}))


def workloads(batch, n_in, sizes, n_samples):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_samples, n_in)).astype("float32")
    y = np.eye(sizes[-1], dtype="float32")[rng.integers(0, sizes[-1], n_samples)]
    xb, yb = x[:batch], y[:batch]

    def build(K, version, weights=None):
        model = _mlp(K, sizes, n_in)
        model.compile(optimizer=_sgd(K, version), loss="categorical_crossentropy")
        if weights is not None:
            model.set_weights(weights)
        return model

    return {
        f"predict_on_batch ({batch}x{n_in} -> {'-'.join(map(str, sizes))})":
            lambda m: (lambda: m.predict_on_batch(xb)),
        f"train_on_batch (batch {batch}, SGD)":
            lambda m: (lambda: m.train_on_batch(xb, yb)),
        f"fit 1 epoch ({n_samples} samples, batch {batch})":
            lambda m: (lambda: m.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)),
        f"predict ({n_samples} samples, batch {batch})":
            lambda m: (lambda: m.predict(x, batch_size=batch, verbose=0)),
    }, build


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"),
                        choices=("jax", "tensorflow", "torch"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)

    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
    except ImportError:
        print('keras is not installed: pip install "keras-conformance[keras3-jax]"', file=sys.stderr)
        return 2
    from keras_conformance import reference

    R = reference.keras("3")
    table, build = workloads(args.batch, 64, (128, 128, 10), 4096)
    print(f"reference (NumPy {np.__version__}) vs keras {keras.__version__} on {args.backend}; "
          f"best of {args.repeat}")
    print(f"{'workload':52s} {'reference':>11s} {'keras':>11s} {'ratio':>7s}")
    for name, make in table.items():
        real = build(keras, "3")
        ours = build(R, "3", real.get_weights())
        t_ours = _best_of(make(ours), args.repeat)
        t_real = _best_of(make(real), args.repeat)
        print(f"{name:52s} {t_ours * 1e3:9.2f}ms {t_real * 1e3:9.2f}ms {t_ours / t_real:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
