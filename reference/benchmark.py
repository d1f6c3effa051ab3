"""How fast the NumPy reference is next to real Keras, and next to the floor.

    python -m keras_conformance.reference.benchmark [--model cnn|mlp|lstm|all] [--against tensorflow,jax,torch,tf_keras]
                                                     [--repeat 5] [--runs 1] [--profile] [--memory]

Each workload is built the same way in the reference and in every implementation it is compared with
(same layers, same weights through set_weights, same data), timed as the best of ``--repeat`` runs after
one warm-up. Besides the Keras implementations of ``--against`` there is the floor
(reference/benchmark_floor.py): the same models and workloads written out by hand in plain NumPy, with
their backward passes derived on paper, the lower bound of what NumPy can do with this arithmetic.

Every implementation runs in a child process of its own (``--worker``), one after the other: Keras 3
fixes its backend when imported, and no thread pool (TensorFlow's, XLA's, torch's, NumPy's BLAS) then
competes with another one for the cores. The reference and the floor limit their BLAS as the suite does
(reference/threads.py: one thread unless ``KERAS_CONFORMANCE_BLAS_THREADS`` asks for more).

The table prints every implementation's time, the ratio of the reference to the fastest Keras and the
ratio of the reference to the floor (above 1: the reference is slower). ``--runs N`` makes the whole
measurement N times in a row, a table per model and run, then, per model and workload, both ratios of
each run and their spread, (max - min) / min: how far one run can be trusted. A measurement to read,
never a test with a time limit.

``--profile`` adds where the reference's train step spends its time (cProfile, by primitive and by
function); ``--memory`` its peak allocation during one train step (tracemalloc, which sees NumPy's
buffers) next to the bytes of the arrays that step must hold: weights, their gradients, the optimizer's
state, the batch and every layer's output. Both run in this process, after the measurements.
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

IMPLEMENTATIONS = ("tensorflow", "jax", "torch", "tf_keras")   # the Keras ones, for --against
REFERENCE = "reference"
FLOOR = "numpy floor"


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


WORKLOADS = ("predict_on_batch", "train_on_batch", "fit 1 epoch", "predict")


def workloads(model_name):
    """workload -> a function of a model, returning the call to time (keys in the order of WORKLOADS)."""
    x, y, batch = data(model_name)
    xb, yb = x[:batch], y[:batch]
    return {
        "predict_on_batch": lambda m: (lambda: m.predict_on_batch(xb)),
        "train_on_batch": lambda m: (lambda: m.train_on_batch(xb, yb)),
        "fit 1 epoch": lambda m: (lambda: m.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)),
        "predict": lambda m: (lambda: m.predict(x, batch_size=batch, verbose=0)),
    }


def time_all(make_model, model_name, repeat) -> dict:
    """The best time of each workload, each on a model of its own from ``make_model()``."""
    out = {}
    for name, make in workloads(model_name).items():
        out[name] = _best_of(make(make_model()), repeat)
    return out


# -- a child process: one implementation ----------------------------------------------------------------------
def _load(implementation):
    """``(make_model(model_name, weights), label)`` for one implementation, imported in this process."""
    if implementation in (REFERENCE, FLOOR):
        # Before anything computes: the process's BLAS on the reference's threads, as in the suite.
        from keras_conformance.reference import threads
        threads.limit_process()
        if implementation == FLOOR:
            from keras_conformance.reference import benchmark_floor
            return benchmark_floor.build, FLOOR
        from keras_conformance import reference
        R = reference.keras("3")
        return (lambda name, weights: build(R, name, weights)), REFERENCE
    if implementation == "tf_keras":
        import tf_keras
        return (lambda name, weights: build(tf_keras, name, weights)), f"tf_keras {tf_keras.__version__}"
    os.environ["KERAS_BACKEND"] = implementation
    import keras
    return (lambda name, weights: build(keras, name, weights)), f"keras {keras.__version__} on {implementation}"


def worker(implementation, model_name, weights_file, repeat) -> dict:
    make, label = _load(implementation)
    with np.load(weights_file) as f:
        weights = [f[f"w{i}"] for i in range(len(f.files))]
    return {"label": label, "times": time_all(lambda: make(model_name, weights), model_name, repeat)}


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


def measure(model_name, weights, against, repeat) -> dict:
    """One run: the reference, the floor and every implementation of ``against``, each in its own child
    process, one after the other; implementation -> ``{"label", "times"}`` or ``{"label", "error"}``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weights.npz")
        np.savez(path, **{f"w{i}": w for i, w in enumerate(weights)})
        return {a: _run_worker(a, model_name, path, repeat) for a in (REFERENCE, FLOOR, *against)}


def ratios(results) -> dict:
    """workload -> (reference / fastest Keras, the fastest Keras's name, reference / floor); nan where a
    side was not measured."""
    ours = results[REFERENCE].get("times")
    floor = results[FLOOR].get("times")
    keras = {a: r["times"] for a, r in results.items() if a not in (REFERENCE, FLOOR) and "times" in r}
    out = {}
    for name in WORKLOADS:
        t = ours[name] if ours else float("nan")
        fastest = min(keras, key=lambda a: keras[a][name]) if keras else None
        to_keras = t / keras[fastest][name] if fastest else float("nan")
        to_floor = t / floor[name] if floor else float("nan")
        out[name] = (to_keras, fastest, to_floor)
    return out


def _description(model_name):
    x, _, batch = data(model_name)
    return (f"{MODELS[model_name][0].__doc__ or 'Dense 128 relu -> 128 relu -> 10 softmax'} "
            f"batch {batch}, {len(x)} samples")


def print_table(model_name, results, repeat, run=None, runs=1):
    which = f" (run {run + 1} of {runs})" if runs > 1 else ""
    print(f"\n{model_name}{which}: {_description(model_name)}; best of {repeat}; NumPy {np.__version__}")
    for a, r in results.items():
        if "error" in r:
            print(f"  {a}: not measured ({r['error']})")
    shown = {a: r for a, r in results.items() if "times" in r}
    widths = {a: max(len(r["label"]), 10) + 3 for a, r in shown.items()}
    several = sum(a not in (REFERENCE, FLOOR) for a in shown) > 1
    header = "".join(f"{r['label']:>{widths[a]}s}" for a, r in shown.items())
    print(f"  {'workload':18s}{header}{'ratio to the fastest Keras':>29s}{'ratio to the floor':>21s}")
    for name, (to_keras, fastest, to_floor) in ratios(results).items():
        cols = "".join(f"{r['times'][name] * 1e3:>{widths[a] - 3}.2f} ms" for a, r in shown.items())
        keras = f"{to_keras:.2f}" + (f" ({fastest})" if several and fastest else "")
        print(f"  {name:18s}{cols}{keras:>29s}{to_floor:>21.2f}")


def print_spread(model_name, per_run):
    """Both ratios of each run, and their spread (max - min) / min."""
    n = len(per_run)
    table = [ratios(results) for results in per_run]
    runs = "".join(f"{'run ' + str(i + 1):>8s}" for i in range(n))
    print(f"\n{model_name}: the ratios of the reference in {n} runs; spread = (max - min) / min")
    print(f"  {'':18s}{'to the fastest Keras':^{8 * n + 9}s}   {'to the floor':^{8 * n + 9}s}")
    print(f"  {'workload':18s}{runs}{'spread':>9s}   {runs}{'spread':>9s}")
    for name in WORKLOADS:
        cells = ""
        for k in (0, 2):
            values = [row[name][k] for row in table]
            finite = all(np.isfinite(values))             # a run that measured nothing has no spread
            spread = 100 * (max(values) - min(values)) / min(values) if finite else float("nan")
            cells += "".join(f"{v:8.2f}" for v in values) + f"{spread:8.1f}%" + ("   " if k == 0 else "")
        print(f"  {name:18s}{cells}")


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
    parser.add_argument("--runs", type=int, default=1,
                        help="the whole measurement this many times in a row, and the spread of its ratios")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.weights, args.repeat)))
        return 0

    against = [a for a in args.against.split(",") if a]
    unknown = set(against) - set(IMPLEMENTATIONS)
    if unknown:
        parser.error(f"--against: unknown {sorted(unknown)}; expected some of {', '.join(IMPLEMENTATIONS)}")
    if args.runs < 1:
        parser.error(f"--runs: expected a positive integer, got {args.runs}")
    from keras_conformance import reference
    R = reference.keras("3")
    names = list(MODELS) if args.model == "all" else [args.model]
    # One set of initial weights per model, shared by every implementation and every run.
    weights = {name: build(R, name).get_weights() for name in names}
    per_run = {name: [] for name in names}
    for run in range(args.runs):
        for name in names:
            results = measure(name, weights[name], against, args.repeat)
            per_run[name].append(results)
            print_table(name, results, args.repeat, run, args.runs)
    if args.runs > 1:
        for name in names:
            print_spread(name, per_run[name])
    for name in names:
        if args.profile:
            profile(R, name)
        if args.memory:
            memory(R, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
