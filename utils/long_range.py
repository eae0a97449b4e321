"""长程依赖任务：记住第一个符号，隔 gap 个随机干扰符号之后再把它说出来。

序列 = [信号, 干扰 × gap, 提问]，标签 = 信号。只有把第一个符号记过 gap 步的模型才能超过
随机猜测（准确率 1/n_classes）。第 3 章引入，第 4、5 章比较 RNN、LSTM、GRU 时复用。
"""
from __future__ import annotations

import numpy as np

CELLS = ("rnn", "lstm", "gru")
# 第 4、5 章比较的模型："LSTM b_f+1" 是遗忘门偏置加 1 的 LSTM（Keras 的默认做法）
LONG_RANGE_MODELS = ("RNN", "LSTM", "LSTM b_f+1", "GRU")


def first_token_task(n: int, gap: int, n_classes: int = 4, n_noise: int = 4, seed: int = 0):
    """返回 (x[n, gap+2] 的符号编号, y[n])。

    编号 0..n_classes-1 是信号，接下来 n_noise 个是干扰，最后一个是“提问”标记。
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(n_classes, size=n)
    noise = rng.integers(n_classes, n_classes + n_noise, size=(n, gap))
    query = np.full((n, 1), n_classes + n_noise)
    return np.concatenate([y[:, None], noise, query], axis=1), y


def vocab_size(n_classes: int = 4, n_noise: int = 4) -> int:
    return n_classes + n_noise + 1


def first_token_model(cell: str, hidden: int = 32, n_classes: int = 4, forget_bias: float = 0.0):
    """嵌入（16 维）-> cell（"rnn" | "lstm" | "gru"）-> 全连接到 n_classes 类，放在一个 ModuleDict 里。

    forget_bias 加到 LSTM 遗忘门的偏置上（PyTorch 的门顺序是 i, f, g, o，遗忘门是 bias_ih 的第二块）。
    PyTorch 默认不加，遗忘门起初约为 σ(0)=0.5；Keras 的 unit_forget_bias 相当于加 1。
    加偏置不用随机数，所以 forget_bias=0 时与不加完全相同。
    """
    from torch import nn

    if cell not in CELLS:
        raise ValueError(f"cell 只能是 {CELLS}，收到 {cell!r} (unknown cell)")
    if forget_bias and cell != "lstm":
        raise ValueError(f"只有 LSTM 有遗忘门，{cell!r} 不能设 forget_bias (forget_bias needs an LSTM)")
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    model = nn.ModuleDict({"embed": nn.Embedding(vocab_size(n_classes), 16),
                           "rnn": layer(16, hidden, batch_first=True),
                           "head": nn.Linear(hidden, n_classes)})
    if forget_bias:
        model["rnn"].bias_ih_l0.data[hidden:2 * hidden] += forget_bias
    return model


def fit_first_token(cell: str, gap: int, hidden: int = 32, steps: int = 600, batch: int = 64,
                    lr: float = 3e-3, n_classes: int = 4, clip: float = 1.0, seed: int = 0,
                    forget_bias: float = 0.0) -> float:
    """用 PyTorch 训练一个 first_token_model，返回新数据上的准确率。

    每一步都生成新的随机序列，所以模型无法死记训练集。forget_bias 只用于 LSTM（见 first_token_model）。
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = first_token_model(cell, hidden, n_classes, forget_bias)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr)

    def logits(x):
        out, _ = model["rnn"](model["embed"](torch.as_tensor(x)))
        return model["head"](out[:, -1])

    for step in range(steps):
        x, y = first_token_task(batch, gap, n_classes, seed=seed * 100_003 + step + 1)
        loss = nn.functional.cross_entropy(logits(x), torch.as_tensor(y))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, clip)
        opt.step()
    x, y = first_token_task(2000, gap, n_classes, seed=seed * 100_003)  # 测试集与训练步的种子不重叠
    with torch.no_grad():
        return float((logits(x).argmax(-1).numpy() == y).mean())


def long_range_accuracy(model: str, gap: int, steps: int = 1500, seeds=(0,)) -> float:
    """LONG_RANGE_MODELS 之一在间隔 gap 上的测试准确率（fit_first_token），对 seeds 取平均。"""
    if model not in LONG_RANGE_MODELS:
        raise ValueError(f"model 只能是 {LONG_RANGE_MODELS}，收到 {model!r} (unknown model)")
    cell = "lstm" if model.startswith("LSTM") else model.lower()
    forget_bias = 1.0 if model == "LSTM b_f+1" else 0.0
    return float(np.mean([fit_first_token(cell, gap, steps=steps, seed=s, forget_bias=forget_bias)
                          for s in seeds]))
