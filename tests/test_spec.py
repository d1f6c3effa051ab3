"""Tests of spec/: the shipped spec loads, the schema rejects malformed entries with file/item/field named,
version resolution works, and the training-API signatures say what the seed documents say."""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

from keras_conformance import spec
from keras_conformance.spec import schema

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_FILES = {  # version -> seed file documenting the training API of that version (seeds/README.md)
    "2.2.4": "000_91ea8e0f81836a53.txt",
    "2.3": "001_029ae0637e8a7350.txt",
    "3": "004_e72ac03786deac05.txt",
}
TRAINING = ["compile", "fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch"]
GENERATORS = ["fit_generator", "evaluate_generator", "predict_generator", "get_layer"]
SEED_METHODS = {"2.2.4": TRAINING + GENERATORS, "2.3": TRAINING + GENERATORS, "3": TRAINING}


# ----------------------------------------------------------------------------------------------------
# the shipped spec
@pytest.mark.parametrize("version", spec.VERSIONS)
def test_shipped_spec_loads(version):
    s = spec.load(version)
    assert s.version == version
    assert spec.load(version) is s, "load() must be cached"
    names = list(s)
    assert len(names) == len(set(names)) == len(s)
    for m in SEED_METHODS[version]:
        assert f"Model.{m}" in s
    for n in ["models.load_model", "models.Sequential", "models.Model", "layers.Input", "layers.Dense",
              "layers.Activation", "losses.mean_squared_error", "losses.categorical_crossentropy",
              "optimizers.SGD", "optimizers.Adam", "Model.summary", "Model.save", "Model.load_weights"]:
        assert n in s, n
    for item in s.items():
        assert item.kind in spec.KINDS
        assert item.doc and item.source, item.name
        assert item.version == version
        assert item.name == f"{item.owner}.{item.attr}"
        assert isinstance(item.signature(), inspect.Signature)
        for p in item.params:
            assert p.source, (item.name, p.name)
            assert p.required == (p.default is spec.REQUIRED and p.kind in ("positional_or_keyword",
                                                                              "keyword_only"))
        for r in item.raises:
            assert r.trigger is None or r.trigger in spec.TRIGGERS or (
                isinstance(r.trigger, dict) and next(iter(r.trigger)) in spec.schema.DATA_TRIGGERS)
            assert r.source
    assert {i.area for i in s.items()} >= {"models", "layers/base", "layers/core", "losses", "optimizers"} | (
        {"metrics"} if version == "2.3" else set())
    for item in s.items():
        if item.is_layer:   # every concrete layer carries what its generated checks need
            assert item.input is not None and item.config_keys is not None, item.name
            assert item.output_shape, item.name
    assert [i.name for i in s.items(kind="class", area="optimizers")] == [
        "optimizers.SGD", "optimizers.RMSprop", "optimizers.Adagrad", "optimizers.Adadelta", "optimizers.Adam",
        "optimizers.Adamax", "optimizers.Nadam"]


def test_lifetimes_of_shipped_items():
    assert "Model.fit_generator" in spec.load("2.3") and "Model.fit_generator" not in spec.load("3")
    assert "Model.to_yaml" in spec.load("2.2.4") and "Model.to_yaml" not in spec.load("3")
    with pytest.raises(KeyError, match="until 2.3"):
        spec.load("3")["Model.get_layer"]
    with pytest.raises(KeyError, match="not a documented item"):
        spec.load("3")["Model.nonexistent"]


def test_unknown_version_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"2\.2\.4, 2\.3, 3"):
        spec.load("2.4")
    with pytest.raises(ValueError, match="unknown API version 2"):
        spec.load(2)


def test_items_filter_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        spec.load("3").items(kind="layer")


def test_defaults_and_required():
    c224, c3 = spec.load("2.2.4")["Model.compile"], spec.load("3")["Model.compile"]
    assert c224.param("optimizer").required and "optimizer" not in c224.defaults()
    assert c3.defaults()["optimizer"] == "rmsprop"
    assert spec.load("3")["Model.fit"].defaults()["verbose"] == "auto"
    assert spec.load("2.3")["Model.fit"].defaults()["verbose"] == 1
    ev3 = spec.load("3")["Model.evaluate"]
    assert ev3.params[-1].kind == "var_keyword" and "kwargs" not in ev3.defaults()
    assert repr(spec.REQUIRED) == "REQUIRED"


def test_layer_expressions_evaluate():
    dense = spec.load("2.2.4")["layers.Dense"]
    env = {"input_shape": (None, 7, 5), **dense.defaults(), "units": 3}
    assert eval(dense.output_shape, {}, env) == (None, 7, 3)
    shapes = [eval(w.shape, {}, env) for w in dense.weights if w.when is None or eval(w.when, {}, env)]
    assert shapes == [(5, 3), (3,)]
    env["use_bias"] = False
    assert [w.name for w in dense.weights if w.when is None or eval(w.when, {}, env)] == ["kernel"]
    act = spec.load("3")["layers.Activation"]
    assert eval(act.output_shape, {}, {"input_shape": (2, 4)}) == (2, 4) and act.weights == ()


def test_optimizer_and_loss_versions():
    assert "lr" in spec.load("2.2.4")["optimizers.SGD"].defaults()
    assert "lr" not in spec.load("3")["optimizers.SGD"].defaults()
    assert "lr" in spec.load("2.3")["optimizers.SGD"].param("kwargs").accepts
    # the keys 2.3 takes only through **kwargs have domains a check draws; keras 3 takes decay and ignores it
    assert set(spec.load("2.3")["optimizers.SGD"].param("kwargs").domains) == {"decay", "clipnorm", "clipvalue"}
    assert set(spec.load("3")["optimizers.SGD"].param("kwargs").domains) == {"decay"}
    assert "epsilon" not in spec.load("2.3")["optimizers.Adam"].defaults()
    eps3 = spec.load("3")["optimizers.Adam"].defaults()["epsilon"]
    assert isinstance(eps3, float) and eps3 == 1e-7
    assert spec.load("2.2.4")["losses.mean_squared_error"].aliases == ("mse", "MSE")
    assert spec.load("3")["losses.mean_squared_error"].aliases == ()
    assert "square(y_pred - y_true)" in spec.load("2.3")["losses.mean_squared_error"].doc
    cce = spec.load("2.3")["losses.categorical_crossentropy"]
    assert cce.defaults() == {"from_logits": False, "label_smoothing": 0}
    assert type(spec.load("3")["losses.categorical_crossentropy"].defaults()["label_smoothing"]) is float


# ----------------------------------------------------------------------------------------------------
# the schema rejects malformed entries
GOOD = """
Model.fit:
  kind: method
  doc: Trains the model.
  source: seed 000
  params:
    - {name: x, default: null}
"""

BAD_CASES = {
    # id: (yaml text, item, field fragment that must appear in the message)
    "unknown_param_field": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params:
    - {name: x, default: null}
    - {name: y, defualt: null}
""", "Model.fit", "params[1]: unknown field 'defualt'"),
    "domains_on_named_param": ("""
optimizers.X:
  kind: class
  doc: d
  source: s
  params:
    - {name: lr, default: 0.01, domains: {lr: {floats: [0.1, 1.0]}}}
""", "optimizers.X", "field 'domains': only a var_keyword parameter"),
    "domains_key_not_accepted": ("""
optimizers.X:
  kind: class
  doc: d
  source: s
  params:
    - {name: kwargs, kind: var_keyword, accepts: [clipnorm], domains: {decay: {floats: [0.1, 1.0]}}}
""", "optimizers.X", "field 'domains': 'decay' is not one of the keys it accepts"),
    "domains_bad_domain": ("""
optimizers.X:
  kind: class
  doc: d
  source: s
  params:
    - {name: kwargs, kind: var_keyword, accepts: [clipnorm], domains: {clipnorm: {flaots: [0.1, 1.0]}}}
""", "optimizers.X", "field 'domains': clipnorm"),
    "unknown_item_field": ("""
Model.fit: {kind: method, doc: d, source: s, retrns: History}
""", "Model.fit", "unknown field 'retrns'"),
    "wrong_type_doc": ("""
Model.fit: {kind: method, doc: 3, source: s}
""", "Model.fit", "field 'doc'"),
    "wrong_type_params": ("""
Model.fit: {kind: method, doc: d, source: s, params: {name: x}}
""", "Model.fit", "field 'params'"),
    "missing_doc": ("""
Model.fit: {kind: method, source: s}
""", "Model.fit", "missing required field 'doc'"),
    "unknown_kind": ("""
Model.fit: {kind: property, doc: d, source: s}
""", "Model.fit", "unknown kind 'property'"),
    "bad_version": ("""
Model.fit: {kind: method, doc: d, source: s, since: "2.4"}
""", "Model.fit", "field 'since': bad version '2.4'"),
    "bad_version_in_param": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: x, until: "4"}]
""", "Model.fit", "params[0]: field 'until': bad version '4'"),
    "since_after_until": ("""
Model.fit: {kind: method, doc: d, source: s, since: "3", until: "2.3"}
""", "Model.fit", "since 3 is after until 2.3"),
    "duplicate_param": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: x, default: 1}, {name: x, default: 2, since: "2.3"}]
""", "Model.fit", "params[1] (x): field 'name': duplicate parameter name 'x' in version 2.3"),
    "required_after_default_in_one_version": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: a, default: 1}, {name: b, since: "3"}]
""", "Model.fit", "params[1] (b): field 'default': required parameter after the defaulted positional parameter 'a' in version 3"),
    "raise_without_type": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  raises: [{when: never compiled}]
""", "Model.fit", "raises[0]: missing required field 'type'"),
    "unknown_trigger": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  raises: [{type: ValueError, when: w, trigger: fit_before_compile}]
""", "Model.fit", "raises[0]: field 'trigger': unknown trigger 'fit_before_compile'"),
    "source_map_missing_version": ("""
Model.fit: {kind: method, doc: d, source: {2.2.4: seed 000, 2.3: seed 001}}
""", "Model.fit", "field 'source': no source for version(s) 3"),
    "output_shape_on_method": ("""
Model.fit: {kind: method, doc: d, source: s, output_shape: "input_shape"}
""", "Model.fit", "field 'output_shape'"),
    "bad_expression": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  output_shape: "input_shape[:-1] + (units,"
""", "layers.Dense", "field 'output_shape': not a valid Python expression"),
    "unknown_name_in_weight_shape": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  weights: [{name: kernel, shape: "(input_shape[-1], unit)"}]
""", "layers.Dense", "weights[0]: field 'shape': unknown name(s) ['unit']"),
    "override_not_allowed": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: x, default: 1, versions: {"3": {name: y}}}]
""", "Model.fit", "params[0]: field 'versions': 3: field 'name' cannot be overridden"),
    "override_where_absent": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: x, default: 1, until: "2.3", versions: {"3": {default: 2}}}]
""", "Model.fit", "params[0]: field 'versions': override for 3, where the entry does not exist"),
    "var_keyword_with_default": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: kwargs, kind: var_keyword, default: null}]
""", "Model.fit", "params[0] (kwargs): field 'default': a var_keyword parameter has no default"),
    "unknown_param_kind": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: x, kind: positional}]
""", "Model.fit", "params[0]: field 'kind': unknown parameter kind 'positional'"),
    "param_never_alive": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  until: "2.3"
  params: [{name: x, since: "3"}]
""", "Model.fit", "params[0] (x): field 'since': the parameter exists in no version"),
    "invalid_signature_order": ("""
Model.fit:
  kind: method
  doc: d
  source: s
  params: [{name: kwargs, kind: var_keyword}, {name: x, default: 1}]
""", "Model.fit", "field 'params': not a valid signature in version 2.2.4"),
    "bad_name": ("""
fit: {kind: function, doc: d, source: s}
""", "fit", "bad qualified name"),
    # the fields the layer checks are generated from
    "builtin_the_evaluator_lacks": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  output_shape: "input_shape[:-1] + (pow(units, 1),)"
""", "layers.Dense", "field 'output_shape': unknown name(s) ['pow']"),
    "unknown_input_field": ("""
layers.Dense: {kind: class, doc: d, source: s, input: {rank: [2, 3], ranks: 2}}
""", "layers.Dense", "field 'input': unknown field 'ranks'"),
    "bad_rank_range": ("""
layers.Dense: {kind: class, doc: d, source: s, input: {rank: [3, 2]}}
""", "layers.Dense", "field 'rank': expected a non-negative int or an inclusive range"),
    "vary_axis_not_a_param": ("""
layers.Concatenate: {kind: class, doc: d, source: s, params: [{name: axis, default: -1}], input: {count: 2, vary_axis: axes}}
""", "layers.Concatenate", "vary_axis 'axes' is not a parameter of the item"),
    "domain_with_two_kinds": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units, domain: {ints: [1, 4], choices: [1, 2]}}]
""", "layers.Dense", "params[0] (units): field 'domain': exactly one of"),
    "domain_unknown_name": ("""
layers.Reshape:
  kind: class
  doc: d
  source: s
  params: [{name: target_shape, domain: {factorization: "prod(input_shap[1:])"}}]
""", "layers.Reshape", "unknown name(s) ['input_shap']"),
    "lambda_body_uses_a_name": ("""
layers.Lambda:
  kind: class
  doc: d
  source: s
  params: [{name: function, domain: {lambda: ["np.square(x)"]}}]
""", "layers.Lambda", "a body may use only x"),
    "every_without_choices": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units, domain: {ints: [1, 4], every: true}}]
""", "layers.Dense", "every: only a choices domain"),
    "data_trigger_unknown_kind": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  raises: [{type: ValueError, when: w, trigger: {build: {units: 0}}}]
""", "layers.Dense", "raises[0]: field 'trigger': a data trigger is one of"),
    "data_trigger_unknown_argument": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  raises: [{type: ValueError, when: w, trigger: {construct: {unit: 0}}}]
""", "layers.Dense", "construct: ['unit'] are not parameters of the item"),
    "call_trigger_unknown_key": ("""
layers.Dense:
  kind: class
  doc: d
  source: s
  params: [{name: units}]
  raises: [{type: ValueError, when: w, trigger: {call: {rank: 1}}}]
""", "layers.Dense", "call: unknown key(s) ['rank']"),
    "stochastic_unknown_kind": ("""
layers.Dropout: {kind: class, doc: d, source: s, params: [{name: rate}], stochastic: {kind: bernoulli}}
""", "layers.Dropout", "field 'kind': unknown value 'bernoulli'"),
    "layer_field_on_function": ("""
layers.add: {kind: function, doc: d, source: s, input: {count: 2}}
""", "layers.add", "field 'input': only class items (layers) have input"),
    "renamed_from_unknown": ("""
optimizers.SGD:
  kind: class
  doc: d
  source: s
  params: [{name: learning_rate, default: 0.01, renamed_from: lrate}]
""", "optimizers.SGD", "field 'renamed_from': no parameter 'lrate'"),
}


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_layer_fields_resolve_per_version_and_accepts_is_written_once():
    s3, s2 = spec.load("3"), spec.load("2.3")
    assert s3["layers.Dropout"].param("kwargs").accepts == s3["layers.Layer"].param("kwargs").accepts
    assert "batch_input_shape" in s2["layers.Dropout"].param("kwargs").accepts
    assert "batch_input_shape" not in s3["layers.Dropout"].param("kwargs").accepts
    assert "activity_regularizer" in s2["layers.Dense"].config_keys
    assert "activity_regularizer" not in s3["layers.Dense"].config_keys
    assert s3["layers.Layer"].abstract and not s3["layers.Layer"].is_layer and s3["layers.Dense"].is_layer
    with pytest.raises(TypeError, match="read-only"):
        s3["layers.Dense"].input["rank"] = 9
    r = next(r for r in s3["layers.Dense"].raises if isinstance(r.trigger, dict) and "call" in r.trigger)
    assert r.trigger_id == "call(input_rank=1)"


def test_shape_helpers_are_what_expressions_see():
    from keras_conformance.spec import shapes
    assert shapes.conv_output_length(7, 3, "valid", 2) == 3
    assert shapes.conv_output_length(7, 3, "same", 2) == 4
    assert shapes.conv_output_length(None, 3, "same", 2) is None
    assert shapes.dot_output_shape((None, 3, 4), (None, 3, 4), 1) == (None, 4, 4)
    assert shapes.dot_output_shape((None, 4), (None, 4), -1) == (None, 1)
    assert shapes.concat_output_shape([(None, 2, 3), (None, 2, 5)], -1) == (None, 2, 8)
    assert shapes.evaluate("tuple(d * 2 for d in input_shape[1:])", {"input_shape": (None, 2, 3)}) == (4, 6)
    with pytest.raises(NameError):
        shapes.evaluate("open('x')", {})
    assert schema.EXPR_BUILTINS == frozenset(shapes.EXPR_NAMES)


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_schema_rejects_malformed_entry(tmp_path, case):
    text, item, fragment = BAD_CASES[case]
    path = _write(tmp_path, "models.yaml", text)
    with pytest.raises(spec.SpecError) as info:
        spec.load("2.3", root=tmp_path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: {item}"), msg        # names the file and the item
    assert fragment in msg, msg                           # and the field


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_schema_validate_mapping_directly(case):
    import yaml
    text, item, fragment = BAD_CASES[case]
    raw = yaml.safe_load(textwrap.dedent(text))
    with pytest.raises(spec.SpecError, match=re.escape(f"spec/x.yaml: {item}")) as info:
        schema.validate(raw, "spec/x.yaml")
    assert fragment in str(info.value)


def test_schema_accepts_good_entry(tmp_path):
    _write(tmp_path, "models.yaml", GOOD)
    s = spec.load("3", root=tmp_path)
    assert list(s) == ["Model.fit"] and s["Model.fit"].area == "models"
    schema.validate({"Model.fit": {"kind": "method", "doc": "d", "source": "s"}}, "x.yaml")


def test_duplicate_yaml_key_and_duplicate_item_across_files(tmp_path):
    p = _write(tmp_path, "models.yaml", GOOD + GOOD)
    with pytest.raises(spec.SpecError, match=re.escape(f"{p}: duplicate key 'Model.fit'")):
        spec.load("3", root=tmp_path)
    _write(tmp_path, "models.yaml", GOOD)
    other = _write(tmp_path, "layers/core.yaml", GOOD)
    first, second = sorted([p, other], key=lambda q: q.relative_to(tmp_path).as_posix())  # file order
    with pytest.raises(spec.SpecError, match=re.escape(f"{second}: Model.fit: defined again (first in {first})")):
        spec.load("3", root=tmp_path)


def test_top_level_must_be_mapping(tmp_path):
    p = _write(tmp_path, "losses.yaml", "- a\n- b\n")
    with pytest.raises(spec.SpecError, match=re.escape(f"{p}: the top level must be a mapping")):
        spec.load("2.2.4", root=tmp_path)


# ----------------------------------------------------------------------------------------------------
# version resolution on synthetic entries
SYNTHETIC = """
Model.f:
  kind: method
  doc: base doc
  source: {2.2.4: seed A, 2.3: seed B, "3": seed C}
  params:
    - {name: x}
    - {name: lr, default: 0.01, until: "2.2.4"}
    - {name: learning_rate, default: 0.01, since: "2.3"}
    - {name: verbose, default: 1, versions: {"3": {default: auto, note: n3}}}
    - {name: mid, default: 10, since: "2.3", until: "2.3", source: src-mid}
    - {name: kwargs, kind: var_keyword, since: "3"}
  returns: R
  raises:
    - {type: RuntimeError, when: w, trigger: not_compiled, until: "2.3"}
    - {type: ValueError, when: w, trigger: not_compiled, since: "3", source: other}
    - {type: ValueError, when: w, trigger: none}
  versions:
    "3": {doc: doc three, returns: R3}
Model.old:
  kind: method
  doc: d
  source: s
  until: "2.2.4"
models.New:
  kind: class
  doc: d
  source: s
  since: 3
  params: [{name: units}]
  output_shape: "input_shape[:-1] + (units,)"
  weights:
    - {name: kernel, shape: "(input_shape[-1], units)"}
    - {name: extra, shape: "(units,)", since: "3"}
"""


def test_version_resolution(tmp_path):
    _write(tmp_path, "models.yaml", SYNTHETIC)
    s1, s2, s3 = (spec.load(v, root=tmp_path) for v in spec.VERSIONS)
    assert list(s1) == ["Model.f", "Model.old"]
    assert list(s2) == ["Model.f"]
    assert list(s3) == ["Model.f", "models.New"]
    f1, f2, f3 = s1["Model.f"], s2["Model.f"], s3["Model.f"]
    assert str(f1.signature()) == "(x, lr=0.01, verbose=1)"
    assert str(f2.signature()) == "(x, learning_rate=0.01, verbose=1, mid=10)"
    assert str(f3.signature()) == "(x, learning_rate=0.01, verbose='auto', **kwargs)"
    assert (f1.source, f2.source, f3.source) == ("seed A", "seed B", "seed C")
    assert f2.param("mid").source == "src-mid" and f2.param("x").source == "seed B"
    assert f3.param("verbose").note == "n3" and f1.param("verbose").note is None
    assert (f1.doc, f3.doc, f1.returns, f3.returns) == ("base doc", "doc three", "R", "R3")
    assert [(r.type, r.trigger, r.source) for r in f2.raises] == [
        ("RuntimeError", "not_compiled", "seed B"), ("ValueError", None, "seed B")]
    assert [(r.type, r.source) for r in f3.raises] == [("ValueError", "other"), ("ValueError", "seed C")]
    assert f1.defaults() == {"lr": 0.01, "verbose": 1}
    assert f1.param("x").required and not f3.param("kwargs").required
    new = s3["models.New"]
    assert new.since == "3" and new.until == "3" and new.owner == "models" and new.attr == "New"
    assert [w.name for w in new.weights] == ["kernel", "extra"]
    with pytest.raises(KeyError, match="since 3"):
        s2["models.New"]


def test_items_are_immutable(tmp_path):
    import dataclasses
    _write(tmp_path, "models.yaml", SYNTHETIC)
    item = spec.load("3", root=tmp_path)["Model.f"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.doc = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.params[0].default = 1
    assert isinstance(item.params, tuple)


# ----------------------------------------------------------------------------------------------------
# the spec says what the seeds say
def _seed_text(version):
    path = SEEDS / SEED_FILES[version]
    if not path.exists():
        pytest.skip(f"seed documents not found at {SEEDS} (expected beside the repository)")
    return path.read_text(encoding="utf-8")


def _seed_sections(version):
    """{method: (signature args text, section text)} from the first occurrence in the seed."""
    text = _seed_text(version)
    if version == "3":
        pattern = re.compile(r"^Model\.(\w+)\((.*?)\)\s*$", re.M | re.S)
    else:
        pattern = re.compile(r"^(\w+)\((.*)\)[ \t]*$", re.M)
    matches = [m for m in pattern.finditer(text) if m.group(1) in SEED_METHODS[version]]
    out = {}
    for k, m in enumerate(matches):
        if m.group(1) in out:
            continue
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        out[m.group(1)] = (m.group(2), text[m.end():end])
    return out


def _parse_args(args_text):
    """[(name, kind, default | REQUIRED)] from a printed Python signature."""
    args_text = " ".join(args_text.split()).rstrip(",")
    fn = ast.parse(f"def f({args_text}): pass").body[0].args
    out = []
    positional = fn.posonlyargs + fn.args
    defaults = [spec.REQUIRED] * (len(positional) - len(fn.defaults)) + [ast.literal_eval(d) for d in fn.defaults]
    for a, d in zip(positional, defaults):
        if a.arg != "self":
            out.append((a.arg, "positional_or_keyword", d))
    if fn.vararg:
        out.append((fn.vararg.arg, "var_positional", spec.REQUIRED))
    for a, d in zip(fn.kwonlyargs, fn.kw_defaults):
        out.append((a.arg, "keyword_only", spec.REQUIRED if d is None else ast.literal_eval(d)))
    if fn.kwarg:
        out.append((fn.kwarg.arg, "var_keyword", spec.REQUIRED))
    return out


def _seed_raises(section):
    m = re.search(r"^\s*异常\s*$(.*?)(?=^\s*(返回|返回值|例子|示例)\s*$|\Z)", section, re.M | re.S)
    return sorted(set(re.findall(r"•\s*(\w+(?:Error|Exception))\s*:", m.group(1)))) if m else []


SIG_CASES = [(v, m) for v in spec.VERSIONS for m in SEED_METHODS[v]]


@pytest.mark.parametrize("version,method", SIG_CASES, ids=[f"{v}-Model.{m}" for v, m in SIG_CASES])
def test_training_signature_matches_seed(version, method):
    sections = _seed_sections(version)
    assert method in sections, f"seed {SEED_FILES[version]} has no signature line for {method}"
    args_text, section = sections[method]
    seed_params = _parse_args(args_text)
    item = spec.load(version)[f"Model.{method}"]
    assert item.source.startswith(f"seed {SEED_FILES[version][:3]}"), item.source
    spec_params = [(p.name, p.kind, p.default) for p in item.params]
    # A **kwargs the seed documents only in its argument list (not on the printed line) is in the spec,
    # with a source saying so; every other parameter must match the printed line exactly, in order.
    extra = [p for p in item.params if p.kind == "var_keyword" and p.name not in {s[0] for s in seed_params}]
    for p in extra:
        assert re.search(r"•\s*\*\*" + p.name + r"\s*:", section), f"**{p.name} not documented in the seed"
        assert "argument list" in p.source
    spec_params = [sp for sp in spec_params if sp[0] not in {p.name for p in extra}]
    assert [s[:2] for s in spec_params] == [s[:2] for s in seed_params]
    for (name, _, d_spec), (_, _, d_seed) in zip(spec_params, seed_params):
        assert d_spec == d_seed and type(d_spec) is type(d_seed), (name, d_spec, d_seed)


@pytest.mark.parametrize("version,method", SIG_CASES, ids=[f"{v}-Model.{m}" for v, m in SIG_CASES])
def test_training_raises_match_seed(version, method):
    _, section = _seed_sections(version)[method]
    item = spec.load(version)[f"Model.{method}"]
    seed_tag = f"seed {SEED_FILES[version][:3]}"
    from_seed = sorted({r.type for r in item.raises if r.source.startswith(seed_tag)})
    assert from_seed == _seed_raises(section)
    for r in item.raises:   # every raise not from the seed names the source that was checked
        assert r.source.startswith(seed_tag) or "source" in r.source, (r, item.name)


def test_seed_000_attribute_methods():
    text = _seed_text("2.2.4")
    s = spec.load("2.2.4")
    for name in ["summary", "get_config", "get_weights", "set_weights", "to_json", "to_yaml", "save_weights",
                 "load_weights"]:
        m = re.search(rf"model\.{name}\(([^)]*)\)", text)
        assert m, name
        seed_params = _parse_args(m.group(1))
        item = s[f"Model.{name}"]
        assert item.source.startswith("seed 000"), item.source
        # the seed shows the leading parameters; the rest come from the source and say so
        got = [(p.name, p.kind, p.default) for p in item.params][:len(seed_params)]
        assert got == seed_params, name
        for p in item.params[len(seed_params):]:
            assert "source" in p.source, (name, p.name, p.source)


def test_seed_004_has_no_generator_methods():
    text = _seed_text("3")
    s = spec.load("3")
    for m in GENERATORS:
        assert f"Model.{m}(" not in text
        assert f"Model.{m}" not in s


# ----------------------------------------------------------------------------------------------------
# where the seeds are silent for version 3, the spec says what keras 3.15's source says
KERAS3_ITEMS = {
    "models.load_model": "keras.models.load_model",
    "models.Sequential": "keras.src.models.sequential.Sequential.__init__",
    "models.Model": "keras.src.models.functional.Functional.__init__",
    "layers.Input": "keras.layers.Input",
    "layers.Dense": "keras.layers.Dense",
    "layers.Activation": "keras.layers.Activation",
    "losses.mean_squared_error": "keras.losses.mean_squared_error",
    "losses.categorical_crossentropy": "keras.losses.categorical_crossentropy",
    "optimizers.SGD": "keras.optimizers.SGD",
    "optimizers.Adam": "keras.optimizers.Adam",
    **{f"Model.{m}": f"keras.Model.{m}" for m in TRAINING + [
        "summary", "get_config", "from_config", "get_weights", "set_weights", "to_json", "save_weights",
        "load_weights", "save"]},
}


def test_version_3_matches_keras_3_15():
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3.15"):
        pytest.skip(f"keras {keras.__version__} installed, the spec's version 3 is keras 3.15")
    import importlib
    s = spec.load("3")
    for name, dotted in KERAS3_ITEMS.items():
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
                break
            except ImportError:
                continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        real = inspect.signature(obj)
        real = real.replace(parameters=[p for p in real.parameters.values() if p.name != "self"])
        assert str(s[name].signature()) == str(real), name
