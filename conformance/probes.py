"""Capability probes, run once per session in dependency order.

construct (models.Sequential + layers.Dense) -> call (Model.predict) -> compile (Model.compile)
-> fit (Model.train_on_batch) -> save (Model.save + models.load_model).

A check that needs a capability whose probe failed is skipped with ``blocked by Model.compile: <one
line>``; the probe's own check (``test_capability[Model.compile]``) is the one that fails.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np

from . import oracle
from .context import one_line

ORDER = ("construct", "call", "compile", "fit", "save")
LABELS = {
    "construct": "models.Sequential",
    "call": "Model.predict",
    "compile": "Model.compile",
    "fit": "Model.train_on_batch",
    "save": "Model.save",
}
DEPENDS = {"construct": (), "call": ("construct",), "compile": ("construct",),
           "fit": ("call", "compile"), "save": ("call",)}

PROBE_RECIPE = {"input_shape": (4,), "layers": [("Dense", {"units": 3})]}


@dataclass
class ProbeResult:
    capability: str
    ok: bool
    message: str = ""
    blocker: str = ""          # the capability whose own probe failed (itself or a dependency)
    reproducer: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.capability]

    @property
    def blocker_label(self) -> str:
        return LABELS.get(self.blocker, self.blocker)

    @property
    def failed_itself(self) -> bool:
        return not self.ok and self.blocker == self.capability


class Probes:
    def __init__(self, ctx):
        self.ctx = ctx
        self._results: dict[str, ProbeResult] = {}
        self._model = None

    def result(self, capability: str) -> ProbeResult:
        if capability not in self._results:
            for dep in DEPENDS[capability]:
                r = self.result(dep)
                if not r.ok:
                    self._results[capability] = ProbeResult(capability, False, r.message, r.blocker)
                    break
            else:
                self._results[capability] = self._run(capability)
        return self._results[capability]

    def all(self) -> list[ProbeResult]:
        return [self.result(c) for c in ORDER]

    def reproducer(self, capability: str) -> str:
        ctx = self.ctx
        lines = [ctx.preamble(), oracle.code(PROBE_RECIPE, ctx.api_version),
                 "x = np.ones((2, 4), 'float32'); y = np.zeros((2, 3), 'float32')"]
        if capability in ("call", "fit", "save"):
            lines.append("print(model.predict(x, verbose=0))")
        if capability in ("compile", "fit"):
            lines.append("model.compile(optimizer='sgd', loss='mean_squared_error')")
        if capability == "fit":
            lines.append("print(model.train_on_batch(x, y))")
        if capability == "save":
            lines.append("model.save('probe.h5'); print(K.models.load_model('probe.h5').predict(x, verbose=0))")
        return "\n".join(lines)

    def _run(self, capability: str) -> ProbeResult:
        ctx = self.ctx
        x = np.ones((2, 4), "float32")
        y = np.zeros((2, 3), "float32")
        try:
            if capability == "construct":
                ctx.seed(0)
                self._model = oracle.build(ctx.K, ctx.api_version, PROBE_RECIPE)
            elif capability == "call":
                out = ctx.k_numpy(oracle.predict(self._model, x))
                if out.shape != (2, 3):
                    raise AssertionError(f"predict returned shape {out.shape}, expected (2, 3)")
            elif capability == "compile":
                self._compiled = oracle.build(ctx.K, ctx.api_version, PROBE_RECIPE)
                self._compiled.compile(optimizer="sgd", loss="mean_squared_error")
            elif capability == "fit":
                self._compiled.train_on_batch(x, y)
            elif capability == "save":
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, "probe.h5")
                    self._model.save(path)
                    loaded = ctx.K.models.load_model(path)
                    out = ctx.k_numpy(oracle.predict(loaded, x))
                    if out.shape != (2, 3):
                        raise AssertionError(f"the loaded model predicts shape {out.shape}, expected (2, 3)")
        except Exception as exc:  # noqa: BLE001 - a probe records any failure in one line
            return ProbeResult(capability, False, one_line(exc), capability, self.reproducer(capability))
        return ProbeResult(capability, True, reproducer=self.reproducer(capability))
