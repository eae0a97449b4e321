"""长程依赖任务：记住第一个符号，隔 gap 个随机干扰符号之后再把它说出来。

序列 = [信号, 干扰 × gap, 提问]，标签 = 信号。只有把第一个符号记过 gap 步的模型才能超过
随机猜测（准确率 1/n_classes）。第 03 章引入，第 04、05 章比较 RNN、LSTM、GRU 时复用。
"""
from __future__ import annotations

import numpy as np


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


def fit_first_token(cell: str, gap: int, hidden: int = 32, steps: int = 600, batch: int = 64,
                    lr: float = 3e-3, n_classes: int = 4, clip: float = 1.0, seed: int = 0) -> float:
    """用 PyTorch 训练一个 cell（"rnn" | "lstm" | "gru"）模型，返回新数据上的准确率。

    每一步都生成新的随机序列，所以模型无法死记训练集。
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    v = vocab_size(n_classes)
    embed, rnn, head = nn.Embedding(v, 16), layer(16, hidden, batch_first=True), nn.Linear(hidden, n_classes)
    params = [*embed.parameters(), *rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=lr)

    def logits(x):
        out, _ = rnn(embed(torch.as_tensor(x)))
        return head(out[:, -1])

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
