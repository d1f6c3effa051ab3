"""Loading never crashes the interpreter: fuzzed save files against the reference's load_model, the
fuzz harness itself (conformance/fuzzing.py) and the HDF5 probe (reference/saving/isolation.py).

Quick by default (QUICK_CASES mutants per version and format); KERAS_CONFORMANCE_FUZZ_CASES=1000 runs
the acceptance figures. Every mutant must be loaded or refused with an error naming the file; none may
crash or hang the loader, and none may run the code a seed file carries (a Lambda payload).
"""
from __future__ import annotations

import os
import time

import h5py
import numpy as np
import pytest

from keras_conformance import spec
from keras_conformance.conformance import fuzzing
from keras_conformance.conformance.test_safety import inject_lambda, payload
from keras_conformance.reference.saving import isolation

QUICK_CASES = 40
CASES = int(os.environ.get("KERAS_CONFORMANCE_FUZZ_CASES", QUICK_CASES))
VERSIONS = ("2.2.4", "2.3", "3")
TIMEOUT = 30.0
FUZZ_SEED = 10


def _formats(version):
    return spec.load(version)["Model.save"].formats


def _reference(version):
    from keras_conformance import reference
    return reference.keras(version)


def _train(model, d_in, d_out):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, d_in)).astype("float32")
    y = rng.normal(size=(8, d_out)).astype("float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)   # one step: the optimizer's slots exist


def _seeds(version, fmt, folder):
    """Valid reference save files: a Sequential and a functional model, compiled with an optimizer
    that has state and trained a step, and (h5) the Sequential one carrying a Lambda payload."""
    K = _reference(version)
    seq = K.models.Sequential([K.layers.Dense(8, activation="relu", input_shape=(4,)),
                               K.layers.BatchNormalization(), K.layers.Dropout(0.1),
                               K.layers.Dense(3, activation="softmax")])
    seq.compile(optimizer=K.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    _train(seq, 4, 3)
    inp = K.layers.Input(shape=(4,))
    h = K.layers.Dense(6, activation="tanh")(inp)
    a, b = K.layers.Dense(3)(h), K.layers.Dense(3, activation="relu")(h)
    out = K.layers.Dense(2)(K.layers.concatenate([a, b]))
    fun = K.models.Model(inp, out)
    fun.compile(optimizer=K.optimizers.RMSprop(0.01), loss="mse")
    _train(fun, 4, 2)
    paths = []
    for name, model in (("sequential", seq), ("functional", fun)):
        path = str(folder / f"seed_{name}.{fmt}")
        try:
            model.save(path)
        except NotImplementedError as e:
            pytest.skip(f"the reference cannot save the {fmt!r} format of {version} yet: {e}")
        paths.append(path)
    for p in paths:
        with open(p, "rb") as fh:
            head = fh.read(8)
        if fmt == "keras" and not head.startswith(b"PK\x03\x04"):
            pytest.skip(f"the reference's {version} save to .keras writes a non-zip file ({head[:4]!r}): "
                        "the .keras writer is not there yet")
    marker = str(folder / "payload-ran.txt")
    if fmt == "h5":
        fn, _ = payload(marker)
        carrier = str(folder / "seed_lambda.h5")
        seq.save(carrier)
        inject_lambda(carrier, fn, version)
        paths.append(carrier)
    return paths, marker


def _load_code(version):
    return ("from keras_conformance import reference\n"
            f"K = reference.keras({version!r})\n"
            "def load(path):\n"
            "    K.models.load_model(path)\n")


def _summary(outcomes, recipes, elapsed):
    counts = fuzzing.tally(outcomes)
    bad = [o for o in outcomes if o.kind not in ("loaded", "refused-named") or o.code_ran]
    lines = [f"{len(outcomes)} cases in {elapsed:.1f} s: {counts}"]
    lines += [f"  {o} <- {recipes.get(o.file, '')}" for o in bad[:25]]
    return bad, "\n".join(lines)


# -- the reference's load_model over mutants -----------------------------------------------------------
@pytest.mark.parametrize("fmt", ["h5", "keras"])
@pytest.mark.parametrize("version", VERSIONS)
def test_reference_load_model_survives_mutants(version, fmt, tmp_path):
    if fmt not in _formats(version):
        pytest.skip(f"API {version} documents no {fmt!r} format for Model.save")
    seeds, marker = _seeds(version, fmt, tmp_path)
    K = _reference(version)
    for p in seeds:                     # the seeds are valid files: a mutant's refusal is about its bytes
        if "lambda" in p:
            with pytest.raises(Exception, match="seed_lambda"):
                K.models.load_model(p)
        else:
            K.models.load_model(p)
    assert not os.path.exists(marker), "the reference ran the Lambda payload of the seed file"
    folder = tmp_path / "mutants"
    folder.mkdir()
    files, recipes = fuzzing.write_mutants(seeds, CASES, FUZZ_SEED, folder, "mutant")
    t = time.perf_counter()
    outcomes = fuzzing.run_cases(_load_code(version), files, timeout=TIMEOUT, workers=2, markers=[marker])
    bad, text = _summary(outcomes, recipes, time.perf_counter() - t)
    print(f"\nreference {version} .{fmt}: {text}")
    assert not bad, f"reference {version} load_model on mutated .{fmt} files:\n{text}"


# -- the harness -------------------------------------------------------------------------------------------
_BEHAVIOURS = '''
import os, signal, time
def load(path):
    kind = open(path).read().split()[0]
    if kind == "named": raise ValueError("cannot read " + os.path.basename(path))
    if kind == "unnamed": raise KeyError("some key")
    if kind == "segv": os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang": time.sleep(600)
    if kind == "exit": os._exit(4)
    if kind == "marker": open(os.environ["FUZZ_MARKER"], "w").close()
    if kind == "sysexit": raise SystemExit(2)
'''


def test_run_cases_classifies_each_outcome_and_survives_crashes(tmp_path):
    kinds = ["ok", "named", "unnamed", "segv", "ok", "hang", "exit", "marker", "sysexit", "ok"]
    files = []
    for i, k in enumerate(kinds):
        p = tmp_path / f"case{i}.bin"
        p.write_text(f"{k} {i}\n")
        files.append(str(p))
    marker = str(tmp_path / "marker")
    outcomes = fuzzing.run_cases(_BEHAVIOURS, files, timeout=1.5, workers=2, markers=[marker],
                                 env={"FUZZ_MARKER": marker}, batch_size=5)
    got = [(o.kind, o.code_ran) for o in outcomes]
    assert got == [("loaded", False), ("refused-named", False), ("refused-unnamed", False), ("crashed", False),
                   ("loaded", False), ("hung", False), ("crashed", False), ("loaded", True),
                   ("crashed", False), ("loaded", False)], "\n".join(map(str, outcomes))
    assert "SIGSEGV" in outcomes[3].detail and "KeyError" in outcomes[2].detail
    assert "status 4" in outcomes[6].detail and "SystemExit" in outcomes[8].detail
    assert [o.file for o in outcomes] == files
    assert not os.path.exists(marker)


def test_run_cases_accepts_a_body_and_a_callable_spec(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{")
    body = fuzzing.run_cases("import json\njson.load(open(path))", [str(p)], timeout=30)
    spec_form = fuzzing.run_cases("json:loads", [str(p)], timeout=30)   # loads('/path/x.json'): not JSON
    assert body[0].kind == "refused-unnamed" and body[0].detail.startswith("JSONDecodeError")
    assert spec_form[0].kind == "refused-unnamed"


def test_run_cases_refuses_load_code_that_cannot_start(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"x")
    with pytest.raises(RuntimeError, match="could not get ready"):
        fuzzing.run_cases("import no_such_module_for_fuzz\ndef load(path):\n    pass\n", [str(p)], timeout=5)


def test_mutants_are_deterministic_different_and_prefix_stable():
    data = bytes(range(256)) * 8
    a, b = fuzzing.mutants(data, 40, seed=3), fuzzing.mutants(data, 40, seed=3)
    assert a == b
    assert fuzzing.mutants(data, 10, seed=3) == a[:10]
    assert a != fuzzing.mutants(data, 40, seed=4)
    assert all(m != data for m in a)
    recipes = [fuzzing.mutation(data, 3, i)[1] for i in range(40)]
    for op in ("flip", "random bytes", "truncate", "zero", "mix("):
        assert any(op in r for r in recipes), (op, recipes)


def test_zip_mutants_keep_a_valid_archive_for_member_mutations(tmp_path):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", '{"class_name": "Sequential"}' * 10)
        z.writestr("model.weights.h5", bytes(range(256)) * 4)
    data = buf.getvalue()
    member = 0
    for i in range(40):
        m, recipe = fuzzing.mutation(data, 1, i)
        if recipe.split(": ", 1)[1].startswith("member"):
            member += 1
            with zipfile.ZipFile(io.BytesIO(m)) as z:
                assert z.testzip() is None            # CRCs match: the archive itself is valid
                assert [i.filename for i in z.infolist()] == ["config.json", "model.weights.h5"]
    assert 5 <= member <= 35


# -- the HDF5 probe ----------------------------------------------------------------------------------------
def _h5_bytes(build):
    import io
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        build(f)
    return buf.getvalue()


def _valid(f):
    f.attrs["model_config"] = b'{"class_name": "Sequential"}'
    g = f.create_group("model_weights/dense_1")
    g["kernel:0"] = np.ones((3, 2), "float32")
    g.attrs["weight_names"] = np.array([b"kernel:0"])


@pytest.fixture
def probing():
    isolation.set_isolation(True)
    yield
    isolation.set_isolation(None)


def _error_class():
    try:
        from keras_conformance.reference.saving.files import SaveFileError
    except ImportError:
        from keras_conformance.reference.saving.hdf5 import SaveFileError
    return SaveFileError


def test_probe_passes_valid_and_ordinarily_broken_files(probing):
    data = _h5_bytes(_valid)
    assert isolation.probe_hdf5(data, "m.h5") is None
    assert isolation.probe_hdf5(data[: len(data) // 2], "m.h5") is None     # h5py raises: not its business
    assert isolation.probe_hdf5(b"not hdf5 at all", "m.h5") is None
    reply = isolation._probe(data, "m.h5")
    assert reply["ok"] and reply["objects"] == 4          # root, model_weights, dense_1, kernel:0


@pytest.mark.parametrize("how, words", [("segv", "crashed (SIGSEGV, signal 11)"), ("abort", "SIGABRT"),
                                        ("exit", "exit status 3"), ("hang", "did not finish within")])
def test_probe_turns_a_dying_reader_into_save_file_error(probing, how, words):
    data = _h5_bytes(_valid)
    err = _error_class()
    with pytest.raises(err, match="model.h5") as info:
        isolation._probe(data, "/some/where/model.h5", timeout=1.0 if how == "hang" else None, simulate=how)
    assert words in str(info.value) and "corrupt" in str(info.value)
    assert isolation.probe_hdf5(data, "m.h5") is None       # a fresh worker serves the next call


def test_probe_refuses_an_absurd_dataset_without_reading_it(probing):
    # a valid file: 16 GiB of chunked float64 declared, no chunk written (HDF5 would fill it with zeros)
    data = _h5_bytes(lambda f: f.create_dataset("w", shape=(1 << 31,), dtype="f8", chunks=(1024,)))
    assert len(data) < 100_000
    t = time.perf_counter()
    with pytest.raises(_error_class(), match=r"big\.h5.*/w declares 17179869184 bytes"):
        isolation.probe_hdf5(data, "big.h5")
    assert time.perf_counter() - t < 10


def test_probe_reuses_its_worker_and_does_not_follow_links(probing):
    def linked(f):
        _valid(f)
        f["soft"] = h5py.SoftLink("/model_weights")
        f["ext"] = h5py.ExternalLink("/etc/passwd", "/x")
    data = _h5_bytes(linked)
    isolation.probe_hdf5(data, "m.h5")
    pid = isolation._worker.proc.pid
    reply = isolation._probe(data, "m.h5")
    assert isolation._worker.proc.pid == pid
    assert reply["objects"] == 4 and reply["ok"], reply   # the links were not followed (nor failed)


def test_probe_can_be_switched_off(monkeypatch):
    isolation.set_isolation(None)
    monkeypatch.setenv(isolation.ENV_VAR, "0")
    assert not isolation.isolation_enabled()
    isolation._shutdown()
    assert isolation.probe_hdf5(b"anything", "m.h5") is None
    assert isolation._worker is None                       # no child was started
    monkeypatch.setenv(isolation.ENV_VAR, "1")
    assert isolation.isolation_enabled()


# A real HDF5 hang, found by this file's fuzzing (reference 3 .h5, seed_sequential, seed=10 index=138:
# "zero [2112:2176]", then the weights' raw bytes zeroed so it compresses): with HDF5 1.14.6 reading
# its root attribute model_config never returns. zlib-compressed, base64.
_HANGING_H5 = (
    "eNrtHTtwFEd2VhJikVawgMoWV5y9tz7bXBWI1QcjXMWdfCfOuioXqGxcVhnfjUa7rdXY81nmIyRTqlPIJVcOHBASKnRwASEhIcEF"
    "CgkJCRyQcd09/Wa6WzOzAn33tl8V1Xrdb/rz+v36t/xrduavQwO/GdAIFItan1bWeHjN4Mk9EYfyBZYWWPqApZs9kN9Py0ZYfpnV"
    "X+mN8Dn24e0vb9wg1K8liDsyIiQKugxmb3w2R9J5htdY+rRHpLPdBrL0e8hsLgc+xt1WYNrmj8jj8nh5vdCm3dNMXmW5LmmzrJ6T"
    "2rBW1H5AnuHrK8jzTdfB+ecKBfplOW6rKLTbn2TRvJI2zf4u0voWjfoPyGm0rWeAq6dH6NcQrSfiR911lsymRvul5db378Gkvl6h"
    "vjKtL/AM0zGdJlTZrr6ZnqS+vhx7UDvO+KvtzB78dD5Kp5RqdLU9+IXhcyxdvgM61ZsqZyM6+74AdAWBDvR9gTm2jUWxXahn9lyE"
    "Q/slZiEK+K9hXJtlrGGb4xg2iixOpp4UCrFu8OkxTq9JcpbDj7N/gB+T8P6c8W/9VtSzz/9y64uCxjom2ycME6NjV0bHItsS2xsM"
    "AXJ811uydjuPVcKi6qeVqo/uhsgJTMOqXqxUqZkxFi1SFHghwlmNYK1F0PtVbNNCWlKlVpfQ1y3D93Woa+Y2Jp1zLbO+RgupqaKf"
    "AsWS5RrBxHh1HRd7qGn6AfJQAypwQssiJXQSfZxx577Uwt+cVhh8QYqlBhaNoL6s+8sG7esdUtPFyuTfuf7HbeM8v2V4PslcMiyf"
    "DNIzmk3U4DKgQZM0qFvQInFrroN5xSjXcXflPs7gKUIZ429A2dFgdOiYAeHzFP7bqAfmikGGR773kBWSqkMf6Yum4SfdxF1ysGvD"
    "3ogIDXHxaX0e5cpTBvC55Xpu8LVjLrmeLQ3BR3QmoilkE2CsIj/Jc8NAyswfJhnALjv8LfJcX+xofpuMTZggtAyPtcr6T/uTWsK+"
    "wo34VEIC6aO0gruhgfX3Rzp1etw92o8U6fwzUZSbmOtkqNF0p0tQpFGOTHk0BNdYNcnUXxrDf9uujQ1YaGO8NnrtGs5BLd+0qBzX"
    "Rms1QlPHFJTPrMt+3eBHsIgC46AFpGnY9m4bveWgN2rTdldIDGkjwzno4bKmV7DEG04dHfDA6QSnalw0DelqSj5K07jom7QSf82p"
    "L3uugyvivYmHiB5ty9DrltlqYbYkFbACSaZT3YzntrAhzHI0SenR0FjPCBAdDVFHxzWxXwFvDbxL7P5buVV97Og51oltjtV3lwLb"
    "WFW+teN9KwkuF0PTaugRH7cFn+vrybpihgXy96uW6xPOVutYIZquZ2JPpNcxA3ys8FhpqdwRGtg4STpjowCT07gYC1U99AwspaQX"
    "ESXmU0IB5iR0dGQ0kWetcdYHc7Xl6y28UEKrqB4y0SSK+b0Z4GHaLTOaPSMMXAh7o90cTpbESfysYdgZKmOwIgsZHt3DiG1BrXYt"
    "gqtXP5mcGr8yNR6PRm+gurGWjISYSmZEwQpb7iLh3bYCkrNiWCFnW4iqIdvgeIAxPSVywLnuCvLueWaA9CWPLo7qXDfozNDoQV/C"
    "iu3ynsQzGiauTydzY2P5o0JDeS35lLGoQUDHWfti6DKGLtWuEvNh+6TmZMWxHq9TYf2Jgdn7eP0Y50eWMcbPsjQluuNWx0n99Huc"
    "nshYh7r3xHx5/TrI8Pez273MRSV4FR/BB+3pIZSgdEPidnXqd4TZJ1n5uRw66t5Z+Slp3JQfl4m9gPU97EPw5ZGp4dfb8v75Vzdv"
    "zRTw6h743eoT9wEeMvxxv/j9Vr9It/FdlD76R3fuR8G+kcyvvdjXPbHH+80DO9hfnf6dJuihgu4+b6mwdOq8SJdlv0Hu3nR/PrJH"
    "x2K52zou2plXzGCOnBf7Va6JdFMMnx8Xz3mefirSvWR4+bp4rrTxtUi3yfCn34jj2pwX6Z4x/OW3R8MeyfxK9qmH6D41C3Lijeo3"
    "3ac+xxmJk+AfGD4E/pbhg+BPi4mvytp/33yP8buys/Oghx/s7DxPQXfYK9DPFxWRDmIqEoNF58VJzMfhcUxXkOxfur0qxPZq4z3J"
    "bkhyrCAdiM0vcIwrMIsAdgf4C2kvLiclpyvvM1tU0d4tau/+M143FGl5T09PIfouqq+38Pz36TP64EjxI5Kr5DbO84v59MCXB9V8"
    "OrCzLy/l08V29LKSTQUKFChQoECBiivT40rtw06IKw+OHxXFD4Ef0x3Cj/R7g8/Gxd62248Z+UTkm4Lu3o+BdezquEgH53qwXzK7"
    "y3Zh/1De/y1py0y+327fE+6/QlrihJt8w5/XnNKy9zU3JiL80ZWd6VFrSumR0qNEj0CenlwR6eCkF06EQZ+m37JdeV9zfgL8g5Yq"
    "xwp2Gl9EO2uFHvE8Bfjct2fxxgKLNzakHq0eKj/gvgH4g8fX8umBDwtXlSwdTtz6vKPj1gfX3yxufTan/K3yt9vj1tr1lLhVH9vz"
    "uFW+j7DXcSs5oy//MckrcTj5Ius9WEkcd3zzjK+XL4d4hD3zju/7kTuY0cU2fQVZbt0M1gS/d4ano7cS4XIk2KksOqG6+P7fOzwd"
    "u3kLNerjyf3ENDqokdCBPRgW2iXXdfnakvuJ2+n42pJ7fGcy64vyBzPpxPGWsvksVDiU1j+JL/x8DufwBdY62/onXLAV9egUT2cG"
    "yKNXhvzEqwwpG6RAgQIFChQoUKBAgQIFBwFZ51ZTNyN8nu2PtdtHu/CVxu1GKOg2yDq3Wp0T6fb73Kp8E+RaS5VjBVl2IP/cKjlX"
    "0FLxXdyj+iiiWJB6dLTOrVq38+mBHyNfKlnKlyvx3Kp3z+RogclRSepBZ5xbTTPDuazx/lbL/n1UBcrfcv4W7M+Lb2R5i2Cv3F/8"
    "XlN6Hyv+Dun2c6vTlT+xPk5rk4Pa5Gum8GAHdqonI98pPVGwez0p39lfPQHIei8P9yDhXBl+RyVwW7qFVujpHP/LxtC/hX3iE+i1"
    "/J59r/W63Try1aJaRyp93X4f44n0OzPkPJnX2726jyH/rk1Ju1DIk/929zHgXB1Sch4O9y/IN2c4nJQNc/iQhJ+U6AcknNwdOMvh"
    "JQnvlej7JJzctXiHw/sl/LjUn6KEn4j1uydTv+eQuLp76or7BQq6Q78XmOK+YvkV7yDW88k+kSb9zkzW738raLeeF3936u3X79ZH"
    "iVXi4eGR5kckV8V4l+Gxk08PoynfbaMnYB/NfLotlj4K8+nAn259n0/3gqW/rOTTwfrrYZtfhAc7v2kflly1OlKuDu8dQcD4tZEx"
    "k93Gj187hB/79R4g+Jh5aKkH3fqu9+eO4EfnxxX7NX//UfIs8OO/ih+ive8IfkRxZ3883ulGPj38vtdmM58O/p+gDT+fDn5v7/Fy"
    "Pt0Tlv4U5NPB+v/h0v+rXA1f6CS/IT/VkJ94yE9I5Kci8tMW+QmL/FRFfiIkPwWSn/ykPO2hkPKUh4L8dEd+olOQ1jWHFcfu3z2L"
    "SSZ/Cx0V1+8fP37uEH7s132JX9n4j/p9iYPih/aHTuDH/wAiJQXP"
)


def _hanging_h5():
    import base64
    import zlib
    return zlib.decompress(base64.b64decode("".join(_HANGING_H5)))


def test_probe_turns_a_real_hdf5_hang_into_save_file_error(probing, tmp_path):
    import subprocess
    import sys
    data = _hanging_h5()
    path = tmp_path / "hangs.h5"
    path.write_bytes(data)
    plain = ("import h5py, sys\nwith h5py.File(sys.argv[1], 'r') as f:\n"
             "    [f.attrs[k] for k in f.attrs]\n")
    try:
        subprocess.run([sys.executable, "-c", plain, str(path)], timeout=4, capture_output=True)
    except subprocess.TimeoutExpired:
        pass
    else:
        pytest.skip(f"this HDF5 ({h5py.version.hdf5_version}) does not hang on the file (1.14.6 does)")
    t = time.perf_counter()
    with pytest.raises(_error_class(), match="hangs.h5.*did not finish within 3 s"):
        isolation.probe_hdf5(data, str(path), timeout=3)
    assert time.perf_counter() - t < 15
    assert isolation.probe_hdf5(_h5_bytes(_valid), "m.h5") is None      # the killed worker was replaced
