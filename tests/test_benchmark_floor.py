"""The benchmark's floor (reference/benchmark_floor.py) computes what the reference computes: from the same
weights, the same predictions, the same loss and the same SGD step, so the reference's time over the
floor's is a ratio between two runs of one workload."""
from __future__ import annotations

import numpy as np
import pytest

from keras_conformance import reference
from keras_conformance.reference import benchmark, benchmark_floor

MODELS = tuple(benchmark.MODELS)


@pytest.fixture(scope="module")
def R():
    return reference.keras("3")


def _pair(R, name):
    ours = benchmark.build(R, name)
    return ours, benchmark_floor.build(name, ours.get_weights())


def _assert_same_weights(floor, ours, before):
    for k, (got, want, start) in enumerate(zip(floor.get_weights(), ours.get_weights(), before)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=f"weight {k} {want.shape}")
        # The step is small next to the weights (lr 0.01): the weights agreeing says little about the
        # gradients unless the steps themselves agree, relative to their own size.
        step = want - start
        assert np.abs(step).max() > 0, f"weight {k} {want.shape}: the reference's step did not move it"
        np.testing.assert_allclose(got - start, step, rtol=0, atol=1e-3 * np.abs(step).max(),
                                   err_msg=f"the step of weight {k} {want.shape}")


@pytest.mark.parametrize("name", MODELS)
def test_predict_on_batch_is_the_references(R, name):
    ours, floor = _pair(R, name)
    x, _, _ = benchmark.data(name)
    np.testing.assert_allclose(floor.predict_on_batch(x[:8]), ours.predict_on_batch(x[:8]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_one_train_step_on_the_first_batch_is_the_references(R, name):
    ours, floor = _pair(R, name)
    before = ours.get_weights()
    x, y, batch = benchmark.data(name)
    want = ours.train_on_batch(x[:batch], y[:batch])
    got = floor.train_on_batch(x[:batch], y[:batch])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    _assert_same_weights(floor, ours, before)


@pytest.mark.parametrize("name", MODELS)
def test_fit_and_predict_visit_the_batches_as_keras_does(R, name):
    # Two whole batches and a half one: the loops' order, and a last batch of another size.
    ours, floor = _pair(R, name)
    before = ours.get_weights()
    x, y, batch = benchmark.data(name)
    n = 2 * batch + batch // 2
    x, y = x[:n], y[:n]
    want = ours.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False).history["loss"]
    got = floor.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    _assert_same_weights(floor, ours, before)
    np.testing.assert_allclose(floor.predict(x, batch_size=batch, verbose=0),
                               ours.predict(x, batch_size=batch, verbose=0), rtol=1e-5, atol=1e-6)


def test_the_floor_refuses_weights_of_another_model(R):
    with pytest.raises(ValueError, match="expected weights of shapes"):
        benchmark_floor.build("cnn", benchmark.build(R, "mlp").get_weights())


def test_the_ratios_are_to_the_fastest_keras_and_to_the_floor(capsys):
    def times(t):
        return {"label": "x", "times": dict.fromkeys(benchmark.WORKLOADS, t)}

    runs = [{benchmark.REFERENCE: times(6.0), benchmark.FLOOR: times(2.0), "jax": times(3.0),
             "torch": times(4.0), "tensorflow": {"label": "tensorflow", "error": "no"}},
            {benchmark.REFERENCE: times(6.0), benchmark.FLOOR: times(2.0), "jax": times(2.0),
             "torch": times(4.0), "tensorflow": {"label": "tensorflow", "error": "no"}}]
    assert benchmark.ratios(runs[0])["predict"] == (2.0, "jax", 3.0)
    benchmark.print_table("mlp", runs[0], repeat=5, run=0, runs=2)
    benchmark.print_spread("mlp", runs)
    out = capsys.readouterr().out
    assert "tensorflow: not measured (no)" in out
    assert "2.00 (jax)" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("train_on_batch")]
    # the spread table's row: to Keras 2.00, 3.00, 50.0%; to the floor 3.00, 3.00, 0.0%
    assert rows[-1][1:] == ["2.00", "3.00", "50.0%", "3.00", "3.00", "0.0%"]
