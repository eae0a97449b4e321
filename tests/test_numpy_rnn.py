"""utils/numpy_rnn.py：前向与 torch.nn.RNN 一致，BPTT 与数值梯度、torch autograd 一致。"""
import numpy as np
import pytest
import torch

from utils.gradcheck import numerical_gradient, relative_error
from utils.numpy_rnn import (clip_by_global_norm, init_rnn_params, rnn_backward, rnn_forward,
                             softmax_cross_entropy)

B, T, D, H, K = 3, 6, 4, 5, 3


def _problem(activation="tanh", seed=0):
    rng = np.random.default_rng(seed)
    p = init_rnn_params(D, H, K, seed=seed)
    x = rng.normal(size=(B, T, D))
    h0 = rng.normal(scale=0.5, size=(B, H))
    y = rng.integers(K, size=(B, T))
    return p, x, h0, y


def _torch_rnn(p, activation):
    rnn = torch.nn.RNN(D, H, nonlinearity=activation, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b_s"]))
        rnn.bias_hh_l0.zero_()
    return rnn


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_matches_torch(activation):
    p, x, h0, _ = _problem(activation)
    cache = rnn_forward(x, h0, p["U"], p["W"], p["b_s"], p["V"], p["b_q"], activation)
    out, h_last = _torch_rnn(p, activation)(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(cache.S, out.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cache.S[:, -1], h_last[0].detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cache.Q, cache.S @ p["V"].T + p["b_q"], atol=1e-12)


def _loss_and_grads(p, x, h0, y, activation):
    cache = rnn_forward(x, h0, p["U"], p["W"], p["b_s"], p["V"], p["b_q"], activation)
    loss, dQ = softmax_cross_entropy(cache.Q, y)
    return loss, rnn_backward(cache, p["U"], p["W"], p["V"], dQ=dQ)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bptt_matches_finite_differences(activation):
    p, x, h0, y = _problem(activation, seed=1)
    _, grads = _loss_and_grads(p, x, h0, y, activation)
    inputs = {**p, "x": x, "h0": h0}
    for name, arr in inputs.items():
        num = numerical_gradient(lambda: _loss_and_grads(p, x, h0, y, activation)[0], arr)
        assert relative_error(grads["d" + name], num) < 1e-6, name


def test_bptt_matches_torch_autograd():
    p, x, h0, y = _problem("tanh", seed=2)
    loss, grads = _loss_and_grads(p, x, h0, y, "tanh")
    rnn = _torch_rnn(p, "tanh")
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    Vt, bqt = torch.tensor(p["V"], requires_grad=True), torch.tensor(p["b_q"], requires_grad=True)
    out, _ = rnn(xt, h0t)
    logits = out @ Vt.T + bqt
    loss_t = torch.nn.functional.cross_entropy(logits.reshape(-1, K), torch.from_numpy(y).reshape(-1))
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-12
    pairs = {"dU": rnn.weight_ih_l0.grad, "dW": rnn.weight_hh_l0.grad, "db_s": rnn.bias_ih_l0.grad,
             "dV": Vt.grad, "db_q": bqt.grad, "dx": xt.grad, "dh0": h0t.grad[0]}
    for name, g in pairs.items():
        np.testing.assert_allclose(grads[name], g.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_dS_is_gradient_wrt_each_state():
    """只在最后一步有损失时，dS[:, t] = ∂L/∂S_t，可用“从 S_t 重新开始跑”的数值梯度验证。"""
    p, x, h0, _ = _problem(seed=3)
    g_last = np.random.default_rng(0).normal(size=(B, H))
    dS_out = np.zeros((B, T, H))
    dS_out[:, -1] = g_last
    cache = rnn_forward(x, h0, p["U"], p["W"], p["b_s"])
    grads = rnn_backward(cache, p["U"], p["W"], dS_out=dS_out)
    t = 2
    s_t = cache.S[:, t].copy()

    def loss_from_state():
        rest = rnn_forward(x[:, t + 1:], s_t, p["U"], p["W"], p["b_s"])
        return float(np.sum(rest.S[:, -1] * g_last))

    num = numerical_gradient(loss_from_state, s_t)
    assert relative_error(grads["dS"][:, t], num) < 1e-6


def test_float32_forward_close_to_float64():
    p, x, h0, _ = _problem()
    c64 = rnn_forward(x, h0, p["U"], p["W"], p["b_s"])
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    c32 = rnn_forward(x.astype(np.float32), h0.astype(np.float32), p32["U"], p32["W"], p32["b_s"])
    assert c32.S.dtype == np.float32
    np.testing.assert_allclose(c32.S, c64.S, atol=1e-5)


def test_bad_input_raises_clear_error():
    p, x, h0, _ = _problem()
    with pytest.raises(ValueError, match="形状"):
        rnn_forward(x, h0, p["U"].T, p["W"], p["b_s"])
    with pytest.raises(ValueError, match="三维"):
        rnn_forward(x[0], h0, p["U"], p["W"], p["b_s"])
    with pytest.raises(ValueError, match="激活函数"):
        rnn_forward(x, h0, p["U"], p["W"], p["b_s"], activation="swish")


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    total = np.sqrt(sum(np.sum(g ** 2) for g in clipped.values()))
    assert total == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    same, _ = clip_by_global_norm(grads, 10.0)
    np.testing.assert_array_equal(same["b"], grads["b"])
