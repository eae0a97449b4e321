"""LSTM 与 GRU 的 NumPy 参考实现：前向、时间反向传播（BPTT），以及与 PyTorch / Keras 权重的对应。

第 4、5 章用。记号沿用原文，门都作用在拼接向量 [h_{t-1}, x_t] 上：

LSTM  f_t = σ(W_f·[h_{t-1}, x_t] + b_f)        遗忘门，≈1 保留旧记忆，≈0 清除
      i_t = σ(W_i·[h_{t-1}, x_t] + b_i)        输入门
      C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)     候选记忆
      C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
      o_t = σ(W_o·[h_{t-1}, x_t] + b_o)        输出门
      h_t = o_t ⊙ tanh(C_t)
GRU   z_t = σ(W_z·[h_{t-1}, x_t] + b_z)        更新门
      r_t = σ(W_r·[h_{t-1}, x_t] + b_r)        重置门
      重置在前（原文；Keras reset_after=False）：h̃_t = tanh(W_h·[r_t ⊙ h_{t-1}, x_t] + b_h)
      重置在后（PyTorch、Keras 默认、cuDNN）：  h̃_t = tanh(W_hx·x_t + b_h + r_t ⊙ (W_hh·h_{t-1} + b_hh))
      h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

参数是字典：LSTM {"W": [4H, H+D], "b": [4H]}，行按 f, i, C, o 排；
GRU {"W": [3H, H+D], "b": [3H]}，行按 z, r, h 排；重置在后的 GRU 多一个 "b_hh": [H]。
W 的前 H 列乘 h_{t-1}，后 D 列乘 x_t（W_hx、W_hh 就是 W 的最后 H 行的这两块）。
数据形状：x[B, T, D]，输出 h[B, T, H]（批在前，与 batch_first=True、Keras 一致）。
"""
from __future__ import annotations

import numpy as np

from utils.gradcheck import numerical_gradient, relative_error
from utils.numpy_rnn import sigmoid  # 与第 3 章共用同一个数值稳定的 σ

LSTM_GATES = ("f", "i", "C", "o")  # 本模块（原文）的顺序
GRU_GATES = ("z", "r", "h")

# 框架里的门顺序，写成本模块的门名
TORCH_LSTM_ORDER = ("i", "f", "C", "o")   # PyTorch: i, f, g, o
KERAS_LSTM_ORDER = ("i", "f", "C", "o")   # Keras:   i, f, c, o
TORCH_GRU_ORDER = ("r", "z", "h")         # PyTorch: r, z, n
KERAS_GRU_ORDER = ("z", "r", "h")         # Keras:   z, r, h


# ---------------------------------------------------------------- 初始化

def _uniform(rng, shape, hidden, dtype):
    bound = 1 / np.sqrt(hidden)  # 与 PyTorch 的默认初始化同一范围
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def init_lstm(input_size: int, hidden: int, forget_bias: float = 0.0, seed: int = 0,
              dtype=np.float64) -> dict:
    """随机 LSTM 参数；forget_bias 加在 b_f 上（越大，遗忘门一开始越接近 1，越“记得住”）。"""
    _check_sizes(input_size, hidden)
    rng = np.random.default_rng(seed)
    params = {"W": _uniform(rng, (4 * hidden, hidden + input_size), hidden, dtype),
              "b": _uniform(rng, (4 * hidden,), hidden, dtype)}
    params["b"][:hidden] += dtype(forget_bias)
    return params


def init_gru(input_size: int, hidden: int, reset_after: bool = True, seed: int = 0,
             dtype=np.float64) -> dict:
    """随机 GRU 参数；reset_after=True 时多一个候选状态的循环偏置 b_hh。"""
    _check_sizes(input_size, hidden)
    rng = np.random.default_rng(seed)
    params = {"W": _uniform(rng, (3 * hidden, hidden + input_size), hidden, dtype),
              "b": _uniform(rng, (3 * hidden,), hidden, dtype)}
    if reset_after:
        params["b_hh"] = _uniform(rng, (hidden,), hidden, dtype)
    return params


def _check_sizes(input_size, hidden):
    if input_size < 1 or hidden < 1:
        raise ValueError(f"input_size 与 hidden 必须是正整数，收到 {input_size}、{hidden} "
                         f"(sizes must be positive)")


def _sizes(params: dict, x: np.ndarray, gates: int) -> tuple[int, int]:
    """检查形状，返回 (H, D)。"""
    W = params["W"]
    if W.shape[0] % gates:
        raise ValueError(f"W 的行数 {W.shape[0]} 应是 {gates}·H (W must have {gates}·H rows)")
    H = W.shape[0] // gates
    D = W.shape[1] - H
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x 的形状应为 [B, T, {D}]，收到 {x.shape} (x must be [batch, time, {D}])")
    return H, D


def _initial(state, B, H, dtype):
    return np.zeros((B, H), dtype=dtype) if state is None else state


# ---------------------------------------------------------------- LSTM

def lstm_forward(params: dict, x: np.ndarray, h0=None, c0=None):
    """LSTM 前向。返回 (h[B, T, H], (h_T, C_T), cache)。

    cache 中 "f" "i" "C~" "o" 是各门在每一步的取值 [B, T, H]（画热力图用），"C" 是 C_0..C_T。
    """
    W, b = params["W"], params["b"]
    H, _ = _sizes(params, x, 4)
    B, T, _ = x.shape
    h, c = _initial(h0, B, H, x.dtype), _initial(c0, B, H, x.dtype)
    hs = np.empty((B, T, H), dtype=x.dtype)
    cache = {"hx": [], "f": [], "i": [], "C~": [], "o": [], "C": [c], "tanhC": []}
    for t in range(T):
        hx = np.concatenate([h, x[:, t]], axis=1)          # [h_{t-1}, x_t]
        a = hx @ W.T + b
        f, i, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
        g = np.tanh(a[:, 2 * H:3 * H])                     # C̃_t
        c = f * c + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        hs[:, t] = h
        for key, value in zip(("hx", "f", "i", "C~", "o", "C", "tanhC"), (hx, f, i, g, o, c, tanh_c)):
            cache[key].append(value)
    cache = {k: np.stack(v, axis=1) for k, v in cache.items()}
    return hs, (h, c), cache


def lstm_backward(params: dict, cache: dict, dh: np.ndarray, dh_last=None, dc_last=None) -> dict:
    """LSTM 的 BPTT。dh[B, T, H] 是损失对每步输出 h_t 的梯度（dh_last、dc_last 对最终状态）。

    返回梯度 {"W", "b", "x", "h0", "c0", "C"}；"C"[B, T, H] 是 ∂L/∂C_t（含从后面各步传回的部分）。
    """
    W = params["W"]
    B, T, H = dh.shape
    f, i, g, o, tanh_c, hx = (cache[k] for k in ("f", "i", "C~", "o", "tanhC", "hx"))
    grads = {"W": np.zeros_like(W), "b": np.zeros_like(params["b"]),
             "x": np.empty((B, T, W.shape[1] - H), dtype=dh.dtype), "C": np.empty_like(dh)}
    dh_next = np.zeros((B, H), dh.dtype) if dh_last is None else dh_last
    dc_next = np.zeros((B, H), dh.dtype) if dc_last is None else dc_last
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dh_next
        dc = dc_next + dh_t * o[:, t] * (1 - tanh_c[:, t] ** 2)
        grads["C"][:, t] = dc
        da = np.concatenate([
            dc * cache["C"][:, t] * f[:, t] * (1 - f[:, t]),   # f：C_{t-1} 是 C 的第 t 项
            dc * g[:, t] * i[:, t] * (1 - i[:, t]),
            dc * i[:, t] * (1 - g[:, t] ** 2),
            dh_t * tanh_c[:, t] * o[:, t] * (1 - o[:, t]),
        ], axis=1)
        grads["W"] += da.T @ hx[:, t]
        grads["b"] += da.sum(axis=0)
        dhx = da @ W
        dh_next, grads["x"][:, t] = dhx[:, :H], dhx[:, H:]
        dc_next = dc * f[:, t]
    grads["h0"], grads["c0"] = dh_next, dc_next
    return grads


# ---------------------------------------------------------------- GRU

def gru_forward(params: dict, x: np.ndarray, h0=None):
    """GRU 前向；参数里有 "b_hh" 时用重置在后的形式，否则用原文的重置在前。

    返回 (h[B, T, H], h_T, cache)；cache 中 "z" "r" "h~" 是各步的门与候选状态 [B, T, H]。
    """
    W, b = params["W"], params["b"]
    H, _ = _sizes(params, x, 3)
    reset_after = "b_hh" in params
    B, T, _ = x.shape
    h = _initial(h0, B, H, x.dtype)
    hs = np.empty((B, T, H), dtype=x.dtype)
    keys = ("h_prev", "hx", "z", "r", "h~", "inner")
    cache = {k: [] for k in keys}
    for t in range(T):
        hx = np.concatenate([h, x[:, t]], axis=1)
        a = hx @ W[:2 * H].T + b[:2 * H]                    # z、r 两个门
        z, r = sigmoid(a[:, :H]), sigmoid(a[:, H:])
        Wh = W[2 * H:]
        if reset_after:
            inner = h @ Wh[:, :H].T + params["b_hh"]          # W_hh·h_{t-1} + b_hh
            n = np.tanh(x[:, t] @ Wh[:, H:].T + b[2 * H:] + r * inner)
        else:
            inner = np.concatenate([r * h, x[:, t]], axis=1)  # [r_t ⊙ h_{t-1}, x_t]
            n = np.tanh(inner @ Wh.T + b[2 * H:])
        for key, value in zip(keys, (h, hx, z, r, n, inner)):
            cache[key].append(value)
        h = (1 - z) * h + z * n
        hs[:, t] = h
    cache = {k: np.stack(v, axis=1) for k, v in cache.items()}
    cache["x"] = x
    return hs, h, cache


def gru_backward(params: dict, cache: dict, dh: np.ndarray, dh_last=None) -> dict:
    """GRU 的 BPTT。返回梯度 {"W", "b", ("b_hh"), "x", "h0"}。"""
    W = params["W"]
    B, T, H = dh.shape
    reset_after = "b_hh" in params
    Wzr, Wh = W[:2 * H], W[2 * H:]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    grads["x"] = np.empty_like(cache["x"])
    dh_next = np.zeros((B, H), dh.dtype) if dh_last is None else dh_last
    for t in reversed(range(T)):
        h_prev, z, r, n, inner = (cache[k][:, t] for k in ("h_prev", "z", "r", "h~", "inner"))
        dh_t = dh[:, t] + dh_next
        dz = dh_t * (n - h_prev)
        dh_prev = dh_t * (1 - z)
        dan = dh_t * z * (1 - n ** 2)                          # 对 tanh 之前的量
        if reset_after:
            x_t = cache["x"][:, t]
            grads["W"][2 * H:, H:] += dan.T @ x_t
            dx = dan @ Wh[:, H:]
            d_inner = dan * r
            dr = dan * inner
            grads["W"][2 * H:, :H] += d_inner.T @ h_prev
            grads["b_hh"] += d_inner.sum(axis=0)
            dh_prev += d_inner @ Wh[:, :H]
        else:
            grads["W"][2 * H:] += dan.T @ inner
            d_inner = dan @ Wh
            dx = d_inner[:, H:]
            dr = d_inner[:, :H] * h_prev
            dh_prev += d_inner[:, :H] * r
        grads["b"][2 * H:] += dan.sum(axis=0)
        da = np.concatenate([dz * z * (1 - z), dr * r * (1 - r)], axis=1)
        grads["W"][:2 * H] += da.T @ cache["hx"][:, t]
        grads["b"][:2 * H] += da.sum(axis=0)
        dhx = da @ Wzr
        dh_next = dh_prev + dhx[:, :H]
        grads["x"][:, t] = dx + dhx[:, H:]
    grads["h0"] = dh_next
    return grads


# ---------------------------------------------------------------- 梯度检查

def gradient_check(params: dict, x: np.ndarray, cell: str, seed: int = 0, eps: float = 1e-6) -> dict:
    """损失 L = Σ R ⊙ h（R 随机），比较 BPTT 与中心差分。返回 {参数名或 "x": 相对误差}。

    请用 float64；float32 的舍入误差会淹没差分。
    """
    passes = {"lstm": (lstm_forward, lstm_backward), "gru": (gru_forward, gru_backward)}
    if cell not in passes:
        raise ValueError(f"cell 只能是 'lstm' 或 'gru'，收到 {cell!r} (unknown cell)")
    forward, backward = passes[cell]
    hs, *_, cache = forward(params, x)
    R = np.random.default_rng(seed).standard_normal(hs.shape)
    grads = backward(params, cache, R)

    def loss():
        return float(np.sum(forward(params, x)[0] * R))

    return {name: relative_error(grads[name], numerical_gradient(loss, value, eps))
            for name, value in [*params.items(), ("x", x)]}


# ---------------------------------------------------------------- 与框架的权重对应

def _reorder(rows: np.ndarray, order: tuple[str, ...], target: tuple[str, ...]) -> np.ndarray:
    """把按 order 分块排列的行（每块 H 行）重排成 target 的顺序。"""
    blocks = dict(zip(order, np.split(rows, len(order), axis=0)))
    return np.concatenate([blocks[g] for g in target], axis=0)


def lstm_from_torch(weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """torch.nn.LSTM 的一层 -> 本模块参数。

    PyTorch 的 weight_ih [4H, D]、weight_hh [4H, H] 已是“输出 × 输入”，不用转置；
    行按 i, f, g, o 排；两个偏置 b_ih、b_hh 总是相加出现，合成一个。
    """
    W = np.concatenate([weight_hh, weight_ih], axis=1)   # [h, x] 的顺序：先 h 后 x
    return {"W": _reorder(W, TORCH_LSTM_ORDER, LSTM_GATES),
            "b": _reorder(bias_ih + bias_hh, TORCH_LSTM_ORDER, LSTM_GATES)}


def lstm_from_keras(kernel, recurrent_kernel, bias) -> dict:
    """keras.layers.LSTM -> 本模块参数。

    Keras 的 kernel [D, 4H]、recurrent_kernel [H, 4H] 是“输入 × 输出”（x @ kernel），要转置；
    列按 i, f, c, o 排；只有一个偏置 [4H]。
    """
    W = np.concatenate([recurrent_kernel, kernel], axis=0).T
    return {"W": _reorder(W, KERAS_LSTM_ORDER, LSTM_GATES),
            "b": _reorder(bias, KERAS_LSTM_ORDER, LSTM_GATES)}


def _flip_update_gate(params: dict, H: int) -> dict:
    """框架写 h_t = z'⊙h_{t-1} + (1-z')⊙h̃_t，原文写 h_t = (1-z)⊙h_{t-1} + z⊙h̃_t，所以 z = 1 - z'。
    σ(-a) = 1 - σ(a)：把 z 那一块的权重和偏置取负即可。"""
    params["W"][:H] *= -1
    params["b"][:H] *= -1
    return params


def gru_from_torch(weight_ih, weight_hh, bias_ih, bias_hh) -> dict:
    """torch.nn.GRU 的一层（重置在后）-> 本模块参数。

    行按 r, z, n 排；z、r 的两个偏置相加；候选状态的 b_hn 留在 r ⊙ (·) 里面，单独成为 b_hh。
    """
    H = weight_hh.shape[1]
    W = _reorder(np.concatenate([weight_hh, weight_ih], axis=1), TORCH_GRU_ORDER, GRU_GATES)
    b_ih = _reorder(bias_ih, TORCH_GRU_ORDER, GRU_GATES)
    b_hh = _reorder(bias_hh, TORCH_GRU_ORDER, GRU_GATES)
    b = np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]])
    return _flip_update_gate({"W": W, "b": b, "b_hh": b_hh[2 * H:].copy()}, H)


def gru_from_keras(kernel, recurrent_kernel, bias) -> dict:
    """keras.layers.GRU -> 本模块参数（形式由偏置的形状决定）。

    reset_after=True（默认）：bias 形状 [2, 3H]，第 0 行是输入偏置，第 1 行是循环偏置；
    reset_after=False（原文形式）：bias 形状 [3H]。列按 z, r, h 排，要转置。
    """
    H = recurrent_kernel.shape[0]
    W = _reorder(np.concatenate([recurrent_kernel, kernel], axis=0).T, KERAS_GRU_ORDER, GRU_GATES)
    bias = np.asarray(bias)
    if bias.ndim == 1:
        return _flip_update_gate({"W": W, "b": _reorder(bias, KERAS_GRU_ORDER, GRU_GATES)}, H)
    b_in = _reorder(bias[0], KERAS_GRU_ORDER, GRU_GATES)
    b_rec = _reorder(bias[1], KERAS_GRU_ORDER, GRU_GATES)
    b = np.concatenate([b_in[:2 * H] + b_rec[:2 * H], b_in[2 * H:]])
    return _flip_update_gate({"W": W, "b": b, "b_hh": b_rec[2 * H:].copy()}, H)
