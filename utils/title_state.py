"""按题作诗的另一种做法，与“标题当前缀”（utils.conditions）比较：把条件编码进循环层的初始状态。

前缀的做法里，条件（标题或关键词的字，再加分隔符）就是诗前面的几个字，由同一个 LSTM 读进去，读完时的状态就是写正文的起点；
模型也学着预测这几个字。这里换一种：条件的字不进循环层，而是取它们的嵌入（与模型共用）的平均，经过一个线性层和 tanh，
直接当作 LSTM 的初始状态 (h0, c0)；循环层只读 <bos> 与正文，损失只算正文。没有条件时初始状态是 0，与普通的模型完全相同。

训练数据与前缀的做法相同（同样按前缀编码的序列：<bos> 条件 分隔符 正文 <eos>），split_condition 在每一批里把条件拆出来，
所以两种做法见到的诗、条件和比例都一样，只差条件进入模型的方式。只用于比较（scripts/train_ddp.py --title-state）。
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from utils import torch_poems
from utils.conditions import separators
from utils.data import Vocab, length_sorted_chunks, pad_sequences
from utils.torch_poems import masked_mean, myRNNModel, split_inputs


def split_condition(ids, lengths, separators):
    """按前缀编码的一批 ids[B, T]（补齐）-> (条件[B, K], 条件长度[B], 正文[B, T], 正文长度[B])。

    一行是 <bos> c1 … ck 分隔符 正文… <eos> 时，条件是 c1 … ck 与分隔符（k + 1 个），正文是 <bos> 正文… <eos>；
    没有分隔符的行条件长度为 0，正文就是整行。补齐的位置都是 0。"""
    is_sep = torch.isin(ids, separators)
    k = torch.where(is_sep.any(1), is_sep.int().argmax(1), torch.zeros_like(lengths))  # 分隔符的位置（没有时 0）
    steps = torch.arange(ids.shape[1], device=ids.device)[None, :]
    content = ids.gather(1, (steps + k[:, None]).clamp(max=ids.shape[1] - 1))  # 正文第 j 个 = 原来第 j + k 个
    content[:, 0] = ids[:, 0]  # <bos>
    content_len = lengths - k
    content = content * (steps < content_len[:, None])
    width = int(k.max())
    cond = ids[:, 1:width + 1] * (steps[:, :width] < k[:, None])
    return cond, k, content, content_len



class TitleState(nn.Module):
    """第 7 章的 LSTM 模型，加一个把条件变成初始状态的线性层。"""

    def __init__(self, model: myRNNModel, separators: Sequence[int]):
        super().__init__()
        config = model.config
        if config["cell"] != "lstm":
            raise ValueError("只给 LSTM 写了初始状态 (title state needs an LSTM)")
        self.model, self.layers, self.hidden = model, config["num_layers"], config["hidden_dim"]
        self.to_state = nn.Linear(config["embed_dim"], 2 * self.layers * self.hidden)
        self.register_buffer("separators", torch.tensor(list(separators)), persistent=False)

    def initial_state(self, cond, cond_len):
        """条件 -> (h0, c0)，各 [层数, B, 隐藏维度]；条件长度为 0 的行是 0。"""
        mask = (torch.arange(cond.shape[1], device=cond.device)[None, :] < cond_len[:, None]).float()
        mean = (self.model.embed_layer(cond) * mask[..., None]).sum(1) / cond_len.clamp(min=1)[:, None]
        state = torch.tanh(self.to_state(mean)) * (cond_len > 0).float()[:, None]
        h0, c0 = state.view(len(cond), 2, self.layers, self.hidden).permute(1, 2, 0, 3).contiguous()
        return h0, c0

    def content_nll(self, ids, lengths):
        """按前缀编码的一批 -> (正文每个目标字的负对数似然[B, T], 目标个数[B])。"""
        cond, cond_len, content, content_len = split_condition(ids, lengths, self.separators)
        inputs, labels, n = split_inputs(content, content_len)
        h, _ = self.model.features(inputs, self.initial_state(cond, cond_len))
        return self.model.token_nll(h, labels), n

    def forward(self, ids, lengths):
        """平均每个正文字的损失（训练用）。"""
        nll, n = self.content_nll(ids, lengths)
        return masked_mean(nll, n)


def token_nlls(net: TitleState, seqs, batch_size: int = 64) -> list[np.ndarray]:
    """按前缀编码的序列 -> 每首正文逐字的负对数似然（<bos> 之后的每个字，含 <eos>）。
    与 torch_poems.token_nlls 的结果末尾对齐，所以 utils.conditions.content_perplexities 两种模型都能用。"""
    was_training, device = net.training, next(net.parameters()).device
    net.eval()
    out = [None] * len(seqs)
    with torch.no_grad():
        for batch in length_sorted_chunks(seqs, batch_size):
            ids, lengths = pad_sequences([seqs[i] for i in batch])
            nll, n = net.content_nll(torch.from_numpy(ids).long().to(device), torch.from_numpy(lengths).to(device))
            for row, i in enumerate(batch):
                out[i] = nll[row, :int(n[row])].float().cpu().numpy()
    net.train(was_training)
    return out


def extra_path(checkpoint) -> Path:
    """线性层另存的文件：<检查点>.title_state.pt（模型本身仍是第 7 章的检查点格式）。"""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + ".title_state.pt")


def save(net: TitleState, vocab: Vocab, checkpoint) -> None:
    torch_poems.save_checkpoint(net.model, vocab, checkpoint)
    torch.save({k: v.detach().cpu() for k, v in net.to_state.state_dict().items()}, extra_path(checkpoint))


def load(checkpoint) -> tuple[TitleState, Vocab]:
    model, vocab = torch_poems.load_checkpoint(checkpoint)
    net = TitleState(model, separators(vocab))
    net.to_state.load_state_dict(torch.load(extra_path(checkpoint), weights_only=True))
    return net.to(next(model.parameters()).device), vocab
