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
- ``test_safety[models.load_model-fuzz]``: FUZZ_CASES mutants (conformance/fuzzing.py: bit flips,
  overwritten runs, truncations, zeroed blocks, member bytes inside a valid ``.keras`` zip) of the
  implementation's own save file, per format the version documents for ``Model.save`` (a Dense model
  compiled with Adam and trained a step, so it has optimizer state), each loaded with the implementation
  in a child process: none may crash the interpreter, hang, run code (one seed carries a Lambda payload)
  or be refused with an error that does not name the file (see ``clear_error``'s first rule).
- ``test_safety[models.model_from_json-code]`` / ``[models.model_from_yaml-code]`` (where documented): the
  implementation's own ``Model.to_json`` string of a Dense model with the same Lambda payload appended
  (written as YAML for model_from_yaml): the loader must not run it; refusing is fine, as no version
  documents an opt-in argument for these loaders (the issue's rule: one rule for every loader).
- ``test_safety[Model.save-archive_members]`` (where the version documents the ``.keras`` archive): the
  archive ``Model.save`` writes holds ``config.json``, ``metadata.json`` and ``model.weights.h5`` and no
  member outside its root;
- ``test_safety[models.load_model-archive_outside_root]``: that archive with one more member,
  ``../escaped-from-the-archive.txt``: loading it never writes that file outside the archive's folder (it
  may refuse the archive clearly, or load the model as saved);
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
    ("models.load_model", "fuzz"): ("construct", "save"),
    ("models.load_model", "archive_outside_root"): ("construct", "save"),
    ("Model.save", "archive_members"): ("construct", "save"),
    ("Model.save", "interrupted"): ("construct", "call", "save"),
    ("models.model_from_json", "code"): ("construct",),
    ("models.model_from_yaml", "code"): ("construct",),
}


def conformance_cases(ctx, function_name):
    out = []
    for (name, procedure), needs in PROCEDURES.items():
        item = ctx.spec.get(name)
        if item is None or "models.load_model" not in ctx.spec:
            continue
        if procedure.startswith("archive") and "keras" not in (ctx.spec["Model.save"].formats or ()):
            continue   # the version documents no zip archive
        if name in STRING_LOADERS and "Model.to_json" not in ctx.spec:
            continue
        out.append(Case(f"{name}-{procedure}", name, CONFORMANCE_CATEGORY, needs, {"procedure": procedure}))
    return out


def test_safety(conformance, case, conformance_check, tmp_path):
    ctx = conformance
    if case.item in STRING_LOADERS:
        _string_code(ctx, case, conformance_check, tmp_path)
        return
    ctx.locate("models.load_model")
    {"code": _code, "truncated": _corrupt, "not_hdf5": _corrupt, "fuzz": _fuzz,
     "interrupted": _interrupted, "archive_members": _archive_members,
     "archive_outside_root": _archive_outside_root}[case.data["procedure"]](ctx, case, conformance_check, tmp_path)


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
    # keras 2.3.1's layout (layers/core.py Lambda.get_config); tf.keras adds 'module' keys it also reads
    return {"class_name": "Lambda",
            "config": {"name": name, "trainable": True, "dtype": "float32", "function": [code, None, None],
                       "function_type": "lambda", "output_shape": None, "output_shape_type": "raw",
                       "arguments": {}}}


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


#: the loaders of a model's architecture from a string (the JSON / YAML Model.to_json / to_yaml write)
STRING_LOADERS = {"models.model_from_json": "json", "models.model_from_yaml": "yaml"}


def with_lambda(text_json: str, fn, api_version: str, language: str) -> str:
    """``Model.to_json``'s string with a Lambda entry appended to its layers, written in ``language``."""
    cfg = json.loads(text_json)
    inner = cfg["config"]
    (inner["layers"] if isinstance(inner, dict) else inner).append(lambda_entry(fn, api_version))
    if language == "json":
        return json.dumps(cfg)
    import yaml
    return yaml.safe_dump(cfg)


def _string_code(ctx, case, check, tmp_path):
    """``models.model_from_json`` / ``model_from_yaml`` of the implementation's own architecture string with
    a Lambda whose function creates a marker file when called (rebuilding a model calls its layers): the
    loader must not run it. Refusing is fine; no version documents an opt-in argument for these loaders."""
    language = STRING_LOADERS[case.item]
    marker = str(tmp_path / "payload-ran.txt")
    fn, source = payload(marker)
    load = ctx.locate(case.item)
    check.exercise(case.item, f"{language}_string")
    check.exercise("Model.to_json")
    check.reproducer = "\n".join([
        ctx.preamble(), "from keras_conformance.conformance.test_safety import payload, with_lambda",
        f"fn, _ = payload({marker!r})   # {source}", oracle.code(RECIPE, ctx.api_version),
        f"text = with_lambda(model.to_json(), fn, {ctx.api_version!r}, {language!r})",
        "import os", f"K.{case.item}(text)", f"print(os.path.exists({marker!r}))"])
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, RECIPE)
    text = with_lambda(model.to_json(), fn, ctx.api_version, language)
    try:
        load(text)
    except Exception as exc:  # noqa: BLE001 - a refusal keeps the code from running
        refused = one_line(exc)
    else:
        refused = None
    if os.path.exists(marker):
        raise AssertionError(
            f"{case.item} ran the code its {language} string carries (a Lambda payload created {marker})"
            + (f" and then raised {refused}" if refused else "")
            + f"; the project's rule: loading never runs code unless the caller opts in\nreproducer:\n"
            + check.reproducer)


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


# -- fuzzed files -------------------------------------------------------------------------------------------
#: Mutants per format in every certification (each is one load in a child process; kept small).
FUZZ_CASES = 24
#: --fuzz-cases N (the plugin sets it) caps FUZZ_CASES in a quick run.
FUZZ_CASES_ENV = "KERAS_CONFORMANCE_SUITE_FUZZ_CASES"


def fuzz_cases() -> int:
    cap = os.environ.get(FUZZ_CASES_ENV)
    return FUZZ_CASES if not cap else max(1, min(FUZZ_CASES, int(cap)))
FUZZ_SEED = 10
#: Seconds one load may take in the child; starting it (importing the framework) gets FUZZ_STARTUP.
FUZZ_TIMEOUT, FUZZ_STARTUP = 30.0, 600.0


def fuzz_load_code(adapter_name: str, api_version: str) -> str:
    """The child's loader: the implementation under test, resolved as the run resolves it."""
    return ("from keras_conformance import adapters\n"
            f"_a = adapters.resolve({adapter_name!r}); _a.configure({api_version!r}); K = _a.keras\n"
            "def load(path):\n"
            "    K.models.load_model(path)\n")


def _fuzz(ctx, case, check, tmp_path):
    from keras_conformance.conformance import fuzzing
    check.exercise("models.load_model", "filepath")
    check.exercise("Model.save", "filepath")
    formats = [f for f in ctx.spec["Model.save"].formats if f in (ctx.spec["models.load_model"].formats or ("h5",))]
    recipe = {"input_shape": (4,), "layers": [("Dense", {"units": 5, "activation": "relu"}),
                                              ("Dense", {"units": 3})]}
    x, y = oracle.inputs((8, 4), _SEED), oracle.inputs((8, 3), _SEED + 1)
    marker = str(tmp_path / "payload-ran.txt")
    fn, _ = payload(marker)
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    # the loss by its full name: keras 3.15.1 cannot re-compile a legacy .h5 whose loss is the alias "mse"
    # (not even one it wrote), and a seed the implementation cannot load at all would fuzz nothing
    model.compile(optimizer=ctx.K.optimizers.Adam(), loss="mean_squared_error")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)   # one step: the optimizer has state to save
    seeds, skipped = [], []
    for fmt in formats or ["h5"]:
        path = str(tmp_path / f"seed.{fmt}")
        try:
            model.save(path)
        except Exception as exc:  # noqa: BLE001 - saving is other checks' business; fuzz what saves
            skipped.append(f"{fmt}: Model.save raised {one_line(exc)}")
            continue
        seeds.append((fmt, [path]))
        if fmt == "h5":
            carrier = str(tmp_path / "seed_lambda.h5")
            model.save(carrier)
            inject_lambda(carrier, fn, ctx.api_version)
            seeds[-1][1].append(carrier)
    if not seeds:
        pytest.skip("Model.save wrote none of the documented formats: " + "; ".join(skipped))
    files, recipes = [], {}
    for fmt, paths in seeds:
        written, how = fuzzing.write_mutants(paths, fuzz_cases(), FUZZ_SEED, tmp_path, f"mutant_{fmt}")
        files += written
        recipes.update(how)
    code = fuzz_load_code(ctx.adapter_name, ctx.api_version)
    outcomes = fuzzing.run_cases(code, files, timeout=FUZZ_TIMEOUT, startup_timeout=FUZZ_STARTUP,
                                 markers=[marker])
    bad = [o for o in outcomes if o.kind not in ("loaded", "refused-named") or o.code_ran]
    counts = fuzzing.tally(outcomes)
    check.notes.append(f"fuzz: {len(outcomes)} mutants of {', '.join(f for f, _ in seeds)} files: {counts}")
    check.reproducer = "\n".join([
        ctx.preamble(), "from keras_conformance.conformance import fuzzing",
        "# the seed: " + oracle.code(recipe, ctx.api_version).replace("\n", "\n# "),
        "# model.compile(optimizer=K.optimizers.Adam(), loss='mean_squared_error'); model.fit(x, y) one epoch; model.save(seed)",
        f"data, how = fuzzing.mutation(open(seed, 'rb').read(), {FUZZ_SEED}, index)   # index: below",
        "open(path, 'wb').write(data); K.models.load_model(path)"])
    if bad:
        lines = [f"  {o}  <- {recipes[o.file]}" for o in bad[:20]]
        raise AssertionError(
            f"models.load_model on {len(outcomes)} mutated save files: {counts}; each must load or raise "
            "an Exception naming the file, never crash, hang or run the file's code:\n" + "\n".join(lines)
            + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
            + (f"\n(not fuzzed: {'; '.join(skipped)})" if skipped else "")
            + f"\nreproducer:\n{check.reproducer}")


# -- the .keras zip archive ---------------------------------------------------------------------------------
#: What a keras 3 `.keras` archive holds (keras 3.15 saving_lib: _CONFIG_FILENAME, _METADATA_FILENAME,
#: _VARS_FNAME_H5), and the name of the member the crafted archive adds outside the root.
ARCHIVE_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
ESCAPING_MEMBER = "../escaped-from-the-archive.txt"


def _member_outside_root(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _saved_archive(ctx, check, tmp_path):
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, RECIPE)
    path = str(tmp_path / "model.keras")
    check.exercise("Model.save", "filepath")
    model.save(path)
    return model, path


def _archive_members(ctx, case, check, tmp_path):
    """A `.keras` file the implementation writes is a zip whose members all lie inside the archive root and
    include the three documented ones (a member named `../x` would be written outside the folder by any
    tool that extracts the archive)."""
    import zipfile
    check.reproducer = "\n".join([ctx.preamble(), oracle.code(RECIPE, ctx.api_version), "model.save('model.keras')",
                                  "import zipfile; print(zipfile.ZipFile('model.keras').namelist())"])
    _, path = _saved_archive(ctx, check, tmp_path)
    if not zipfile.is_zipfile(path):
        raise AssertionError(f"Model.save({path!r}) did not write a zip archive (the .keras format is one)"
                             f"\nreproducer:\n{check.reproducer}")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    outside = [n for n in names if _member_outside_root(n)]
    missing = [n for n in ARCHIVE_MEMBERS if n not in names]
    if outside or missing:
        raise AssertionError(f"Model.save wrote a .keras archive with members {names}: "
                             + (f"{outside} lie outside the archive root" if outside else "")
                             + ("; " if outside and missing else "") + (f"{missing} missing" if missing else "")
                             + f"\nreproducer:\n{check.reproducer}")


def _archive_outside_root(ctx, case, check, tmp_path):
    """The implementation's own `.keras` file with one more member, `../escaped-from-the-archive.txt`: loading
    it must not write that file outside the archive's folder; it may refuse the archive (with a clear
    error) or load the model as saved."""
    import zipfile
    folder = tmp_path / "inside"
    folder.mkdir()
    check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(RECIPE, ctx.api_version), "model.save('inside/model.keras')",
        "import zipfile", "with zipfile.ZipFile('inside/model.keras', 'a') as zf:",
        f"    zf.writestr(zipfile.ZipInfo({ESCAPING_MEMBER!r}), b'escaped')",
        "K.models.load_model('inside/model.keras')", "import os; print(os.path.exists('escaped-from-the-archive.txt'))"])
    ctx.seed(_SEED)
    model = oracle.build(ctx.K, ctx.api_version, RECIPE)
    path = str(folder / "model.keras")
    check.exercise("Model.save", "filepath")
    check.exercise("models.load_model", "filepath")
    model.save(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(zipfile.ZipInfo(ESCAPING_MEMBER), b"escaped")
    escaped = tmp_path / os.path.basename(ESCAPING_MEMBER)
    x = oracle.inputs(_X_SHAPE, _SEED)
    try:
        loaded = ctx.K.models.load_model(path)
    except Exception as exc:  # noqa: BLE001 - refusing the archive is fine, if said clearly
        why = clear_error(exc, path)
        if why is not None:
            raise AssertionError(f"models.load_model of an archive with a member outside its root raised an "
                                 f"unclear error: {why}: {one_line(exc)}\nreproducer:\n{check.reproducer}") from None
        loaded = None
    if escaped.exists():
        raise AssertionError(f"models.load_model wrote the archive member {ESCAPING_MEMBER!r} outside the "
                             f"archive's folder ({escaped})\nreproducer:\n{check.reproducer}")
    if loaded is not None:
        assert_close(ctx.k_numpy(oracle.predict(loaded, x)), ctx.k_numpy(oracle.predict(model, x)),
                     kind="roundtrip", device=ctx.device, reproducer=check.reproducer,
                     what="models.load_model of the archive with a member outside its root: predictions")


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
