"""Every loss against torch.nn.functional, every reduction: value and the gradients
of the input (and of the target where PyTorch has one), float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule.nn import functional as F
from tests.nn.torch_twins import assert_close

REDUCTIONS = ["mean", "sum", "none"]


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check(ours, theirs, x, target, grad_target=False, rtol=1e-10, atol=1e-12):
    """Value and gradients of sum(loss * w) agree (w random, for reduction='none')."""
    xt = cr.tensor(x, requires_grad=True)
    tt = cr.tensor(target, requires_grad=grad_target)
    out = ours(xt, tt)
    x_ref = torch.tensor(x, requires_grad=True)
    t_ref = torch.tensor(target, requires_grad=grad_target)
    ref = theirs(x_ref, t_ref)
    assert_close(out, ref, "loss", rtol, atol)
    w = np.random.default_rng(1).standard_normal(np.shape(ref.detach().numpy()))
    cr.sum(out * w).backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(xt.grad, x_ref.grad, "gradient of the input", rtol, atol)
    if grad_target:
        assert_close(tt.grad, t_ref.grad, "gradient of the target", rtol, atol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
def test_regression_losses(name, reduction):
    check(lambda x, t: getattr(F, name)(x, t, reduction=reduction),
          lambda x, t: getattr(TF, name)(x, t, reduction=reduction),
          _x(4, 3) * 2, _x(4, 3, seed=2) * 2, grad_target=True)


@pytest.mark.parametrize("delta", [0.3, 2.5])
def test_huber_delta_and_smooth_l1_beta(delta):
    check(lambda x, t: F.huber_loss(x, t, delta=delta),
          lambda x, t: TF.huber_loss(x, t, delta=delta), _x(5, 2) * 2, _x(5, 2, seed=2))
    check(lambda x, t: F.smooth_l1_loss(x, t, beta=delta),
          lambda x, t: TF.smooth_l1_loss(x, t, beta=delta), _x(5, 2) * 2, _x(5, 2, seed=2))


TARGETS = np.array([0, 3, 1, 3, 2])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT}, {"label_smoothing": 0.2},
                                     {"weight": WEIGHT, "label_smoothing": 0.3},
                                     {"ignore_index": 3}, {"ignore_index": 3, "weight": WEIGHT,
                                                           "label_smoothing": 0.1}], ids=str)
def test_cross_entropy_with_class_indices(options, reduction):
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    check(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **options),
          lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **torch_options),
          _x(5, 4) * 3, TARGETS)


@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT[:3], "label_smoothing": 0.2}],
                         ids=str)
def test_cross_entropy_spatial_and_unbatched(options):
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    target = np.random.default_rng(3).integers(0, 3, size=(2, 4, 5))
    check(lambda x, t: F.cross_entropy(x, t, **options),
          lambda x, t: TF.cross_entropy(x, t, **torch_options), _x(2, 3, 4, 5), target)
    check(lambda x, t: F.cross_entropy(x, t, reduction="none", **options),
          lambda x, t: TF.cross_entropy(x, t, reduction="none", **torch_options),
          _x(3), np.array(1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT, "label_smoothing": 0.25}], ids=str)
def test_cross_entropy_with_probabilities(options, reduction):
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    probs = np.random.default_rng(4).dirichlet(np.ones(4), size=5)
    check(lambda x, t: F.cross_entropy(x, t, reduction=reduction, **options),
          lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **torch_options),
          _x(5, 4), probs)


def test_cross_entropy_is_stable_for_huge_logits():
    x = cr.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 0]))
    assert float(loss) == 1000.0
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0], [-0.5, 0.5]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": WEIGHT}, {"ignore_index": 0}], ids=str)
def test_nll_loss(options, reduction):
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    logp = np.log(np.random.default_rng(5).dirichlet(np.ones(4), size=5))
    check(lambda x, t: F.nll_loss(x, t, reduction=reduction, **options),
          lambda x, t: TF.nll_loss(x, t, reduction=reduction, **torch_options), logp, TARGETS)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"pos_weight": np.array([0.5, 2.0, 3.0])},
                                     {"weight": np.array([1.0, 0.0, 2.0]),
                                      "pos_weight": np.array([2.0, 1.0, 0.5])}], ids=str)
def test_binary_cross_entropy_with_logits(options, reduction):
    torch_options = {k: torch.tensor(v) for k, v in options.items()}
    target = np.random.default_rng(6).uniform(size=(4, 3))
    check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction, **options),
          lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction,
                                                           **torch_options),
          _x(4, 3) * 4, target, grad_target=True)


def test_binary_cross_entropy_with_logits_is_stable():
    x = np.array([-800.0, 800.0, 30.0, -30.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    check(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
          lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="none"), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    probs = np.random.default_rng(7).uniform(0.05, 0.95, size=(4, 3))
    target = np.random.default_rng(8).uniform(size=(4, 3))
    check(lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction),
          lambda x, t: TF.binary_cross_entropy(x, t, reduction=reduction), probs, target,
          grad_target=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_loss(margin, reduction):
    """The SVM hinge against its PyTorch composite (PyTorch has no binary hinge loss)."""
    target = np.array([[1, -1, -1], [1, 1, -1]])

    def theirs(x, t):
        loss = TF.relu(margin - t * x)
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]

    check(lambda x, t: F.hinge_loss(x, t, margin, reduction), theirs, _x(2, 3), target)


def test_hinge_loss_kink_and_module():
    x = cr.tensor([1.0, -1.0, 0.5, 3.0], requires_grad=True)
    t = np.array([1, -1, 1, -1])
    loss = cr.nn.HingeLoss(reduction="sum")(x, t)  # margins t x = 1, 1, 0.5, -3
    assert float(loss) == 0.5 + 4.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, -1.0, 1.0])  # 0 at the kink


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding_loss(margin, reduction):
    target = np.array([[1, -1, -1], [1, 1, -1]])
    check(lambda x, t: F.hinge_embedding_loss(x, t, margin, reduction),
          lambda x, t: TF.hinge_embedding_loss(x, t, margin, reduction=reduction),
          np.abs(_x(2, 3)), target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"p": 2, "margin": 0.7}, {"weight": WEIGHT}], ids=str)
def test_multi_margin_loss(options, reduction):
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    check(lambda x, t: F.multi_margin_loss(x, t, reduction=reduction, **options),
          lambda x, t: TF.multi_margin_loss(x, t, reduction=reduction, **torch_options),
          _x(5, 4), TARGETS)
    check(lambda x, t: F.multi_margin_loss(x, t, reduction=reduction, **options),
          lambda x, t: TF.multi_margin_loss(x, t, reduction=reduction, **torch_options),
          _x(4), np.array(2))


def test_loss_modules_call_their_functions():
    x, t = _x(5, 4), TARGETS
    loss = cr.nn.CrossEntropyLoss(weight=WEIGHT, label_smoothing=0.1)(x, t)
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(WEIGHT), label_smoothing=0.1)(
        torch.tensor(x), torch.tensor(t))
    assert_close(loss, ref, "CrossEntropyLoss")
    pairs = [(cr.nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")),
             (cr.nn.L1Loss(), torch.nn.L1Loss()), (cr.nn.HuberLoss(delta=0.5),
                                                   torch.nn.HuberLoss(delta=0.5)),
             (cr.nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5)),
             (cr.nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss())]
    for ours, theirs in pairs:
        assert_close(ours(x, x * 0.3), theirs(torch.tensor(x), torch.tensor(x * 0.3)),
                     repr(ours))
    logp = np.log(np.full((5, 4), 0.25))
    assert_close(cr.nn.NLLLoss()(logp, t), torch.nn.NLLLoss()(torch.tensor(logp),
                                                              torch.tensor(t)), "NLLLoss")
    assert_close(cr.nn.MultiMarginLoss(p=2)(x, t), torch.nn.MultiMarginLoss(p=2)(
        torch.tensor(x), torch.tensor(t)), "MultiMarginLoss")
    assert_close(cr.nn.HingeEmbeddingLoss()(x, np.sign(x)), torch.nn.HingeEmbeddingLoss()(
        torch.tensor(x), torch.tensor(np.sign(x))), "HingeEmbeddingLoss")
    assert_close(cr.nn.BCELoss()(np.full(3, 0.3), np.ones(3)), torch.nn.BCELoss()(
        torch.full((3,), 0.3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)),
        "BCELoss")


def test_float32_losses_stay_float32():
    x = cr.tensor(_x(5, 4).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, TARGETS, weight=WEIGHT, label_smoothing=0.1)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    assert F.mse_loss(x, np.zeros((5, 4), np.float32)).dtype == np.float32
