"""按题作诗的第三种做法：题目在写每个字时都进入网络（第 13 章第 5 节；随仓库提交的 models/poet.pt 就是这样的）。

前缀的做法（utils.conditions）里，题目只在开头读一遍，之后全靠 LSTM 的状态记着。
这里在前缀之外再加一条路：读到分隔符时，把前面条件的字的嵌入取平均，得到条件向量 c；从分隔符起，每一步
- 输入的嵌入加上 to_input(c)（LSTM 每步都“看见”题目），
- 输出层之前的向量加上 to_output(c)（题目直接把某些字的分数抬高）。
两个线性层没有偏置、初始为 0：没有条件（没有分隔符，或空标题 <bos><title>）时 c = 0，加上的也是 0，
模型与原来的逐位相同——不给题目写的诗一字不差。scripts.train_ddp --every-step 在已训练好的模型上只训练这两层，
模型本身不动。

状态是 (LSTM 的状态, 条件嵌入之和[B, E], 条件字数[B], 读过分隔符没有[B])：逐字写诗（一次喂一个字）与整批计算（一次喂整首）
走同一段代码，结果相同。
"""
from __future__ import annotations

import torch
from torch import nn

from utils.checkpoints import EVERY_STEP
from utils.conditions import separators
from utils.data import Vocab
from utils.torch_poems import myRNNModel


class TitleEveryStep(nn.Module):
    """第 12 章的模型，加上每步读题的两个线性层。接口与 myRNNModel 相同（features、token_nll、forward、config）。"""

    def __init__(self, model: myRNNModel, vocab: Vocab):
        super().__init__()
        dim = model.config["embed_dim"]
        if not hasattr(model, "projection"):
            raise ValueError("每步读题要输出层之前有投影（自适应 softmax 或共享嵌入） (needs a projection)")
        self.model = model
        self.config = model.config | {EVERY_STEP: True}
        self.to_input = nn.Linear(dim, dim, bias=False)
        self.to_output = nn.Linear(dim, dim, bias=False)
        nn.init.zeros_(self.to_input.weight)
        nn.init.zeros_(self.to_output.weight)
        self.register_buffer("separators", torch.tensor(separators(vocab)), persistent=False)
        self.bos = vocab.word2id["<bos>"]

    def condition(self, ids, embedded, state):
        """每个位置的条件向量 c[B, T, E]（还没读到分隔符的位置是 0）与新的条件状态。"""
        batch = ids.shape[0]
        if state is None:
            total = embedded.new_zeros(batch, embedded.shape[-1])
            count = embedded.new_zeros(batch)
            done = torch.zeros(batch, dtype=torch.bool, device=ids.device)
        else:
            total, count, done = state
        read = done[:, None] | (torch.cumsum(torch.isin(ids, self.separators).int(), 1) > 0)  # 读过分隔符
        is_condition = (~read & (ids != self.bos)).to(embedded.dtype)  # <bos> 与分隔符之间的字
        totals = total[:, None] + torch.cumsum(embedded * is_condition[..., None], 1)
        counts = count[:, None] + torch.cumsum(is_condition, 1)
        c = totals / counts.clamp(min=1)[..., None] * read[..., None].to(embedded.dtype)
        return c, (totals[:, -1], counts[:, -1], read[:, -1])

    def features(self, ids, state=None):
        rnn_state, cond_state = state if state is not None else (None, None)
        embedded = self.model.embed_layer(ids)
        c, cond_state = self.condition(ids, embedded, cond_state)
        x = self.model.input_dropout(embedded + self.to_input(c))
        outputs, rnn_state = self.model.rnn_layer(x, rnn_state)
        return self.model.projection(outputs) + self.to_output(c), (rnn_state, cond_state)

    def output_logits(self, h):
        return self.model.output_logits(h)

    def token_nll(self, h, labels):
        return self.model.token_nll(h, labels)

    def forward(self, ids, state=None):
        h, state = self.features(ids, state)
        return self.output_logits(h), state
