"""The layer harness: one procedure for every documented layer, driven by its spec entry alone.

As Keras 3's ``run_layer_test`` is one harness per layer, and PyTorch's ModuleInfo one database entry per
module: what a check needs about a layer (which inputs it takes, how to draw its arguments, which
constraints a drawn configuration meets, its config keys, its training-mode statistics) is a field of
its spec entry (docs/internals.md, "Layer entries"), never code here. A layer whose entry lacks what a
check needs is reported **untested** by that check (``missing``), never passed.

A drawn ``LayerCase`` is plain data (the constructor arguments, the input shapes with the batch
dimension, a seed), so a reproducer is a few lines of Python; ``inputs`` rebuilds the arrays from it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..spec import REQUIRED, shapes
from ..spec.schema import OBJECT_MODULES

DEFAULT_RANK = (2, 3)
DEFAULT_SIZE = (1, 4)
BATCHES = (1, 4)


UNTESTED = "untested: "


def untested(reason: str):
    """End the check as *untested*: it cannot be generated for this item (a gap of the spec or of the
    reference). Reported as its own outcome, never as passed; the run fails unless --allow-untested."""
    import pytest
    pytest.skip(UNTESTED + reason)


class LambdaBody:
    """A drawn ``lambda x: <body>`` (a Lambda layer's function); its repr is the source."""

    def __init__(self, body: str):
        self.body = body
        self.fn = eval(f"lambda x: {body}", {"__builtins__": {}})  # noqa: S307 - spec data

    def __repr__(self) -> str:
        return f"lambda x: {self.body}"

    def __eq__(self, other):
        return isinstance(other, LambdaBody) and other.body == self.body

    def __hash__(self):
        return hash(self.body)


class ObjectExpr:
    """A drawn constructor expression of an ``objects`` domain (``layers.LSTMCell(units=2)``,
    ``regularizers.l2(l=0.01)``; the modules are spec.schema.OBJECT_MODULES): each
    implementation builds its own fresh object from it (``build(K)``); spec expressions see its
    ``Made`` record (class name and keyword arguments, ``spec.shapes.describe``)."""

    def __init__(self, code: str):
        self.code = code
        self.made = shapes.describe(code)

    def build(self, K):
        return eval(self.code, {"__builtins__": {}, **{m: getattr(K, m) for m in OBJECT_MODULES}})  # noqa: S307

    def code_in(self, ns: str) -> str:
        import re
        return re.sub(r"\b(" + "|".join(OBJECT_MODULES) + r")\.", lambda m: f"{ns}.{m.group(1)}.", self.code)

    def __repr__(self) -> str:
        return self.code

    def __eq__(self, other):
        return isinstance(other, ObjectExpr) and other.code == self.code

    def __hash__(self):
        return hash(self.code)


def objects_exercised(kwargs: dict) -> dict[str, list[str]]:
    """The documented items the drawn ``objects`` arguments construct, with the keyword arguments each is
    given (``{"regularizers.l2": ["l"]}``): a check through which the object acts exercises them too."""
    out: dict[str, list[str]] = {}
    for v in kwargs.values():
        if isinstance(v, ObjectExpr):
            for made in v.made if isinstance(v.made, list) else [v.made]:
                out.setdefault(made.item, []).extend(made.kwargs)
    return out


@dataclass
class LayerCase:
    item: str
    kwargs: dict
    shapes: list          # full input shapes, batch first, one per input
    seed: int
    dtype: str = "float32"
    values: str = "normal"
    masked: Any = None    # the value that fills some whole time steps (Masking), or None
    every: dict = field(default_factory=dict)   # {param: [choices]} every one checked on every example
    mask_layer: bool = False   # a Masking(mask_value=masked) between each input and the layer
    @property
    def multi(self) -> bool:
        return len(self.shapes) > 1

    @property
    def input_shape(self):
        """What spec expressions call ``input_shape``: a tuple, or the list of them."""
        return [tuple(s) for s in self.shapes] if self.multi else tuple(self.shapes[0])

    def call_kwargs(self, K) -> dict:
        """The constructor arguments for implementation ``K`` (objects built afresh in its namespace)."""
        out = {}
        for k, v in self.kwargs.items():
            out[k] = v.fn if isinstance(v, LambdaBody) else v.build(K) if isinstance(v, ObjectExpr) else v
        return out

    def kwargs_code(self, ns: str = "K") -> str:
        return ", ".join(f"{k}={v.code_in(ns) if isinstance(v, ObjectExpr) else repr(v)}"
                         for k, v in self.kwargs.items())

    def with_kwargs(self, **kw) -> "LayerCase":
        return self.replace(kwargs={**self.kwargs, **kw})

    def without(self, *names) -> "LayerCase":
        return self.replace(kwargs={k: v for k, v in self.kwargs.items() if k not in names})

    def replace(self, **fields) -> "LayerCase":
        import dataclasses
        return dataclasses.replace(self, **fields)

    def for_training(self, item) -> "LayerCase":
        """The case less its ``inference_only`` arguments (random in training mode: a training-mode check
        leaves them at their defaults)."""
        return self.without(*[p.name for p in item.params if p.domain is not None and p.domain.get("inference_only")])

    def __repr__(self) -> str:
        masked = f" behind Masking(mask_value={self.masked!r})" if self.mask_layer else ""
        return f"{self.item}({self.kwargs_code()}) on input shapes {self.shapes}{masked} seed {self.seed}"


# -- what a check needs ------------------------------------------------------------------------------------
def layer_item(spec, item):
    """The layer class entry a check draws from: the item itself, or for a functional form
    (``layers.add``, ``form_of: layers.Add``) the class it is the form of."""
    return spec[item.form_of] if item.form_of else item


def missing(item, R=None, need=("input",)) -> str | None:
    """Why the layer checks cannot be generated for ``item``, or None. ``need`` names the spec fields the
    check needs besides the input domain (``output_shape``, ``config_keys``, ``stochastic``)."""
    if item.input is None:
        return (f"{item.file}: {item.name} has no `input` field (which inputs the layer accepts), so no "
                f"configuration can be drawn")
    for p in item.params:
        if p.required and p.domain is None:
            return (f"{item.file}: {item.name}: the required parameter {p.name!r} has no `domain`, so no "
                    f"configuration can be drawn")
    for f in need:
        if f != "input" and getattr(item, f, None) is None:
            return f"{item.file}: {item.name} has no `{f}` field"
    if R is not None and not isinstance(getattr(getattr(R, "layers", None), item.attr, None), type):
        return f"the reference has no layers.{item.attr}, so there is no oracle for {item.name}"
    return None


def draw_case(data, item, R=None, need=("input",), initializers=False) -> "LayerCase":
    """A drawn case of ``item`` (hypothesis ``data``), or the check ends untested, saying what is missing.
    ``initializers``: also draw the ``*_initializer`` arguments (see ``cases``)."""
    why = missing(item, R, need)
    if why:
        untested(why)
    return data.draw(cases(item, initializers=initializers), label="layer case")


def initializer_params(item) -> list:
    """The parameters whose domain draws documented initializers (``objects: initializers``)."""
    return [p for p in item.params if p.domain is not None and p.domain.get("of") == "initializers"]


def env(item, case: LayerCase, shape=None) -> dict:
    """The names of a spec expression: the documented defaults, the drawn arguments, ``input_shape``."""
    out = {p.name: p.default for p in item.params if p.default is not REQUIRED}
    out.update({k: v.made if isinstance(v, ObjectExpr) else v for k, v in case.kwargs.items()})
    out["input_shape"] = case.input_shape if shape is None else shape
    return out


def evaluate(expr: str, item, case: LayerCase, shape=None):
    return shapes.evaluate(expr, env(item, case, shape))


def unknown_batch(case: LayerCase):
    if case.multi:
        return [(None,) + tuple(s[1:]) for s in case.shapes]
    return (None,) + tuple(case.shapes[0][1:])


# -- drawing -----------------------------------------------------------------------------------------------
def _range(v, default):
    if v is None:
        return tuple(default)
    if isinstance(v, int):
        return (v, v)
    return tuple(v)


def _plain(v):
    """Spec data as a user writes it (YAML lists stay lists)."""
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


@st.composite
def _factorization(draw, n: int, unknown: bool):
    n = max(int(n), 1)
    parts = draw(st.integers(1, 3))
    dims = [1] * parts
    rest = n
    primes = []
    p = 2
    while rest > 1:
        while rest % p == 0:
            primes.append(p)
            rest //= p
        p += 1
    for q in primes:
        dims[draw(st.integers(0, parts - 1))] *= q
    if unknown and draw(st.booleans()):
        dims[draw(st.integers(0, parts - 1))] = -1
    return tuple(dims)


def domain_strategy(dom, names):
    if "choices" in dom:
        return st.sampled_from([_plain(c) for c in dom["choices"]])
    if "ints" in dom:
        return st.integers(int(dom["ints"][0]), int(dom["ints"][1]))
    if "floats" in dom:
        lo, hi = dom["floats"]
        return st.integers(0, 1000).map(lambda k: round(lo + (hi - lo) * k / 1000, 4))
    if "permutation" in dom:
        return st.permutations(list(shapes.evaluate(dom["permutation"], names))).map(tuple)
    if "factorization" in dom:
        return _factorization(shapes.evaluate(dom["factorization"], names), bool(dom.get("unknown")))
    if "lambda" in dom:
        return st.sampled_from(list(dom["lambda"])).map(LambdaBody)
    if "objects" in dom:
        return st.sampled_from(list(dom["objects"])).map(ObjectExpr)
    raise ValueError(f"unknown domain {dict(dom)}")


@st.composite
def cases(draw, item, seeds=st.integers(0, 2**16), initializers=False):
    """A valid ``LayerCase`` for a layer item (``missing(item)`` must be None).

    An initializer shows only in the weights a layer is built with, which most checks replace with drawn
    ones: its arguments are drawn only with ``initializers=True``, and then every one of them (the
    initial-weights check compares every weight), so no other check claims to exercise them."""
    inp = item.input
    count = draw(st.integers(*_range(inp.get("count"), (1, 1))))
    rank = draw(st.integers(*_range(inp.get("rank"), DEFAULT_RANK)))
    lo, hi = _range(inp.get("size"), DEFAULT_SIZE)
    batch = draw(st.integers(*BATCHES))
    base = (batch,) + tuple(draw(st.integers(lo, hi)) for _ in range(rank - 1))
    shape_list = [base] * count
    probe = LayerCase(item.name, {}, shape_list, 0)
    names = env(item, probe)
    kwargs, every = {}, {}
    for p in item.params:
        if p.domain is None or p.kind in ("var_positional", "var_keyword"):
            continue
        dom = p.domain
        if dom.get("of") == "initializers":
            if initializers:
                kwargs[p.name] = draw(domain_strategy(dom, names))
            continue
        if dom.get("every"):
            every[p.name] = [_plain(c) for c in dom["choices"]]
            kwargs[p.name] = every[p.name][0]
            continue
        strategy = domain_strategy(dom, names)
        if p.required or dom.get("omit") is False or draw(st.booleans()):
            kwargs[p.name] = draw(strategy)
    vary = inp.get("vary_axis")
    if vary and count > 1:
        axis = kwargs.get(vary, item.param(vary).default)
        if isinstance(axis, int) and -rank < axis < rank and shapes.normalize_axis(axis, rank) != 0:
            ax = shapes.normalize_axis(axis, rank)
            shape_list = [tuple(draw(st.integers(lo, hi)) if i == ax else d for i, d in enumerate(base))
                          for _ in range(count)]
    contract = inp.get("contract_axes")
    if contract and count == 2:
        # the second input drawn on its own, but for the axis contracted with the first's: every axes pair
        # of the domain then meets inputs it fits (an asymmetric pair too), and the inputs differ elsewhere
        axes = kwargs.get(contract, item.param(contract).default)
        if isinstance(axes, int) or (isinstance(axes, (list, tuple)) and len(axes) == 2
                                     and all(isinstance(a, int) for a in axes)):
            first, second = shapes.axes_list(axes, rank)
            if 0 < first < rank and 0 < second < rank:
                other = [batch] + [draw(st.integers(lo, hi)) for _ in range(rank - 1)]
                other[second] = base[first]
                shape_list = [base, tuple(other)]
    case = LayerCase(item.name, kwargs, shape_list, draw(seeds), inp.get("dtype", "float32"),
                     inp.get("values", "normal"), every=every)
    if inp.get("masked_by"):
        name = inp["masked_by"]
        case.masked = kwargs.get(name, item.param(name).default)
    elif inp.get("masking") and draw(st.booleans()):
        case.masked, case.mask_layer = 0.0, True
    for expr in item.valid:
        assume(bool(evaluate(expr, item, case)))
    return case


def variants(item, case: LayerCase) -> list[LayerCase]:
    """The case once per combination of the choices of its ``every: true`` parameters (every one checked
    on every example, not left to chance), those meeting the item's ``valid`` constraints."""
    out = [case]
    for name, choices in case.every.items():
        out = [v.with_kwargs(**{name: c}) for v in out for c in choices]
    return [v for v in out if all(bool(evaluate(e, item, v)) for e in item.valid)]


def inputs(case: LayerCase) -> list[np.ndarray]:
    """The input arrays of a case, from ``numpy.random.default_rng(seed + i)``."""
    out = []
    for i, shape in enumerate(case.shapes):
        rng = np.random.default_rng(case.seed + i)
        shape = tuple(shape)
        if case.values == "positive":
            x = rng.uniform(0.5, 2.0, size=shape)
        elif case.values == "factors":
            # the statistics of multiplicative noise: x in [1, 3], where an additive noise of the same
            # spread would show in out / x with a third of the variance (E[1/x^2] = 1/3)
            x = rng.uniform(1.0, 3.0, size=shape)
        elif case.values == "uniform":
            x = rng.uniform(-1.0, 1.0, size=shape)
        elif case.values == "integers" or case.dtype.startswith("int"):
            x = rng.integers(0, 5, size=shape)
        else:
            x = rng.standard_normal(shape)
        if case.masked is not None and len(shape) >= 3:
            steps = rng.random(shape[:2]) < 0.3
            x = np.where(steps[(...,) + (None,) * (len(shape) - 2)], case.masked, x)
        out.append(x.astype(case.dtype))
    return out


def output_list(value) -> list[tuple]:
    """An ``output_shape`` rule's value as a list of shapes (one per output)."""
    def dims(shape):
        shape = getattr(shape, "as_list", lambda: shape)()        # a TensorShape (tf_keras)
        return tuple(None if d is None else int(d) for d in shape)
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, type(None))) \
            and not hasattr(value[0], "__index__"):
        return [dims(v) for v in value]
    return [dims(value)]


def arrays_list(value, to_numpy) -> list[np.ndarray]:
    """What ``predict`` returned, as a list of arrays (one per output)."""
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return [to_numpy(value)]


def predictions(model, x, to_numpy, **kwargs) -> list[np.ndarray]:
    """``model.predict(x, verbose=0)`` as a list of arrays, one per output."""
    return arrays_list(model.predict(x, verbose=0, **kwargs), to_numpy)


def inputs_code(case: LayerCase, var: str = "xs") -> str:
    return (f"from keras_conformance.conformance.layers import LayerCase, inputs; "
            f"{var} = inputs(LayerCase({case.item!r}, {{}}, {case.shapes!r}, {case.seed}, {case.dtype!r}, "
            f"{case.values!r}, {case.masked!r}))")


# -- building ----------------------------------------------------------------------------------------------
def construct(K, item, case: LayerCase, **overrides):
    kwargs = {**case.call_kwargs(K), **overrides}
    return getattr(K.layers, item.attr)(**kwargs)


def _input_kwargs(case: LayerCase, shape, batch_shape: bool) -> dict:
    return ({"batch_shape": tuple(shape)} if batch_shape else {"shape": tuple(shape[1:])}) | {"dtype": case.dtype}


def _masked(K, case: LayerCase, tensors):
    if not case.mask_layer:
        return tensors
    return [K.layers.Masking(mask_value=case.masked)(t) for t in tensors]


def build(K, item, case: LayerCase, layer=None, form=None, batch_shape=False):
    """A functional model ``Input(s) -> layer`` (a ``Masking`` in between where the case masks some time
    steps; ``batch_shape``: Inputs with the batch size fixed); returns (model, layer). With ``form`` (a
    functional form's name, ``add``), the model is ``Input(s) -> K.layers.add(inputs, **kwargs)`` and layer
    is None."""
    ins = [K.layers.Input(**_input_kwargs(case, s, batch_shape)) for s in case.shapes]
    into = _masked(K, case, ins)
    if form is not None:
        out = getattr(K.layers, form)(into if case.multi else into[0], **case.call_kwargs(K))
        return K.models.Model(ins if case.multi else ins[0], out), None
    layer = layer if layer is not None else construct(K, item, case)
    out = layer(into if case.multi else into[0])
    return K.models.Model(ins if case.multi else ins[0], out), layer


def build_code(item, case: LayerCase, ns: str = "K", var: str = "model", layer_var: str = "layer",
               form=None, batch_shape=False) -> str:
    def arg(s):
        return f"batch_shape={tuple(s)!r}" if batch_shape else f"shape={tuple(s[1:])!r}"
    ins = ", ".join(f"{ns}.layers.Input({arg(s)}, dtype={case.dtype!r})" for s in case.shapes)
    ins = f"[{ins}]" if case.multi else ins
    into = "ins"
    if case.mask_layer:
        into = (f"[{ns}.layers.Masking(mask_value={case.masked!r})(t) for t in ins]" if case.multi
                else f"{ns}.layers.Masking(mask_value={case.masked!r})(ins)")
    if form is not None:
        kw = (", " + case.kwargs_code(ns)) if case.kwargs else ""
        return f"ins = {ins}; {var} = {ns}.models.Model(ins, {ns}.layers.{form}({into}{kw}))"
    return (f"{layer_var} = {ns}.layers.{item.attr}({case.kwargs_code(ns)}); ins = {ins}; "
            f"{var} = {ns}.models.Model(ins, {layer_var}({into}))")


def feed(case: LayerCase, xs):
    return xs if case.multi else xs[0]


def gradient_model(K, item, case: LayerCase):
    """The graph through which the gradient with respect to the layer's input flows through the public
    API: one shared ``Input((batch,))`` fed the identity matrix, and per input of the layer a
    ``Dense(prod(shape), use_bias=False)`` + ``Reshape(shape)`` whose kernel *is* that input (row i of
    the identity picks row i of the kernel). One SGD step at learning rate 1 then moves each kernel by
    minus the gradient with respect to the layer's input, and the layer's own weights by minus theirs.
    Returns (model, layer, [input Dense layers])."""
    batch = case.shapes[0][0]
    if integer_input(case):
        model, layer = build(K, item, case)
        return model, layer, []
    src = K.layers.Input(shape=(batch,))
    denses, branches = [], []
    for s in case.shapes:
        d = K.layers.Dense(int(np.prod(s[1:])), use_bias=False)
        denses.append(d)
        branches.append(K.layers.Reshape(tuple(s[1:]))(d(src)))
    branches = _masked(K, case, branches)
    layer = construct(K, item, case)
    out = layer(branches if case.multi else branches[0])
    return K.models.Model(src, out), layer, denses


def integer_input(case: LayerCase) -> bool:
    """An integer input (an index: Embedding) has no gradient; its gradient check feeds it directly and
    compares the layer's weights only."""
    return case.dtype.startswith("int")


def gradient_model_code(item, case: LayerCase, ns: str = "K", var: str = "model") -> str:
    batch = case.shapes[0][0]
    if integer_input(case):
        return build_code(item, case, ns, var) + "; denses = []"
    lines = [f"src = {ns}.layers.Input(shape=({batch},))",
             f"denses = [{ns}.layers.Dense(int(np.prod(s[1:])), use_bias=False) for s in {case.shapes!r}]",
             f"branches = [{ns}.layers.Reshape(tuple(s[1:]))(d(src)) for d, s in zip(denses, {case.shapes!r})]"]
    if case.mask_layer:
        lines.append(f"branches = [{ns}.layers.Masking(mask_value={case.masked!r})(b) for b in branches]")
    lines += [f"layer = {ns}.layers.{item.attr}({case.kwargs_code(ns)})",
              f"{var} = {ns}.models.Model(src, layer(branches if {case.multi} else branches[0]))"]
    return "\n".join(lines)


def expected_config_keys(spec, item, kwargs=None) -> set[str] | None:
    """The keys ``get_config()`` holds for a layer constructed with ``kwargs``: the item's, the base
    layer's, and each of ``config_keys_when_set`` whose argument was given as something other than None."""
    base = spec.get("layers.Layer")
    if item.config_keys is None:
        return None
    when_set = {k for k in item.config_keys_when_set if (kwargs or {}).get(k) is not None}
    if item.base_config_keys is not None:
        return set(item.config_keys) | set(item.base_config_keys) | when_set
    return set(item.config_keys) | set((base.config_keys if base is not None else None) or ()) | when_set


# -- training-mode statistics ------------------------------------------------------------------------------
# Each statistic is bounded so that a correct implementation fails with probability below DELTA per
# bound (Hoeffding for a fraction of independent Bernoulli draws; a Gaussian tail for a mean; the
# Laurent-Massart chi-square bounds for a variance). A check uses a handful of bounds, each examples a
# few times: the union stays far below 1e-9.
DELTA = 1e-11
STAT_ELEMENTS = 20000
STAT_BATCH = 256


def statistics_shape(rank: int) -> tuple:
    side = math.ceil((STAT_ELEMENTS / STAT_BATCH) ** (1.0 / max(rank - 1, 1)))
    return (STAT_BATCH,) + (max(side, 2),) * (rank - 1)


def hoeffding(n: int, delta: float = DELTA) -> float:
    """|fraction - p| <= this with probability >= 1 - delta, for n independent Bernoulli(p) draws."""
    return math.sqrt(math.log(2.0 / delta) / (2.0 * n))


def gaussian_mean_bound(n: int, sigma: float, delta: float = DELTA) -> float:
    return sigma * math.sqrt(2.0 * math.log(2.0 / delta) / n)


def chi2_ratio_bounds(n: int, delta: float = DELTA) -> tuple[float, float]:
    """(low, high) of (sum of n squared standard normals) / n, each side with probability >= 1 - delta/2."""
    x = math.log(2.0 / delta)
    return 1.0 - 2.0 * math.sqrt(x / n), 1.0 + 2.0 * math.sqrt(x / n) + 2.0 * x / n
