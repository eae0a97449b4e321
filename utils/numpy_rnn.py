"""普通（vanilla）RNN 的 NumPy 参考实现：逐步前向传播与时间反向传播（BPTT）。

记号沿用课程第 1 章（与原文一致）：

    S_t = f(U·X_t + W·S_{t-1} + b_s)      隐状态（常写作 h_t）
    Q_t = g(V·S_t + b_q)                  输出（原文有一处把输出偏置写成 b_o，本课程统一用 b_q）

形状约定（批量在前，与 torch 的 batch_first=True、Keras 相同）：
    x: (B, T, D)   h0: (B, H)   U: (H, D)   W: (H, H)   b_s: (H,)   V: (K, H)   b_q: (K,)
矩阵按“列向量”写法存放（U 的形状是 (H, D)），批量计算时用 x_t @ U.T，与 torch.nn.RNN 的
weight_ih / weight_hh 相同；Keras SimpleRNN 的 kernel / recurrent_kernel 是它们的转置。

这里的 Q_t 是 g 之前的线性输出（logits）：分类任务的 g=softmax 放进损失函数
softmax_cross_entropy 里一起求导，更稳定。门控网络（utils/numpy_gated.py）复用本模块的
激活函数与损失。
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ---------- 激活函数：f(a) 与 f'(a)（对预激活 a 求导） ----------

def sigmoid(a: np.ndarray) -> np.ndarray:
    """数值稳定的 σ(a) = 1 / (1 + e^{-a})。"""
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    ea = np.exp(a[~pos])
    out[~pos] = ea / (1.0 + ea)
    return out


ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(a.dtype)),
    "sigmoid": (sigmoid, lambda a: sigmoid(a) * (1.0 - sigmoid(a))),
    "linear": (lambda a: a, np.ones_like),
}


def get_activation(name: str):
    """按名字返回 (f, f')；名字不认识时给出清楚的错误。"""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"不认识的激活函数 {name!r}，可选 {sorted(ACTIVATIONS)} "
                         f"(unknown activation {name!r})") from None


# ---------- 损失：softmax + 交叉熵 ----------

def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax，先减去最大值（数值稳定）；make poem 的 NumPy 写诗与解码规则共用。"""
    z = logits - logits.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray):
    """logits (..., K)，targets (...) 为整数类别。返回 (平均损失, ∂损失/∂logits)。"""
    k = logits.shape[-1]
    flat, t = logits.reshape(-1, k), np.asarray(targets).reshape(-1)
    if flat.shape[0] != t.shape[0]:
        raise ValueError(f"logits 与 targets 的个数不一致：{flat.shape[0]} vs {t.shape[0]} "
                         "(logits and targets disagree in size)")
    p = softmax(flat)
    n = t.shape[0]
    loss = -np.log(p[np.arange(n), t] + 1e-300).mean()
    grad = p.copy()
    grad[np.arange(n), t] -= 1.0
    return float(loss), (grad / n).reshape(logits.shape)


# ---------- 参数 ----------

def init_rnn_params(input_size: int, hidden_size: int, output_size: int | None = None,
                    seed: int = 0, dtype=np.float64) -> dict:
    """均匀分布 U(-1/√H, 1/√H) 初始化（与 torch.nn.RNN 相同）。返回 {U, W, b_s[, V, b_q]}。"""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)

    def uni(*shape):
        return rng.uniform(-k, k, size=shape).astype(dtype)

    params = {"U": uni(hidden_size, input_size), "W": uni(hidden_size, hidden_size),
              "b_s": uni(hidden_size)}
    if output_size is not None:
        params["V"], params["b_q"] = uni(output_size, hidden_size), uni(output_size)
    return params


# ---------- 前向 ----------

@dataclass
class RNNCache:
    """前向传播的结果，也是反向传播需要的全部中间量。"""
    x: np.ndarray        # (B, T, D) 输入
    h0: np.ndarray       # (B, H)    初始状态 S_0
    A: np.ndarray        # (B, T, H) 预激活 U·X_t + W·S_{t-1} + b_s
    S: np.ndarray        # (B, T, H) 隐状态 S_1..S_T
    Q: np.ndarray | None  # (B, T, K) 输出 logits；没有 V 时为 None
    activation: str


def rnn_step(x_t, s_prev, U, W, b_s, activation: str = "tanh"):
    """一个时间步：返回 (S_t, 预激活 A_t)。x_t (B, D)，s_prev (B, H)。"""
    f, _ = get_activation(activation)
    a = x_t @ U.T + s_prev @ W.T + b_s
    return f(a), a


def _check_shapes(x, h0, U, W, b_s):
    if x.ndim != 3:
        raise ValueError(f"x 应为 (批量, 时间步, 特征) 三维数组，得到形状 {x.shape} "
                         "(x must be (batch, time, features))")
    B, _, D = x.shape
    H = W.shape[0]
    expected = {"U": (H, D), "W": (H, H), "b_s": (H,), "h0": (B, H)}
    for name, arr in {"U": U, "W": W, "b_s": b_s, "h0": h0}.items():
        if arr.shape != expected[name]:
            raise ValueError(f"{name} 的形状应为 {expected[name]}，得到 {arr.shape} "
                             f"({name} has the wrong shape)")


def rnn_forward(x, h0, U, W, b_s, V=None, b_q=None, activation: str = "tanh") -> RNNCache:
    """逐个时间步计算 S_1..S_T（以及有 V 时的 Q_1..Q_T），返回 RNNCache。"""
    x, h0 = np.asarray(x), np.asarray(h0)
    _check_shapes(x, h0, U, W, b_s)
    B, T, _ = x.shape
    A = np.empty((B, T, W.shape[0]), dtype=np.result_type(x, U))
    S = np.empty_like(A)
    s = h0
    for t in range(T):
        s, A[:, t] = rnn_step(x[:, t], s, U, W, b_s, activation)
        S[:, t] = s
    Q = None if V is None else S @ V.T + (0 if b_q is None else b_q)
    return RNNCache(x=x, h0=h0, A=A, S=S, Q=Q, activation=activation)


# ---------- 反向（BPTT） ----------

def rnn_backward(cache: RNNCache, U, W, V=None, dQ=None, dS_out=None) -> dict:
    """时间反向传播。

    dQ:     (B, T, K) 损失对输出 Q_t 的梯度（可为 None）
    dS_out: (B, T, H) 损失直接作用在 S_t 上的梯度（例如上面还有一层；可为 None）
    返回字典：dU, dW, db_s, dx, dh0，有 V 时还有 dV, db_q；
    dS (B, T, H) 是到达每个 S_t 的总梯度 ∂L/∂S_t（含从未来各步传回来的部分），第 3 章用它画梯度随距离的变化。

    递推：dS_t = V^T dQ_t + dS_out_t + W^T dA_{t+1}，dA_t = dS_t ⊙ f'(A_t)。
    """
    if dQ is None and dS_out is None:
        raise ValueError("dQ 与 dS_out 至少给一个 (give dQ or dS_out)")
    x, S, A = cache.x, cache.S, cache.A
    B, T, H = S.shape
    _, df = get_activation(cache.activation)

    direct = np.zeros_like(S) if dS_out is None else np.array(dS_out, dtype=S.dtype)
    grads = {}
    if dQ is not None:
        if V is None:
            raise ValueError("给了 dQ 就要给 V (dQ needs V)")
        direct += dQ @ V
        grads["dV"] = np.einsum("btk,bth->kh", dQ, S)
        grads["db_q"] = dQ.sum(axis=(0, 1))

    dS = np.empty_like(S)
    dA = np.empty_like(S)
    carry = np.zeros((B, H), dtype=S.dtype)   # W^T dA_{t+1}：从下一步传回来的梯度
    for t in reversed(range(T)):
        dS[:, t] = direct[:, t] + carry
        dA[:, t] = dS[:, t] * df(A[:, t])
        carry = dA[:, t] @ W
    S_prev = np.concatenate([cache.h0[:, None], S[:, :-1]], axis=1)
    grads.update(
        dU=np.einsum("bth,btd->hd", dA, x),
        dW=np.einsum("bth,btj->hj", dA, S_prev),
        db_s=dA.sum(axis=(0, 1)),
        dx=dA @ U,
        dh0=carry,
        dS=dS,
    )
    return grads


def clip_by_global_norm(grads: dict, max_norm: float):
    """把一组梯度整体缩放，使它们拼在一起的 L2 范数不超过 max_norm。返回 (新梯度, 缩放前的范数)。"""
    norm = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))
    scale = min(1.0, max_norm / (norm + 1e-12))
    return {k: g * scale for k, g in grads.items()}, norm
