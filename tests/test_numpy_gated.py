"""utils/numpy_gated.py：梯度检查（float64）与 PyTorch、Keras 的逐元素对照（float32）。"""
import numpy as np
import pytest
import torch

from utils import numpy_gated as ng

B, T, D, H = 3, 6, 4, 5


@pytest.fixture(scope="module")
def keras():
    from utils.settings import import_tensorflow

    import_tensorflow()
    import keras

    return keras


def _x(dtype, seed=1):
    return np.random.default_rng(seed).standard_normal((B, T, D)).astype(dtype)


@pytest.mark.parametrize("make, cell", [
    (lambda: ng.init_lstm(D, H, forget_bias=1.0), "lstm"),
    (lambda: ng.init_gru(D, H, reset_after=False), "gru"),
    (lambda: ng.init_gru(D, H, reset_after=True), "gru"),
])
def test_gradient_check(make, cell):
    errors = ng.gradient_check(make(), _x(np.float64), cell)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_backward(monkeypatch):
    """一个错误的反向传播必须被检查出来（测试本身能失败）。"""
    real = ng.lstm_backward

    def broken(params, cache, dh, **kw):
        grads = real(params, cache, dh, **kw)
        grads["W"][0, 0] += 0.1
        return grads

    monkeypatch.setattr(ng, "lstm_backward", broken)
    errors = ng.gradient_check(ng.init_lstm(D, H), _x(np.float64), "lstm")
    assert errors["W"] > 1e-3


def test_lstm_state_gradients():
    """h0、c0 的梯度与最后状态的上游梯度也按差分检查。"""
    from utils.gradcheck import numerical_gradient, relative_error

    p, x = ng.init_lstm(D, H), _x(np.float64)
    rng = np.random.default_rng(2)
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    dcT = rng.standard_normal((B, H))

    def loss():
        _, (_, cT), _ = ng.lstm_forward(p, x, h0, c0)
        return float(np.sum(cT * dcT))

    _, _, cache = ng.lstm_forward(p, x, h0, c0)
    g = ng.lstm_backward(p, cache, np.zeros((B, T, H)), dc_last=dcT)
    assert relative_error(g["c0"], numerical_gradient(loss, c0)) < 1e-7
    assert relative_error(g["h0"], numerical_gradient(loss, h0)) < 1e-7
    np.testing.assert_allclose(g["C"][:, -1], dcT)  # ∂L/∂C_T 就是上游梯度


def test_forget_gate_keeps_memory():
    """f≈1、i≈0 时记忆原样保留；f≈0 时被清除。"""
    p = ng.init_lstm(D, H)
    x = _x(np.float64)
    c0 = np.ones((B, H))
    p["b"][:H], p["b"][H:2 * H] = 50, -50         # f≈1, i≈0
    p["W"][:2 * H] = 0
    _, (_, cT), _ = ng.lstm_forward(p, x, c0=c0)
    np.testing.assert_allclose(cT, c0, atol=1e-12)
    p["b"][:H] = -50                                # f≈0
    _, (_, cT), _ = ng.lstm_forward(p, x, c0=c0)
    np.testing.assert_allclose(cT, 0, atol=1e-12)


def test_reset_forms_differ():
    """同样的权重，重置在前与重置在后给出不同的结果（不是同一个公式）。"""
    after = ng.init_gru(D, H, reset_after=True)
    before = {k: v for k, v in after.items() if k != "b_hh"}
    after["b_hh"][:] = 0
    x = _x(np.float64)
    assert np.abs(ng.gru_forward(after, x)[0] - ng.gru_forward(before, x)[0]).max() > 1e-3


def test_bad_input_message():
    with pytest.raises(ValueError, match="x 的形状"):
        ng.lstm_forward(ng.init_lstm(D, H), np.zeros((B, T, D + 1)))
    with pytest.raises(ValueError, match="cell"):
        ng.gradient_check(ng.init_lstm(D, H), _x(np.float64), "rnn")


def _torch_params(layer):
    return [getattr(layer, n).detach().numpy() for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]


def test_lstm_equals_torch():
    torch.manual_seed(0)
    layer = torch.nn.LSTM(D, H, batch_first=True)
    x = _x(np.float32)
    expected, (hT, cT) = layer(torch.from_numpy(x))
    ours, (h_last, c_last), _ = ng.lstm_forward(ng.lstm_from_torch(*_torch_params(layer)), x)
    np.testing.assert_allclose(ours, expected.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(c_last, cT[0].detach().numpy(), atol=1e-5)


def test_gru_equals_torch():
    torch.manual_seed(0)
    layer = torch.nn.GRU(D, H, batch_first=True)
    x = _x(np.float32)
    expected, _ = layer(torch.from_numpy(x))
    ours, _, _ = ng.gru_forward(ng.gru_from_torch(*_torch_params(layer)), x)
    np.testing.assert_allclose(ours, expected.detach().numpy(), atol=1e-5)


def test_backward_equals_torch_autograd():
    """float64 的 BPTT 与 PyTorch 自动求导一致（LSTM 与重置在后的 GRU）。"""
    torch.manual_seed(0)
    x = _x(np.float64)
    R = np.random.default_rng(3).standard_normal((B, T, H))
    for cls, convert, forward, backward in [
        (torch.nn.LSTM, ng.lstm_from_torch, ng.lstm_forward, ng.lstm_backward),
        (torch.nn.GRU, ng.gru_from_torch, ng.gru_forward, ng.gru_backward),
    ]:
        layer = cls(D, H, batch_first=True).double()
        xt = torch.tensor(x, requires_grad=True)
        (layer(xt)[0] * torch.from_numpy(R)).sum().backward()
        params = convert(*_torch_params(layer))
        _, *_, cache = forward(params, x)
        np.testing.assert_allclose(backward(params, cache, R)["x"], xt.grad.numpy(), atol=1e-10)


def _keras_run(keras, layer, x):
    out = layer(x)
    kernel, recurrent, bias = (w.numpy() for w in layer.weights)
    return np.asarray(out), kernel, recurrent, bias


def test_lstm_equals_keras(keras):
    keras.utils.set_random_seed(0)
    x = _x(np.float32)
    layer = keras.layers.LSTM(H, return_sequences=True, bias_initializer="random_normal")
    out, *weights = _keras_run(keras, layer, x)
    ours, _, _ = ng.lstm_forward(ng.lstm_from_keras(*weights), x)
    np.testing.assert_allclose(ours, out, atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_equals_keras(keras, reset_after):
    keras.utils.set_random_seed(0)
    x = _x(np.float32)
    layer = keras.layers.GRU(H, return_sequences=True, reset_after=reset_after,
                             bias_initializer="random_normal")
    out, *weights = _keras_run(keras, layer, x)
    params = ng.gru_from_keras(*weights)
    assert ("b_hh" in params) == reset_after
    ours, _, _ = ng.gru_forward(params, x)
    np.testing.assert_allclose(ours, out, atol=1e-5)

