"""`step_arrays` updates an array of parameters bit for bit as `step` updates the Values, and the
optimiser's state is one: steps of either kind continue each other exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from nn.optim import SGD, Adam

pytestmark = pytest.mark.needs("numpy")

finite = st.floats(-1e3, 1e3, allow_nan=False)


def _make(kind, params, lr, mu, wd, b1, b2):
    if kind == "sgd":
        return SGD(params, lr=lr, momentum=mu, weight_decay=wd)
    return Adam(params, lr=lr, betas=(b1, b2))


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["sgd", "adam"]),
    data=st.lists(finite, min_size=1, max_size=6),
    grads=st.lists(st.lists(finite, min_size=6, max_size=6), min_size=1, max_size=5),
    kinds=st.lists(st.booleans(), min_size=5, max_size=5),
    lr=st.floats(0.0, 1.0),
    mu=st.sampled_from([0.0, 0.5, 0.9]),
    wd=st.sampled_from([0.0, 1e-3, 0.1]),
    b1=st.sampled_from([0.0, 0.9]),
    b2=st.sampled_from([0.5, 0.999]),
)
def test_step_arrays_equals_step_bit_for_bit(kind, data, grads, kinds, lr, mu, wd, b1, b2):
    """Steps on Values, and the same steps mixing step() and step_arrays(): the very same floats."""
    a = [ag.parameter(x) for x in data]
    b = [ag.parameter(x) for x in data]
    plain, mixed = _make(kind, a, lr, mu, wd, b1, b2), _make(kind, b, lr, mu, wd, b1, b2)
    theta = np.array(data)
    for g, as_array in zip(grads, kinds):
        g = g[: len(data)]
        for p, x in zip(a, g):
            p.grad = x
        plain.step()
        if as_array:
            mixed.step_arrays(theta, np.array(g))
            for p, x in zip(b, theta.tolist()):
                p.data = x
        else:
            for p, x in zip(b, g):
                p.grad = x
            mixed.step()
            theta = np.array([p.data for p in b])
    assert [p.data for p in a] == theta.tolist()
