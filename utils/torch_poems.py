"""PyTorch 写诗模型与训练循环：与第 6 章的 utils/tf_poems.py 一一对应，可以对照着读。

同名的部分做同样的事：poem_loader（对应 poem_dataset）、myRNNModel、compute_loss、
train_one_step、evaluate、train、make_step_fn、gen、save_checkpoint / load_checkpoint。
数据来自 utils.data（同一词表、同一划分、同样按长度分桶的批次），采样规则来自 utils.decoding。
copy_from_keras 把第 6 章模型的权重抄过来，用来检验两个框架算的是同一个函数。
"""
from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

from utils.checkpoints import (EVERY_STEP, SUFFIXES, TORCH_FORMAT, CheckpointError, check_compatible,
                               check_vocab_size, checked_torch_checkpoint, require_file)
from utils.data import Vocab, iterate_batches, length_sorted_chunks, pad_sequences, stream_windows
from utils.decoding import generate
from utils.settings import torch_device
from utils.training import planned_steps, run_training

CELLS = {"simple": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ADAPTIVE_DIV = 4.0  # 自适应 softmax：每往后一簇，打分的维度除以 4
DEFAULT_THREADS = torch.get_num_threads()  # PyTorch 默认的 CPU 线程数（一般等于核数）
CHECKPOINT_SUFFIX = SUFFIXES["torch"]


# ---------------------------------------------------------------- 数据

class PoemBatches(IterableDataset):
    """按长度分桶的批次（utils.data.iterate_batches），产出 (ids[B, T], lengths[B]) 张量。

    与第 6 章的 poem_dataset 相同：每遍历一次换一个种子重新打乱，max_len 截断过长的诗。
    """

    def __init__(self, seqs, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                 max_len: int | None = None):
        self.seqs = [s[:max_len] for s in seqs] if max_len else list(seqs)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed

    def __iter__(self):
        for ids, lengths in iterate_batches(self.seqs, self.batch_size, shuffle=self.shuffle,
                                            seed=self.seed):
            yield torch.from_numpy(ids).long(), torch.from_numpy(lengths)
        self.seed += self.shuffle

    def __len__(self) -> int:
        return math.ceil(len(self.seqs) / self.batch_size)


def poem_loader(seqs, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                max_len: int | None = None) -> DataLoader:
    """编号序列 -> DataLoader。批次已由 PoemBatches 组好，所以 batch_size=None（不再合并）。"""
    return DataLoader(PoemBatches(seqs, batch_size, shuffle, seed, max_len), batch_size=None)


# ---------------------------------------------------------------- 模型

class myRNNModel(nn.Module):  # noqa: N801  （与第 6 章同名）
    """embed_layer（nn.Embedding）-> rnn_layer（nn.RNN / nn.LSTM / nn.GRU）-> 输出层。

    输出层有三种：
    - 默认：nn.Linear，对词表每个字打分（logits）；
    - tie_embeddings=True：与 embed_layer 共用同一矩阵——隐状态先投影到 embed_dim 维
      （projection），再与每个字的嵌入向量做内积，加上 output_bias；
    - adaptive_cutoffs=[c1, c2, ...]：自适应 softmax（nn.AdaptiveLogSoftmaxWithLoss）。词表按字频
      排好序，编号 < c1 的常用字在“头部”直接打分，其余的字按 c1, c2, … 分成几簇，头部只为每簇打一个分，
      簇内的字用更小的维度（embed_dim / 4、/ 16 …）打分。训练时每个字只需算它自己所在的那簇，
      输出层便宜好几倍；概率仍是完整归一化的，困惑度照样精确。
    forward(ids, state) 返回 (logits[B, T, V], 新状态)；自适应 softmax 返回的是对数概率，
    它也是合格的 logits（softmax 之后就是概率本身）。state=None 表示全零初始状态。
    """

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 256,
                 num_layers: int = 2, cell: str = "simple", tie_embeddings: bool = False,
                 dropout: float = 0.0, adaptive_cutoffs: list[int] | None = None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"未知的循环单元 {cell!r}，可选 {list(CELLS)} (unknown cell)")
        if tie_embeddings and adaptive_cutoffs:
            raise ValueError("共享嵌入与自适应 softmax 只能选一个 (tie_embeddings or adaptive_cutoffs)")
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_dim=hidden_dim,
                           num_layers=num_layers, cell=cell, tie_embeddings=tie_embeddings,
                           dropout=dropout)
        if adaptive_cutoffs:  # 只在用到时写进设置：旧的检查点照样能读
            self.config["adaptive_cutoffs"] = list(adaptive_cutoffs)
        self.embed_layer = nn.Embedding(vocab_size, embed_dim)
        # Keras 的 dropout 作用在每层循环单元的输入上：这里是嵌入之后，加上层与层之间
        self.input_dropout = nn.Dropout(dropout)
        self.rnn_layer = CELLS[cell](embed_dim, hidden_dim, num_layers, batch_first=True,
                                     dropout=dropout if num_layers > 1 else 0.0)
        if tie_embeddings or adaptive_cutoffs:
            self.projection = nn.Linear(hidden_dim, embed_dim)
        if adaptive_cutoffs:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(embed_dim, vocab_size, list(adaptive_cutoffs),
                                                          div_value=ADAPTIVE_DIV, head_bias=True)
        elif tie_embeddings:
            self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        else:
            self.dense = nn.Linear(hidden_dim, vocab_size)
        self._init_like_keras()

    def _init_like_keras(self):
        """与第 6 章的 Keras 模型同样初始化，两章从同样的起点出发。

        嵌入 N(0, 1)（PyTorch 的默认，第 6 章也这样设）；输入矩阵 Glorot 均匀；循环矩阵正交；
        偏置为 0（LSTM 遗忘门为 1）；输出层 Glorot 均匀（后几项是 Keras 的默认）。
        """
        gates = {"simple": 1, "lstm": 4, "gru": 3}[self.config["cell"]]
        H = self.config["hidden_dim"]
        for name, p in self.rnn_layer.named_parameters():
            if name.startswith("weight_ih"):
                # Keras 的 kernel 是一整块 [D, gates·H] 做 Glorot，尺度由整块形状决定
                nn.init.uniform_(p, -1, 1)
                p.data *= math.sqrt(6 / (p.shape[1] + gates * H))
            elif name.startswith("weight_hh"):
                for block in p.data.split(H):
                    nn.init.orthogonal_(block)
            else:
                nn.init.zeros_(p)
                if self.config["cell"] == "lstm" and name.startswith("bias_ih"):
                    p.data[H:2 * H] = 1.0  # 行按 i, f, g, o 排
        dense = [getattr(self, "projection", None), getattr(self, "dense", None)]
        if hasattr(self, "adaptive"):
            dense += [self.adaptive.head, *(layer for tail in self.adaptive.tail for layer in tail)]
        for layer in filter(None, dense):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

    def features(self, ids, state=None):
        """输出层之前的向量（共享嵌入、自适应 softmax 时是投影之后的）与新状态。"""
        x = self.input_dropout(self.embed_layer(ids))
        outputs, state = self.rnn_layer(x, state)
        return (self.projection(outputs) if hasattr(self, "projection") else outputs), state

    def output_logits(self, h):
        """输出层：features 的结果 -> 词表上的 logits（自适应 softmax 给出对数概率）。"""
        if hasattr(self, "adaptive"):
            return self.adaptive.log_prob(h.flatten(0, -2)).unflatten(0, h.shape[:-1])
        if self.config["tie_embeddings"]:
            return F.linear(h, self.embed_layer.weight, self.output_bias)
        return self.dense(h)

    def token_nll(self, h, labels):
        """每个位置上目标字的负对数概率 [B, T]。自适应 softmax 只算目标字所在的那一簇。"""
        if hasattr(self, "adaptive"):
            return -self.adaptive(h.flatten(0, 1), labels.flatten()).output.view(labels.shape)
        return cross_entropy(self.output_logits(h), labels)

    def forward(self, ids, state=None):
        h, state = self.features(ids, state)
        return self.output_logits(h), state


def build_model(vocab_size: int, device=None, **config) -> myRNNModel:
    """建模型并放到设备上（默认：有 CUDA 用 GPU，否则 CPU）。"""
    return myRNNModel(vocab_size, **config).to(device or torch_device())


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- 与第 6 章对照：抄权重

def _reorder(a: np.ndarray, order: str, target: str, axis: int = 0) -> np.ndarray:
    """把按门 order 分块排列的数组（沿 axis）重排成 target 的顺序，例如 'zrh' -> 'rzh'。"""
    blocks = dict(zip(order, np.split(a, len(order), axis=axis)))
    return np.concatenate([blocks[g] for g in target], axis=axis)


def copy_from_keras(keras_model, model: myRNNModel) -> None:
    """把第 6 章 myRNNModel（Keras）的权重抄进本章模型；两者的设置必须相同。

    Keras 的矩阵是“输入 × 输出”（x @ kernel），PyTorch 是“输出 × 输入”，要转置。
    门的顺序：Keras LSTM i,f,c,o 与 PyTorch i,f,g,o 相同；Keras GRU z,r,h，PyTorch r,z,n。
    Keras 的 SimpleRNN / LSTM 只有一个偏置，放进 b_ih，b_hh 置 0；Keras GRU（reset_after=True）
    的偏置有两行：第 0 行是输入偏置 b_ih，第 1 行是循环偏置 b_hh（候选状态那块在 r ⊙ (·) 里面）。
    """
    if keras_model.config != model.config:
        raise ValueError(f"两个模型的设置不同 (settings differ)：{keras_model.config} vs {model.config}")
    order = {"simple": ("h", "h"), "lstm": ("ifco", "ifco"), "gru": ("zrh", "rzh")}[model.config["cell"]]
    new = {"embed_layer.weight": keras_model.embed_layer.embeddings.numpy()}
    for i, cell in enumerate(keras_model.rnn_layer.cell.cells):
        bias = np.atleast_2d(cell.bias.numpy())
        b_hh = bias[1] if len(bias) == 2 else np.zeros_like(bias[0])
        for name, value in [("weight_ih", cell.kernel.numpy().T),
                            ("weight_hh", cell.recurrent_kernel.numpy().T),
                            ("bias_ih", bias[0]), ("bias_hh", b_hh)]:
            new[f"rnn_layer.{name}_l{i}"] = _reorder(value, *order)
    if hasattr(model, "projection"):
        new["projection.weight"] = keras_model.projection.kernel.numpy().T
        new["projection.bias"] = keras_model.projection.bias.numpy()
    if hasattr(model, "adaptive"):
        k = keras_model.adaptive
        new["adaptive.head.weight"] = k.head.kernel.numpy().T
        new["adaptive.head.bias"] = k.head.bias.numpy()
        for i, (proj, out) in enumerate(zip(k.tail_proj, k.tail_out)):
            new[f"adaptive.tail.{i}.0.weight"] = proj.kernel.numpy().T
            new[f"adaptive.tail.{i}.1.weight"] = out.kernel.numpy().T
    elif model.config["tie_embeddings"]:
        new["output_bias"] = keras_model.output_bias.numpy()
    else:
        new["dense.weight"] = keras_model.dense.kernel.numpy().T
        new["dense.bias"] = keras_model.dense.bias.numpy()
    model.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in new.items()})


# ---------------------------------------------------------------- 损失

def masked_mean(per_token, lengths):
    """对每行前 lengths 个位置（真实的字）取平均，补齐位置不计。per_token[B, T]。"""
    mask = torch.arange(per_token.shape[1], device=per_token.device)[None, :] < lengths[:, None]
    return (per_token * mask).sum() / mask.sum()


def cross_entropy(logits, labels):
    """每个位置的交叉熵 [B, T]。摊平成 [B·T, V] 再算：比 transpose 成 [B, V, T] 快一倍左右（内存连续）。"""
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(labels.shape)


def compute_loss(logits, labels, lengths):
    """交叉熵，对所有真实的字取平均（补齐位置不计）；定义与第 6 章相同。

    logits[B, T, V]，labels[B, T]，lengths[B] 是每行真实目标的个数。
    """
    return masked_mean(cross_entropy(logits, labels), lengths)


def model_loss(model: myRNNModel, inputs, labels, lengths, state=None):
    """模型在这批上的平均损失（与 compute_loss(model(inputs)[0], …) 相同）和新状态。

    训练与求困惑度都用它：自适应 softmax 不必算出整个词表的 logits。
    """
    h, state = model.features(inputs, state)
    return masked_mean(model.token_nll(h, labels), lengths), state


def split_inputs(ids, lengths):
    """整首诗 <bos> 字… <eos> -> 输入（去掉最后一个）、目标（去掉 <bos>）、目标个数。"""
    return ids[:, :-1], ids[:, 1:], lengths - 1


# ---------------------------------------------------------------- 训练

def train_one_step(model: myRNNModel, optimizer, ids, lengths, clipnorm: float = 5.0) -> float:
    """一步：前向、损失、反向、按总范数裁剪梯度、Adam 更新。返回这一批的损失。"""
    inputs, labels, n = split_inputs(ids, lengths)
    loss, _ = model_loss(model, inputs, labels, n.to(labels.device))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), clipnorm)
    optimizer.step()
    return float(loss.detach())


def choose_num_threads(model: myRNNModel, seqs, steps: int = 3, batch_size: int = 64) -> dict:
    """在 CPU 上试几步训练，比较单线程与默认线程数的每秒字数，改用更快的那个；返回 {线程数: 字/秒}。

    CPU 与别的程序共用时，多个线程要互相等待，单线程反而可能快好几倍；空闲的多核机器上多线程更快。
    试训练用模型的副本，不改动 model 本身。GPU 上不必试，返回空字典。
    """
    if next(model.parameters()).device.type != "cpu":
        return {}
    trial = copy.deepcopy(model)
    optimizer = torch.optim.Adam(trial.parameters())
    ids, lengths = next(iter(poem_loader(seqs, batch_size)))
    speeds = {}
    for threads in sorted({1, DEFAULT_THREADS}):
        torch.set_num_threads(threads)
        train_one_step(trial, optimizer, ids, lengths)  # 预热
        start = time.perf_counter()
        for _ in range(steps):
            train_one_step(trial, optimizer, ids, lengths)
        speeds[threads] = steps * int(lengths.sum()) / (time.perf_counter() - start)
    torch.set_num_threads(max(speeds, key=speeds.get))
    return speeds


@torch.no_grad()
def evaluate(model: myRNNModel, seqs, batch_size: int = 64, chunk_len: int = 128) -> float:
    """平均每字的交叉熵（nats）：<bos> 之后每个字都算，<eos> 也算。困惑度 = exp(返回值)。

    很长的诗按 chunk_len 分段送入模型，状态从上一段接到下一段，结果与整段计算相同。
    """
    was_training, device = model.training, next(model.parameters()).device
    model.eval()
    total = count = 0.0
    for ids, lengths in poem_loader(seqs, batch_size, shuffle=False):
        inputs, labels, n = split_inputs(ids.to(device), lengths.to(device))
        state = None
        for start in range(0, inputs.shape[1], chunk_len):
            end = start + chunk_len
            k = (n - start).clamp(0, chunk_len)
            loss, state = model_loss(model, inputs[:, start:end], labels[:, start:end], k, state)
            total += float(loss) * float(k.sum())
            count += float(k.sum())
    model.train(was_training)
    return total / count


@torch.no_grad()
def token_nlls(model: myRNNModel, seqs, batch_size: int = 64) -> list[np.ndarray]:
    """每首诗逐字的负对数似然（nats）：<bos> 之后每个字一个数，含 <eos>，与 evaluate 计的字相同
    （全部连起来取平均就是 evaluate 的结果）。第 12 章的评判用它给诗和诗句打分。"""
    was_training, device = model.training, next(model.parameters()).device
    model.eval()
    out = [None] * len(seqs)
    for batch in length_sorted_chunks(seqs, batch_size):
        ids, lengths = pad_sequences([seqs[i] for i in batch])
        ids = torch.from_numpy(ids).long().to(device)
        h, _ = model.features(ids[:, :-1])
        nll = model.token_nll(h, ids[:, 1:]).float().cpu().numpy()
        for row, i in enumerate(batch):
            out[i] = nll[row, :lengths[row] - 1]
    model.train(was_training)
    return out


@torch.no_grad()
def evaluate_stream(model: myRNNModel, seqs, batch_size: int = 64, seq_len: int = 64) -> float:
    """与 train_tbptt 同样的口径求平均每字交叉熵（nats）：诗接成长流（stream_windows，种子 0），
    隐状态从一个窗口接到下一个，不在每首诗开头清零。<eos> 之后的 <bos> 也算一个要预测的字。"""
    was_training, device = model.training, next(model.parameters()).device
    model.eval()
    total = count = 0.0
    state = None
    for window in stream_windows(seqs, batch_size, seq_len):
        ids = torch.from_numpy(window).to(device)
        h, state = model.features(ids[:, :-1], state)
        nll = model.token_nll(h, ids[:, 1:])
        total, count = total + float(nll.sum()), count + nll.numel()
    model.train(was_training)
    return total / count


def cosine_schedule(optimizer, total_steps: int | None):
    """与 Keras 的 CosineDecay(alpha=0.1) 相同：学习率在 total_steps 步内按余弦降到 1/10，之后保持。

    total_steps=None 时学习率不变。每训练一步调用一次 .step()。
    """
    if total_steps is None:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.1 + 0.45 * (
        1 + math.cos(math.pi * min(s, total_steps) / total_steps)))


def make_trainer(model: myRNNModel, learning_rate: float = 2e-3, decay_steps: int | None = None,
                 clipnorm: float | None = 5.0, jit_compile: bool = False):
    """与第 6 章的 make_trainer 相同：Adam（eps 取 Keras 的默认值 1e-7，两章的优化器完全相同），梯度按总范数
    裁剪到 clipnorm（None 时不裁剪），给了 decay_steps 时学习率按余弦降到 1/10。
    返回 step(ids, lengths) -> 这一批的损失（float）；ids、lengths 可以是张量或 NumPy 数组。"""
    if jit_compile:
        raise ValueError("jit_compile 只用于 TensorFlow (jit_compile is TensorFlow only)")
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)
    schedule = cosine_schedule(optimizer, decay_steps)
    model.train()

    def step(ids, lengths):
        loss = train_one_step(model, optimizer, torch.as_tensor(ids, device=device).long(),
                              torch.as_tensor(lengths, device=device).long(), math.inf if clipnorm is None else clipnorm)
        schedule.step()
        return loss

    return step


def train(model: myRNNModel, train_seqs, valid_seqs=None, *, epochs: int | None = None,
          max_steps: int | None = None, eval_every: int | None = None,
          max_seconds: float | None = None, batch_size: int = 64, learning_rate: float = 2e-3,
          cosine_decay: bool = True, clipnorm: float = 5.0, max_len: int | None = 200,
          seed: int = 0, progress: bool = True, log_every: int = 10) -> dict:
    """用 Adam 训练 epochs 遍、max_steps 步（都给时取先到者；都不给时训练 1 遍），或到 max_seconds
    秒为止；参数与第 6 章的 train 相同。

    每遍结束（或每 eval_every 步）在验证集上求困惑度，记下最好的权重，训练完换回它。
    cosine_decay=True 时学习率在预定步数内按余弦从 learning_rate 降到它的 1/10。
    这里只准备 PyTorch 的部分；循环本身与第 6 章共用，是 utils.training.run_training。
    """
    loader = poem_loader(train_seqs, batch_size, shuffle=True, seed=seed, max_len=max_len)
    total_steps = planned_steps(epochs, max_steps, len(loader))
    train_one_step = make_trainer(model, learning_rate, total_steps if cosine_decay else None, clipnorm)

    def train_batch(batch):
        ids, lengths = batch
        return train_one_step(ids, lengths), int(lengths.sum()) - len(lengths)

    return run_training(train_batch, loader, total_steps, steps_per_epoch=len(loader), eval_every=eval_every,
                        evaluate=None if valid_seqs is None else lambda: math.exp(evaluate(model, valid_seqs)),
                        snapshot=lambda: copy.deepcopy(model.state_dict()), restore=model.load_state_dict,
                        max_seconds=max_seconds, progress=progress, log_every=log_every)


def detach_state(state):
    """隐状态留下数值、切断梯度（LSTM 的状态是 (h, c) 两个张量）。"""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train_tbptt(model: myRNNModel, train_seqs, *, seq_len: int, max_steps: int, batch_size: int = 64,
                learning_rate: float = 3e-3, clipnorm: float = 5.0, seed: int = 0,
                progress: bool = True) -> dict:
    """截断 BPTT（第 11 章）：在 stream_windows 的长流上训练，每步看每行接下来的 seq_len 个字。

    隐状态从上一步接过来（前文的信息带进来了），但先 detach：梯度最多往回传 seq_len 步。
    每遍历完一次长流，重新打乱、从全零状态开始。学习率与 train 一样按余弦降到 1/10，Adam 的设置也相同。
    返回 history：每步的损失、裁剪前的梯度总范数，用时与字数。
    """
    from tqdm import tqdm

    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)
    schedule = cosine_schedule(optimizer, max_steps)
    history = dict(loss=[], grad_norm=[], tokens=0, seconds=0.0)
    start, step, epoch = time.perf_counter(), 0, 0
    bar = tqdm(total=max_steps, disable=not progress, mininterval=10, unit="步")
    model.train()
    while step < max_steps:
        state = None  # 新的一遍：新的长流，从全零状态开始
        for window in stream_windows(train_seqs, batch_size, seq_len, seed=seed + epoch):
            ids = torch.from_numpy(window).to(device)
            h, state = model.features(ids[:, :-1], detach_state(state))
            loss = model.token_nll(h, ids[:, 1:]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clipnorm)
            optimizer.step()
            schedule.step()
            history["loss"].append(float(loss.detach()))
            history["grad_norm"].append(float(norm))
            history["tokens"] += seq_len * batch_size
            step += 1
            bar.update()
            if step >= max_steps:
                break
        epoch += 1
    bar.close()
    history["seconds"] = time.perf_counter() - start
    return history


# ---------------------------------------------------------------- 生成

def make_step_fn(model: myRNNModel):
    """单步函数 step(token_id, state) -> (logits[V] NumPy, 新状态)，供 utils.decoding 使用。

    每步只把一个字送进 RNN，并带上上一步的状态（state=None 是全零初始状态）。
    """
    device = next(model.parameters()).device

    @torch.no_grad()
    def step(token_id, state):
        logits, state = model(torch.tensor([[token_id]], device=device), state)
        return logits[0, -1].float().cpu().numpy(), state

    return step


def prepare_to_write(model: myRNNModel) -> None:
    """逐字生成之前：关掉 dropout（model.eval()；make_trainer 会把它打开），并且只用一个线程——每步的计算很小，
    多个线程只会互相等待（之后训练请用 choose_num_threads 再选）；第 6 章的同名函数什么也不做。"""
    model.eval()
    torch.set_num_threads(1)


def writing_step(model: myRNNModel):
    """逐字生成要的 (单步函数, 初始状态)：第 12 章在 generate 外面包几层时用（utils.poet.write）。
    先调用 prepare_to_write(model) 关掉 dropout。"""
    return make_step_fn(model), None


def gen(model: myRNNModel, vocab: Vocab, prefix: str = "", *, acrostic: str | None = None,
        form: str | None = None, metre: bool = False, rhyme: str | None = None,
        temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
        max_len: int = 128, seed: int | None = None) -> str:
    """写一首诗：从 <bos> 开始逐字采样到 <eos>（或 max_len）。参数与第 6 章的 gen 相同（含格律约束 metre、rhyme）。"""
    check_vocab_size(vocab, model.config)
    was_training = model.training
    model.eval()  # 关掉 dropout；写完恢复原来的模式
    try:
        return generate(make_step_fn(model), None, vocab, prefix=prefix, acrostic=acrostic,
                        form=form, metre=metre, rhyme=rhyme, temperature=temperature, top_k=top_k,
                        top_p=top_p, max_len=max_len, rng=seed)
    finally:
        model.train(was_training)


# ---------------------------------------------------------------- 检查点

def save_checkpoint(model: myRNNModel, vocab: Vocab, path) -> Path:
    """把权重（state dict）、模型设置和词表存进同一个文件（torch.save）。"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": TORCH_FORMAT, "config": model.config, "id2word": vocab.id2word,
                "state_dict": state}, path)
    return path


def read_checkpoint(path) -> dict:
    """用 weights_only=True 读检查点（只读张量和基本类型，不执行文件里的代码）并检查格式。"""
    path = Path(path)
    require_file(path)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # 各种损坏或陌生的文件会引发各种异常，统一成一条说明
        saved = None
    return checked_torch_checkpoint(saved, path)


def load_checkpoint(path, device=None) -> tuple[myRNNModel, Vocab]:
    """按检查点里的设置建模型、读入权重，返回 (model, vocab)。"""
    saved = read_checkpoint(path)
    config, vocab = dict(saved["config"]), Vocab(saved["id2word"])
    every_step = config.pop(EVERY_STEP, False)  # 每步读题的模型（第 12 章的大模型，utils.title_every_step）
    model = build_model(device=device, **config)
    if every_step:
        from utils.title_every_step import TitleEveryStep  # 它要用到本模块，放在这里才不循环导入

        model = TitleEveryStep(model, vocab).to(next(model.parameters()).device)
    model.load_state_dict(saved["state_dict"])
    return model, vocab


def restore_weights(model: myRNNModel, vocab: Vocab, path) -> None:
    """把检查点的权重读进已建好的模型；词表或模型设置不同则报错，不会读进错位的权重。"""
    saved = read_checkpoint(path)
    check_compatible(saved["id2word"], saved["config"], vocab, model.config)
    model.load_state_dict(saved["state_dict"])
