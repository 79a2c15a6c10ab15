"""The bundled and generated datasets: sizes, ranges, dtypes, determinism."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(scope="module")
def digits():
    return cr.data.load_digits()


def test_digits_split_sizes_and_values(digits):
    train, test = digits
    (x, y), yt = train.tensors, test.tensors[1]
    assert len(train) + len(test) == 1797 and len(test) == 360
    assert x.shape == (1437, 64) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.numpy().min() == 0.0 and x.numpy().max() == 1.0
    # the split is stratified: every digit in (nearly) the same share of both parts
    share_train = np.bincount(y.numpy()) / len(y)
    share_test = np.bincount(yt.numpy()) / len(yt)
    np.testing.assert_allclose(share_train, share_test, atol=0.005)


def test_digits_split_is_fixed_and_disjoint(digits):
    again = cr.data.load_digits()
    np.testing.assert_array_equal(again.test.tensors[0].numpy(), digits.test.tensors[0].numpy())
    rows = {r.tobytes() for r in digits.train.tensors[0].numpy()}
    overlap = sum(r.tobytes() in rows for r in digits.test.tensors[0].numpy())
    assert overlap < 5  # only the handful of duplicate images in the original data
    other = cr.data.load_digits(seed=1)
    assert not np.array_equal(other.test.tensors[1].numpy(), digits.test.tensors[1].numpy())


@pytest.mark.parametrize("layout,shape", [("flat", (64,)), ("image", (1, 8, 8)),
                                          ("rows", (8, 8))])
def test_digits_layouts(digits, layout, shape):
    train, _ = cr.data.load_digits(layout=layout)
    x = train.tensors[0].numpy()
    assert x.shape[1:] == shape
    np.testing.assert_array_equal(x.reshape(len(x), 64), digits.train.tensors[0].numpy())


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="layout must be one of"):
        cr.data.load_digits(layout="square")
    with pytest.raises(ValueError, match="test_size"):
        cr.data.load_digits(test_size=1.5)


def test_spiral():
    x, y = cr.data.make_spiral(n_samples=301, n_classes=3, seed=0).tensors
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert np.bincount(y.numpy()).tolist() == [101, 100, 100]
    # each arm's radii run evenly from 0 to 1 (the noise is in the angle)
    radii = np.linalg.norm(x.numpy()[y.numpy() == 1], axis=1)
    np.testing.assert_allclose(radii, np.linspace(0, 1, 100), atol=1e-6)
    again = cr.data.make_spiral(n_samples=301, n_classes=3, seed=0).tensors[0].numpy()
    np.testing.assert_array_equal(again, x.numpy())
    with pytest.raises(ValueError, match="n_samples >= n_classes"):
        cr.data.make_spiral(n_samples=2, n_classes=3)


def test_moons():
    x, y = cr.data.make_moons(n_samples=100, noise=0.0, seed=0).tensors
    assert x.shape == (100, 2) and x.dtype == np.float32 and np.bincount(y.numpy()).tolist() \
        == [50, 50]
    # without noise the first moon is the upper unit half circle
    upper = x.numpy()[y.numpy() == 0]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, rtol=1e-6)


def test_sine_targets_are_the_next_value():
    x5, y5 = cr.data.sine_sequences(n_sequences=50, length=5, seed=3).tensors
    x6, _ = cr.data.sine_sequences(n_sequences=50, length=6, seed=3).tensors
    assert x5.shape == (50, 5, 1) and y5.shape == (50, 1) and x5.dtype == np.float32
    np.testing.assert_array_equal(x6.numpy()[:, :5], x5.numpy())
    np.testing.assert_array_equal(x6.numpy()[:, 5], y5.numpy())
    noisy, _ = cr.data.sine_sequences(n_sequences=50, length=5, seed=3, noise=0.1).tensors
    assert 0 < np.abs(noisy.numpy() - x5.numpy()).max() < 1.0
    with pytest.raises(ValueError, match="length >= 1"):
        cr.data.sine_sequences(length=0)
