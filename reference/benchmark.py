"""How fast the NumPy reference is next to real Keras, in one run.

    python -m keras_conformance.reference.benchmark [--model cnn|mlp|lstm|all] [--against tensorflow,jax,torch,tf_keras]
                                                     [--repeat 5] [--profile] [--memory]

Each workload is built the same way in the reference and in every implementation it is compared with
(same layers, same weights through set_weights, same data), timed as the best of ``--repeat`` runs after
one warm-up. Keras 3 fixes its backend when imported, so each implementation runs in a child process of
this one (``--worker``); the table prints every time and the ratio of the reference to the fastest
implementation (above 1: the reference is slower). A measurement to read, never a test with a time limit.

``--profile`` adds where the reference's train step spends its time (cProfile, by primitive and by
function); ``--memory`` its peak allocation during one train step (tracemalloc, which sees NumPy's
buffers) next to the bytes of the arrays that step must hold: weights, their gradients, the optimizer's
state, the batch and every layer's output.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

IMPLEMENTATIONS = ("tensorflow", "jax", "torch", "tf_keras")


def _best_of(fn, repeat):
    fn()  # warm-up: tracing, compilation, allocations
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# -- the models ---------------------------------------------------------------------------------------------
def _mlp(K):
    model = K.models.Sequential()
    model.add(K.layers.Dense(128, activation="relu", input_shape=(64,)))
    model.add(K.layers.Dense(128, activation="relu"))
    model.add(K.layers.Dense(10, activation="softmax"))
    return model


def _cnn(K):
    """Conv2D 32 3x3 relu -> MaxPooling2D -> Flatten -> Dense 10 softmax on 28x28x1 (an MNIST CNN)."""
    model = K.models.Sequential()
    model.add(K.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(K.layers.MaxPooling2D((2, 2)))
    model.add(K.layers.Flatten())
    model.add(K.layers.Dense(10, activation="softmax"))
    return model


def _lstm(K):
    """Embedding 1000x32 -> LSTM 64 -> Dense 1 sigmoid on integer sequences of 50 (an IMDB-style classifier)."""
    model = K.models.Sequential()
    model.add(K.layers.Embedding(1000, 32, input_shape=(50,)))
    model.add(K.layers.LSTM(64))
    model.add(K.layers.Dense(1, activation="sigmoid"))
    return model


# name -> (builder, input shape, batch size, samples, loss)
MODELS = {"mlp": (_mlp, (64,), 128, 4096, "categorical_crossentropy"),
          "cnn": (_cnn, (28, 28, 1), 64, 1024, "categorical_crossentropy"),
          "lstm": (_lstm, (50,), 32, 512, "binary_crossentropy")}


def data(model_name):
    _, shape, batch, n, loss = MODELS[model_name]
    rng = np.random.default_rng(0)
    if model_name == "lstm":
        x = rng.integers(0, 1000, size=(n,) + shape).astype("int32")
        y = rng.integers(0, 2, size=(n, 1)).astype("float32")
        return x, y, batch
    x = rng.normal(size=(n,) + shape).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, n)]
    return x, y, batch


def build(K, model_name, weights=None):
    model = MODELS[model_name][0](K)
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.01), loss=MODELS[model_name][4])
    if weights is not None:
        model.set_weights(weights)
    return model


def workloads(model_name):
    x, y, batch = data(model_name)
    xb, yb = x[:batch], y[:batch]
    return {
        "predict_on_batch": lambda m: (lambda: m.predict_on_batch(xb)),
        "train_on_batch": lambda m: (lambda: m.train_on_batch(xb, yb)),
        "fit 1 epoch": lambda m: (lambda: m.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)),
        "predict": lambda m: (lambda: m.predict(x, batch_size=batch, verbose=0)),
    }


def time_all(K, model_name, weights, repeat) -> dict:
    out = {}
    for name, make in workloads(model_name).items():
        out[name] = _best_of(make(build(K, model_name, weights)), repeat)
    return out


# -- a child process: one implementation ----------------------------------------------------------------------
def _load(implementation):
    if implementation == "tf_keras":
        import tf_keras
        return tf_keras, f"tf_keras {tf_keras.__version__}"
    os.environ["KERAS_BACKEND"] = implementation
    import keras
    return keras, f"keras {keras.__version__} on {implementation}"


def worker(implementation, model_name, weights_file, repeat) -> dict:
    K, label = _load(implementation)
    with np.load(weights_file) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files))]
    return {"label": label, "times": time_all(K, model_name, weights, repeat)}


def _run_worker(implementation, model_name, weights_file, repeat):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "keras_conformance.reference.benchmark", "--worker", implementation,
           "--model", model_name, "--weights", weights_file, "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"label": implementation, "error": tail}
    return json.loads(lines[-1])


# -- where the reference's time and memory go ---------------------------------------------------------------
def profile(R, model_name, top=12):
    import cProfile
    import pstats
    x, y, batch = data(model_name)
    model = build(R, model_name)
    model.train_on_batch(x[:batch], y[:batch])
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(10):
        model.train_on_batch(x[:batch], y[:batch])
    prof.disable()
    stats = pstats.Stats(prof)
    rows = sorted(((v[2], f"{os.path.basename(k[0])}:{k[1]} {k[2]}") for k, v in stats.stats.items()),
                  reverse=True)
    total = sum(v[2] for v in stats.stats.values())
    print(f"\nreference train_on_batch, {model_name}: where 10 steps spend {total * 1e3:.1f} ms (own time)")
    for t, name in rows[:top]:
        print(f"  {t * 1e3 / 10:7.2f} ms/step  {100 * t / total:5.1f}%  {name}")


def memory(R, model_name):
    import tracemalloc
    x, y, batch = data(model_name)
    model = build(R, model_name)
    model.train_on_batch(x[:batch], y[:batch])           # optimizer state exists from here on
    tracemalloc.start()
    model.train_on_batch(x[:batch], y[:batch])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    weights = sum(w.nbytes for w in model.get_weights())
    outputs = 0
    shape = (batch,) + MODELS[model_name][1]
    for layer in model.layers:
        shape = (batch,) + tuple(layer.compute_output_shape((None,) + tuple(shape[1:]))[1:])
        outputs += int(np.prod(shape)) * 4
    must = 3 * weights + x[:batch].nbytes + y[:batch].nbytes + outputs   # weights, gradients, momentum slot
    print(f"\nreference train_on_batch, {model_name}: peak {peak / 2**20:.2f} MiB allocated during one step; "
          f"the arrays it must hold: {must / 2**20:.2f} MiB (weights {weights / 2**20:.2f} MiB x 3 for their "
          f"gradients and the optimizer's slot, batch, layer outputs {outputs / 2**20:.2f} MiB): "
          f"{peak / must:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all", choices=("all",) + tuple(MODELS))
    parser.add_argument("--against", default=",".join(IMPLEMENTATIONS),
                        help="comma-separated: " + ", ".join(IMPLEMENTATIONS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.weights, args.repeat)))
        return 0

    from keras_conformance import reference
    R = reference.keras("3")
    against = [a for a in args.against.split(",") if a]
    unknown = set(against) - set(IMPLEMENTATIONS)
    if unknown:
        parser.error(f"--against: unknown {sorted(unknown)}; expected some of {', '.join(IMPLEMENTATIONS)}")
    for model_name in MODELS if args.model == "all" else (args.model,):
        ours_model = build(R, model_name)
        weights = ours_model.get_weights()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "weights.npz")
            np.savez(path, **{f"w{i}": w for i, w in enumerate(weights)})
            ours = time_all(R, model_name, weights, args.repeat)
            results = {a: _run_worker(a, model_name, path, args.repeat) for a in against}
        x, _, batch = data(model_name)
        print(f"\n{model_name}: {MODELS[model_name][0].__doc__ or 'Dense 128 relu -> 128 relu -> 10 softmax'} "
              f"batch {batch}, {len(x)} samples; best of {args.repeat}; NumPy {np.__version__}")
        ok = {a: r for a, r in results.items() if "times" in r}
        for a, r in results.items():
            if "error" in r:
                print(f"  {a}: not measured ({r['error']})")
        header = "".join(f"{r['label'][:22]:>24s}" for r in ok.values())
        print(f"  {'workload':20s}{'reference':>12s}{header}   ratio to the fastest")
        for name, t_ours in ours.items():
            times = {a: r["times"][name] for a, r in ok.items()}
            cols = "".join(f"{t * 1e3:21.2f} ms" for t in times.values())
            fastest = min(times.values()) if times else float("nan")
            print(f"  {name:20s}{t_ours * 1e3:9.2f} ms{cols}   {t_ours / fastest:6.2f}")
        if args.profile:
            profile(R, model_name)
        if args.memory:
            memory(R, model_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
