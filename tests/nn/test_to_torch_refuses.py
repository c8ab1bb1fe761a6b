"""`to_torch` of a module it cannot convert (a bare `nn.Layer`, a `Neuron`, anything else) refuses in
one line naming it, before PyTorch is even imported (issue 21.9; was an AttributeError)."""

import sys

import pytest

import nn
from nn import pytorch


@pytest.mark.parametrize(
    "model, named",
    [
        (nn.Layer(2, 3), "got Layer: Layer(2 -> 3 relu)"),
        (nn.Neuron(2), "got Neuron: Neuron(2, relu)"),
        ({"layers": []}, "got dict"),
        (object(), "got object"),
    ],
    ids=["layer", "neuron", "dict", "object"],
)
def test_to_torch_refuses_what_it_cannot_convert_in_one_line_naming_it(model, named, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # refused before torch is needed
    with pytest.raises(TypeError) as caught:
        pytorch.to_torch(model)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("to_torch converts an nn.MLP") and named in message


@pytest.mark.needs("torch")
def test_to_torch_still_converts_an_mlp():
    import torch

    model = nn.MLP(2, [3, 1], seed=0)
    out = pytorch.to_torch(model)(torch.tensor([[0.5, -1.0]], dtype=torch.float64))
    assert out.item() == pytest.approx(model([0.5, -1.0]).data, rel=1e-12)
