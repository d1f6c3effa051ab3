"""Safety: loading a save file must not run code it carries, and a broken file must be refused clearly.

Generated from the spec's save/load items (``models.load_model``, ``Model.save``):

- ``test_safety[models.load_model-code]``: a model file whose config carries code, a ``Lambda`` layer
  whose function (serialized Python bytecode, as Keras writes a ``lambda``) would create a marker file
  if it ran. The file is built with the implementation's own ``layers.Lambda`` where it has one; else
  the implementation's own ``.h5`` file of a Dense model gets a Lambda entry written into its
  ``model_config`` (Keras 2 layout for 2.x, Keras 3's ``__lambda__`` layout for 3).
  * where the version documents ``load_model(safe_mode=...)`` (3): ``load_model(path)`` must refuse
    (raise) without running the payload, and, where the implementation has ``layers.Lambda``,
    ``load_model(path, safe_mode=False)`` must load it (the caller opted in) and predict as saved;
  * where it does not (2.2.4, 2.3): what is checked is only that ``load_model(path)`` does not execute
    the file's code (the marker file must not exist afterwards); refusing the file is fine.
- ``test_safety[models.load_model-truncated]`` / ``[models.load_model-not_hdf5]``: the first half of a
  real ``.h5`` save file, and a text file named ``.h5``: ``load_model`` raises a *clear* error (below).
- ``test_safety[Model.save-interrupted]``: a save over an existing file is interrupted (the model's
  ``get_config`` raises in the middle of ``save``); the existing file must still load and predict as
  before: nothing is lost. Skipped where ``save`` never calls the instance's ``get_config`` (the suite
  has no portable way to interrupt it then).
"""
from __future__ import annotations

import codecs
import json
import marshal
import os

import numpy as np
import pytest

from keras_conformance.conformance import oracle
from keras_conformance.conformance.context import Case, one_line
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "safety"

RECIPE = {"input_shape": (4,), "layers": [("Dense", {"units": 3})]}
_X_SHAPE, _SEED = (5, 4), 7

# What a "clear" load error is, applied to every corrupt-file check alike: load_model raises an
# Exception (not a crash, not BaseException) whose own message either names the file (its full path or
# its base name) or says what is wrong in words a user can act on: one of PROBLEM_WORDS
# (case-insensitive). An empty message, or one that is only an OS error string such as
# "[Errno 5] Input/output error", is not clear.
PROBLEM_WORDS = ("truncated", "corrupt", "not an hdf5", "not a valid", "not a keras", "signature",
                 "invalid", "unknown format", "end of file", "not a model")


def clear_error(exc: BaseException, path: str) -> str | None:
    """None when ``exc`` is a clear error about ``path``, else why it is not."""
    if not isinstance(exc, Exception):
        return f"{type(exc).__name__} is not an Exception"
    msg = str(exc)
    if not msg.strip():
        return "its message is empty"
    low = msg.lower()
    if path in msg or os.path.basename(path) in msg:
        return None
    if any(w in low for w in PROBLEM_WORDS):
        return None
    return "its message names neither the file nor the problem (one of: " + ", ".join(PROBLEM_WORDS) + ")"


PROCEDURES = {
    # (documented item, procedure) -> capabilities it needs
    ("models.load_model", "code"): ("construct", "save"),
    ("models.load_model", "truncated"): ("construct", "save"),
    ("models.load_model", "not_hdf5"): (),
    ("Model.save", "interrupted"): ("construct", "call", "save"),
}


def conformance_cases(ctx, function_name):
    out = []
    for (name, procedure), needs in PROCEDURES.items():
        item = ctx.spec.get(name)
        if item is None or "models.load_model" not in ctx.spec:
            continue
        out.append(Case(f"{name}-{procedure}", name, CONFORMANCE_CATEGORY, needs, {"procedure": procedure}))
    return out


def test_safety(conformance, case, conformance_check, tmp_path):
    ctx = conformance
    ctx.locate("models.load_model")
    {"code": _code, "truncated": _corrupt, "not_hdf5": _corrupt,
     "interrupted": _interrupted}[case.data["procedure"]](ctx, case, conformance_check, tmp_path)


# -- a file that carries code -----------------------------------------------------------------------------
def payload(marker: str):
    """An identity ``lambda`` that creates ``marker`` when it runs (the code a hostile file would carry)."""
    source = f"lambda x: (open({marker!r}, 'w').close(), x)[1]"
    return eval(compile(source, "<keras-conformance payload>", "eval")), source  # noqa: S307


def lambda_entry(fn, api_version: str, name: str = "lambda_1") -> dict:
    """A Lambda layer's config entry, its function serialized as Keras serializes a ``lambda``
    (``func_dump``: base64 of the marshalled code object)."""
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    if api_version == "3":
        return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
                "config": {"name": name, "trainable": True, "dtype": "float32", "arguments": {},
                           "function": {"class_name": "__lambda__",
                                        "config": {"code": code, "defaults": None, "closure": None}}}}
    return {"class_name": "Lambda",
            "config": {"name": name, "trainable": True, "dtype": "float32", "function": [code, None, None],
                       "function_type": "lambda", "module": "__main__", "output_shape": None,
                       "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}


def inject_lambda(path: str, fn, api_version: str) -> None:
    """Append a Lambda entry to the layers of the ``model_config`` of an ``.h5`` model file."""
    import h5py
    with h5py.File(path, "r+") as f:
        raw = f.attrs["model_config"]
        text = raw.decode("utf8") if isinstance(raw, (bytes, np.bytes_)) else str(raw)
        cfg = json.loads(text)
        inner = cfg["config"]
        layers = inner["layers"] if isinstance(inner, dict) else inner
        layers.append(lambda_entry(fn, api_version))
        f.attrs["model_config"] = json.dumps(cfg).encode("utf8")


def _code(ctx, case, check, tmp_path):
    marker = str(tmp_path / "payload-ran.txt")
    path = str(tmp_path / "carries_code.h5")
    fn, source = payload(marker)
    x = oracle.inputs(_X_SHAPE, _SEED)
    own_lambda = getattr(getattr(ctx.K, "layers", None), "Lambda", None) is not None
    load = ctx.K.models.load_model
    safe_mode = any(p.name == "safe_mode" for p in ctx.spec["models.load_model"].params)
    check.exercise("models.load_model", "filepath", *(("safe_mode",) if safe_mode else ()))
    check.exercise("Model.save", "filepath")
    lines = [ctx.preamble(), "from keras_conformance.conformance.test_safety import payload, inject_lambda",
             f"fn, _ = payload({marker!r})   # {source}"]
    if own_lambda:
        recipe = {"input_shape": RECIPE["input_shape"], "layers": RECIPE["layers"] + [("Lambda", {"function": fn})]}
        lines.append(oracle.code(recipe, ctx.api_version).replace(f"function={fn!r}", "function=fn"))
    else:
        recipe = RECIPE
        lines.append(oracle.code(recipe, ctx.api_version))
    lines += [oracle.inputs_code("x", _X_SHAPE, _SEED), "before = np.asarray(model.predict(x, verbose=0))",
              f"model.save({path!r})"]
    if not own_lambda:
        lines.append(f"inject_lambda({path!r}, fn, {ctx.api_version!r})")
    lines += ["import os", f"if os.path.exists({marker!r}): os.remove({marker!r})",
              f"K.models.load_model({path!r})", f"print(os.path.exists({marker!r}))"]
    check.reproducer = "\n".join(lines)
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    before = ctx.k_numpy(oracle.predict(model, x))
    model.save(path)
    if not own_lambda:
        inject_lambda(path, fn, ctx.api_version)
    if os.path.exists(marker):      # building / predicting with the implementation's own Lambda ran it
        os.remove(marker)
    tail = f"\nreproducer:\n{check.reproducer}"
    try:
        load(path)
    except Exception as exc:  # noqa: BLE001 - a refusal is what safe_mode documents
        refused = one_line(exc)
    else:
        refused = None
    if os.path.exists(marker):
        raise AssertionError(
            f"models.load_model ran the code the file carries (its Lambda payload created {marker})"
            + (f" and then raised {refused}" if refused else "") + tail)
    if not safe_mode:
        return          # 2.x documents no safe_mode: what is required is that the code did not run
    if refused is None:
        raise AssertionError("models.load_model loaded a file whose model config carries code (a Lambda) "
                             "without safe_mode=False; API 3 documents that it refuses" + tail)
    if not own_lambda:
        return          # no layers.Lambda: the opt-in (safe_mode=False) cannot rebuild the layer
    check.reproducer += f"\nloaded = K.models.load_model({path!r}, safe_mode=False)"
    try:
        loaded = load(path, safe_mode=False)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"models.load_model(..., safe_mode=False) refused the file too: {one_line(exc)}"
                             f"\nreproducer:\n{check.reproducer}") from None
    assert_close(ctx.k_numpy(oracle.predict(loaded, x)), before, kind="roundtrip", device=ctx.device,
                 reproducer=check.reproducer, what="predictions after load_model(..., safe_mode=False)")


# -- truncated and non-HDF5 files ---------------------------------------------------------------------------
def _corrupt(ctx, case, check, tmp_path):
    check.exercise("models.load_model", "filepath")
    if case.data["procedure"] == "truncated":
        check.exercise("Model.save", "filepath")
        good = str(tmp_path / "model.h5")
        path = str(tmp_path / "truncated.h5")
        lines = [ctx.preamble(), oracle.code(RECIPE, ctx.api_version), f"model.save({good!r})",
                 f"data = open({good!r}, 'rb').read()",
                 f"open({path!r}, 'wb').write(data[:len(data) // 2])"]
        oracle.build(ctx.K, ctx.api_version, RECIPE).save(good)
        with open(good, "rb") as fh:
            data = fh.read()
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
        what = "the first half of a save file"
    else:
        path = str(tmp_path / "not_a_model.h5")
        text = b"this is a text file, not an HDF5 model file\n" * 20
        lines = [ctx.preamble(), f"open({path!r}, 'wb').write({text[:45]!r} * 20)"]
        with open(path, "wb") as fh:
            fh.write(text)
        what = "a text file named .h5"
    lines.append(f"K.models.load_model({path!r})")
    check.reproducer = "\n".join(lines)
    try:
        ctx.K.models.load_model(path)
    except Exception as exc:  # noqa: BLE001 - judged below
        why = clear_error(exc, path)
        if why is not None:
            raise AssertionError(f"models.load_model on {what} raised {one_line(exc)}: not a clear error, "
                                 f"{why}\nreproducer:\n{check.reproducer}") from None
        return
    raise AssertionError(f"models.load_model on {what} raised nothing\nreproducer:\n{check.reproducer}")


# -- an interrupted save ------------------------------------------------------------------------------------
class SaveInterrupted(Exception):
    """Raised from inside Model.save by the check (stands for a crash or Ctrl-C mid-save)."""


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SaveInterrupted):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _interrupted(ctx, case, check, tmp_path):
    path = str(tmp_path / "model.h5")
    x = oracle.inputs(_X_SHAPE, _SEED)
    check.exercise("Model.save", "filepath")
    check.exercise("models.load_model", "filepath")
    check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(RECIPE, ctx.api_version), oracle.inputs_code("x", _X_SHAPE, _SEED),
        f"model.save({path!r}); before = np.asarray(model.predict(x, verbose=0))",
        oracle.code(RECIPE, ctx.api_version, "K", "other"),
        "def interrupt(*a, **k): raise KeyboardInterrupt('interrupted mid-save')",
        "other.get_config = interrupt",
        f"try:\n    other.save({path!r})\nexcept KeyboardInterrupt:\n    pass",
        f"print(np.max(np.abs(np.asarray(K.models.load_model({path!r}).predict(x, verbose=0)) - before)))"])
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, RECIPE)
    model.save(path)
    before = ctx.k_numpy(oracle.predict(model, x))
    ctx.seed(_SEED + 1)
    other = oracle.build(ctx.K, ctx.api_version, RECIPE)

    def interrupt(*args, **kwargs):
        raise SaveInterrupted("interrupted mid-save by the conformance check")
    other.get_config = interrupt
    try:
        other.save(path)
    except Exception as exc:  # noqa: BLE001
        if not _caused_by_interrupt(exc):
            raise
    else:
        pytest.skip("Model.save completed without calling the model's get_config: the suite cannot "
                    "interrupt this implementation's save portably")
    tail = f"\nreproducer:\n{check.reproducer}"
    if not os.path.exists(path):
        raise AssertionError(f"an interrupted Model.save deleted the existing file {path}{tail}")
    try:
        loaded = ctx.K.models.load_model(path)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"an interrupted Model.save destroyed the existing file: models.load_model "
                             f"now raises {one_line(exc)}{tail}") from None
    assert_close(ctx.k_numpy(oracle.predict(loaded, x)), before, kind="roundtrip", device=ctx.device,
                 reproducer=check.reproducer,
                 what="predictions of the file that an interrupted Model.save should have left alone")
