"""Module: registration by attribute, traversal, modes, gradients, state_dict round
trips and checked loading, dtype conversion, containers, repr."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3))
        self.dense = nn.Linear(3, 3)
        self.norm = nn.BatchNorm1d(3)
        self.register_buffer("steps", cr.tensor(0))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)
        self.last = None  # a plain attribute

    def forward(self, x):
        return self.norm(self.dense(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Block(), nn.ReLU(), nn.Linear(3, 2))
        self.heads = nn.ModuleList([nn.Linear(2, 1), nn.Linear(2, 1, bias=False)])

    def forward(self, x):
        h = self.body(x)
        return [head(h) for head in self.heads]


def test_parameter_is_a_plain_leaf_tensor():
    p = nn.Parameter([1.0, 2.0])
    assert type(p) is cr.Tensor and p.requires_grad and p.is_leaf
    assert isinstance(p, nn.Parameter)
    assert not isinstance(cr.tensor([1.0]), nn.Parameter)
    assert not isinstance(p * 2, nn.Parameter)  # a result of an operation is no parameter
    frozen = nn.Parameter([1.0], requires_grad=False)
    assert isinstance(frozen, nn.Parameter) and not frozen.requires_grad
    assert (p * p).sum().requires_grad  # the engine's fast path treats it as any tensor


def test_named_parameters_have_dotted_names_in_registration_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["body.0.scale", "body.0.dense.weight", "body.0.dense.bias",
                     "body.0.norm.weight", "body.0.norm.bias", "body.2.weight", "body.2.bias",
                     "heads.0.weight", "heads.0.bias", "heads.1.weight"]
    assert len(list(Net().parameters())) == 10


def test_state_dict_matches_torch_naming_and_order():
    net = Net()
    assert list(net.state_dict()) == [
        "body.0.scale", "body.0.steps", "body.0.dense.weight", "body.0.dense.bias",
        "body.0.norm.weight", "body.0.norm.bias", "body.0.norm.running_mean",
        "body.0.norm.running_var", "body.0.norm.num_batches_tracked", "body.2.weight",
        "body.2.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"]
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(8, 2))
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_children_modules_and_plain_attributes():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "ModuleList"]
    assert len(list(net.modules())) == 10
    block = net.body[0]
    block.last = cr.tensor([1.0]) * 2  # not a leaf: stays a plain attribute
    assert "last" not in dict(block.named_parameters()) and "last" not in block.state_dict()
    assert [n for n, _ in block.named_buffers()] == ["steps", "scratch", "norm.running_mean",
                                                     "norm.running_var",
                                                     "norm.num_batches_tracked"]


def test_shared_parameters_are_listed_once():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    assert len(list(model.parameters())) == 3


def test_train_eval_propagate_and_return_self():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_and_requires_grad():
    net = Net()
    out = net(cr.randn(4, 3, dtype="float32", generator=0))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_state_dict_round_trip_and_shared_memory():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(x.data, y.data, err_msg=name)
    state = a.state_dict()
    assert state["body.2.weight"].data is a.body[2].weight.data  # a view, like PyTorch's
    assert not state["body.2.weight"].requires_grad


def test_load_state_dict_keeps_the_tensor_objects():
    net = Net()
    weight = net.body[2].weight
    net.load_state_dict({k: np.ones(v.shape) for k, v in net.state_dict().items()})
    assert net.body[2].weight is weight and weight.dtype == np.float32
    assert np.all(weight.data == 1.0)


def _snapshot(model):
    return {k: v.data.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("body.2.bias"), r"missing keys \['body.2.bias'\]"),
    (lambda s: s.update(extra=np.zeros(1)), r"unexpected keys \['extra'\]"),
    (lambda s: s.update({"heads.0.weight": np.zeros((2, 1))}),
     r"'heads.0.weight' has shape \(2, 1\), the model's is \(1, 2\)"),
    (lambda s: s.update({"body.2.weight": "abc"}), r"'body.2.weight' is a str"),
])
def test_load_state_dict_errors_load_nothing(edit, message):
    net = Net()
    before = _snapshot(net)
    state = {k: np.full(v.shape, 7.0) for k, v in net.state_dict().items()}
    edit(state)
    with pytest.raises(ValueError, match=message):
        net.load_state_dict(state)
    after = _snapshot(net)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=f"{k} was half-loaded")


def test_load_state_dict_not_strict_reports_what_it_skipped():
    net = nn.Linear(2, 3)
    result = net.load_state_dict({"weight": np.zeros((3, 2)), "other": np.ones(1)},
                                 strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(net.weight.data == 0)
    with pytest.raises(ValueError, match="has shape"):
        net.load_state_dict({"weight": np.zeros((2, 2))}, strict=False)
    with pytest.raises(TypeError, match="expected a mapping"):
        net.load_state_dict([("weight", np.zeros((3, 2)))])


def test_to_float_double_convert_in_place():
    net = Net()
    weight = net.body[2].weight
    net(cr.randn(4, 3, generator=1))[0].sum().backward()
    net.double()
    assert net.body[2].weight is weight and weight.dtype == np.float64
    assert weight.grad.dtype == np.float64
    assert net.body[0].norm.running_mean.dtype == np.float64
    assert net.body[0].norm.num_batches_tracked.dtype == np.int64  # integers stay
    assert net.float().body[2].weight.dtype == np.float32
    with pytest.raises(TypeError, match="parameters must be floating"):
        net.to("int32")


def test_repr_is_readable():
    assert repr(Net()) == """Net(
  (body): Sequential(
    (0): Block(
      (dense): Linear(in_features=3, out_features=3, bias=True)
      (norm): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    )
    (1): ReLU()
    (2): Linear(in_features=3, out_features=2, bias=True)
  )
  (heads): ModuleList(
    (0): Linear(in_features=2, out_features=1, bias=True)
    (1): Linear(in_features=2, out_features=1, bias=False)
  )
)"""


def test_registration_errors():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before"):
        Early()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign ndarray to parameter 'weight'"):
        layer.weight = np.zeros((2, 2))
    layer.bias = None
    assert "bias" not in layer.state_dict()
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


def test_sequential_indexing_and_modulelist_editing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and [n for n, _ in head.named_children()] == ["0",
                                                                                      "1"]
    named = nn.Sequential({"encode": nn.Linear(2, 2), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["encode.weight", "encode.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    layers = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    layers.insert(0, nn.Tanh())
    layers += [nn.ReLU()]
    del layers[1]
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "ReLU"]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2"]
    layers[0] = nn.Sigmoid()
    assert isinstance(layers[0], nn.Sigmoid)
    with pytest.raises(NotImplementedError, match="iterate over it"):
        layers(1)


def test_apply_initializes_every_submodule():
    def fill(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)

    net = Net().apply(fill)
    assert np.all(net.heads[1].weight.data == 0.5) and np.all(net.body[2].weight.data == 0.5)


def test_grad_transform_through_a_module():
    """Layers are plain functions of their parameters to the transforms too."""
    layer = nn.Linear(3, 1, dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 3))

    def loss(w):
        return cr.sum(nn.functional.linear(x, w, layer.bias) ** 2)

    g = cr.grad(loss)(layer.weight.data)
    out = layer(x)
    cr.sum(out ** 2).backward()
    # loss closes over layer.bias, which requires grad: the gradient is a tensor on
    # its graph, so NumPy gets its values through detach()
    np.testing.assert_allclose(g.detach(), layer.weight.grad.data)
    hess = cr.hessian(loss)(layer.weight.data)
    np.testing.assert_allclose(np.asarray(hess).reshape(3, 3), 2 * x.T @ x)
