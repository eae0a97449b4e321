"""不用 PyTorch 也能写诗：读 torch_poems 存的检查点，用 NumPy 逐字算 logits（make poem 用它）。

写一首诗要逐字跑一百来步，每步只是几次矩阵乘法；光是 import torch 就要一秒多，比写诗本身还慢。
这里直接读检查点文件（torch.save 存的是一个 zip：data.pkl 记录结构，data/<编号> 是各张量的原始字节），
再用第 3～5 章的 NumPy 循环单元（utils.numpy_rnn、utils.numpy_gated）和同样的输出层算每一步。

读 data.pkl 用受限的 Unpickler：只认得张量、存储类型和 OrderedDict，别的类一概拒绝——与
torch.load(..., weights_only=True) 一样，不执行文件里的代码。tests/test_numpy_writer.py 核对它与 PyTorch 算出的
logits 一致（三种循环单元、三种输出层、多层）。
"""
from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path

import numpy as np

from utils.checkpoints import EVERY_STEP, check_vocab_size, checked_torch_checkpoint, require_file
from utils.conditions import separators
from utils.data import Vocab
from utils.numpy_gated import gru_forward, gru_from_torch, lstm_forward, lstm_from_torch
from utils.numpy_rnn import log_softmax, rnn_step

STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                  "LongStorage": np.int64, "IntStorage": np.int32, "BoolStorage": np.bool_}


def _rebuild_tensor(storage, offset, size, stride, *_):
    """torch._utils._rebuild_tensor_v2 的 NumPy 版：从一段存储里按偏移、形状、步长取出数组。"""
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * item for s in stride))
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"不读 {module}.{name}")

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"陌生的存储 {kind!r}")
        data = self.archive.read(f"{self.prefix}/data/{key}")
        return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"), count=numel)


def read_checkpoint(path) -> dict:
    """与 torch_poems.read_checkpoint 相同的字典，只是张量是 NumPy 数组；文件不对时报同样的 CheckpointError。"""
    path = Path(path)
    require_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            pkl = next(name for name in archive.namelist() if name.endswith("/data.pkl"))
            with archive.open(pkl) as f:
                saved = _Unpickler(f, archive, pkl.rsplit("/", 1)[0]).load()
    except Exception:  # 不是 zip、缺文件、有陌生的类……统一成一条说明
        saved = None
    return checked_torch_checkpoint(saved, path)


def _output_layer(config: dict, w: dict):
    """输出层：features（投影之后的向量）-> 词表上的 logits，与 myRNNModel.output_logits 相同。"""
    if config.get("adaptive_cutoffs"):
        shortlist = config["adaptive_cutoffs"][0]
        n_tails = len(config["adaptive_cutoffs"])
        head_w, head_b = w["adaptive.head.weight"], w["adaptive.head.bias"]
        tails = [(w[f"adaptive.tail.{i}.0.weight"], w[f"adaptive.tail.{i}.1.weight"]) for i in range(n_tails)]

        def adaptive(h):
            head = log_softmax(head_w @ h + head_b)
            parts = [head[:shortlist]]
            for i, (down, out) in enumerate(tails):
                parts.append(log_softmax(out @ (down @ h)) + head[shortlist + i])
            return np.concatenate(parts)
        return adaptive
    if config["tie_embeddings"]:
        return lambda h: w["embed_layer.weight"] @ h + w["output_bias"]
    return lambda h: w["dense.weight"] @ h + w["dense.bias"]


def _layers(config: dict, w: dict) -> list[dict]:
    """每一层循环单元的参数，换成 NumPy 实现的记法。"""
    layers = []
    for k in range(config["num_layers"]):
        ih, hh = w[f"rnn_layer.weight_ih_l{k}"], w[f"rnn_layer.weight_hh_l{k}"]
        b_ih, b_hh = w[f"rnn_layer.bias_ih_l{k}"], w[f"rnn_layer.bias_hh_l{k}"]
        if config["cell"] == "lstm":
            layers.append(lstm_from_torch(ih, hh, b_ih, b_hh))
        elif config["cell"] == "gru":
            layers.append(gru_from_torch(ih, hh, b_ih, b_hh))
        else:  # nn.RNN：S_t = tanh(U·x_t + W·S_{t-1} + b)
            layers.append({"U": ih, "W": hh, "b": b_ih + b_hh})
    return layers


def make_step_fn(saved: dict):
    """单步函数 step(token_id, state) -> (logits[V], 新状态)，与 torch_poems.make_step_fn 算的相同（不用 dropout）。
    state 是每层的 (h, c)（LSTM）或 h；None 是全零初始状态。每步读题的模型（utils.title_every_step）见 _every_step。"""
    config, w = saved["config"], saved["state_dict"]
    if config.get(EVERY_STEP):
        return _every_step(saved)
    cell, H = config["cell"], config["hidden_dim"]
    layers, output = _layers(config, w), _output_layer(config, w)
    embedding, projection = w["embed_layer.weight"], ("projection.weight" in w)

    def step(token_id, state, add_input=None, add_output=None):
        if state is None:
            zero = np.zeros((1, H), np.float32)
            state = [(zero, zero) if cell == "lstm" else zero for _ in layers]
        x, new_state = embedding[token_id][None], []
        if add_input is not None:
            x = x + add_input
        for params, s in zip(layers, state):
            if cell == "lstm":
                _, s, _ = lstm_forward(params, x[:, None], *s)
                x = s[0]
            elif cell == "gru":
                _, s, _ = gru_forward(params, x[:, None], s)
                x = s
            else:
                s, _ = rnn_step(x, s, params["U"], params["W"], params["b"])
                x = s
            new_state.append(s)
        h = x[0]
        if projection:
            h = w["projection.weight"] @ h + w["projection.bias"]
        if add_output is not None:
            h = h + add_output
        return output(h), new_state

    return step


def _every_step(saved: dict):
    """每步读题的模型：<bos> 与分隔符之间的字的嵌入之和、个数记在状态里；读到分隔符起，每步的输入和输出层之前的向量
    各加上一个线性层作用在它们的平均 c 上（与 TitleEveryStep.features 相同）。"""
    weights = saved["state_dict"]
    inner = dict(saved, config={k: v for k, v in saved["config"].items() if k != EVERY_STEP},
                 state_dict={k.removeprefix("model."): v for k, v in weights.items() if k.startswith("model.")})
    plain, embedding = make_step_fn(inner), inner["state_dict"]["embed_layer.weight"]
    to_input, to_output = weights["to_input.weight"], weights["to_output.weight"]
    vocab = Vocab(saved["id2word"])
    marks, bos = set(separators(vocab)), vocab.word2id["<bos>"]

    def step(token_id, state):
        rnn_state, (total, count, read) = state if state is not None else (None, (0.0, 0, False))
        read = read or token_id in marks
        if not read and token_id != bos:
            total, count = total + embedding[token_id], count + 1
        if read and count:
            c = total / count
            logits, rnn_state = plain(token_id, rnn_state, to_input @ c, to_output @ c)
        else:  # 还没读到分隔符，或条件是空的（c = 0）：与原来的模型相同
            logits, rnn_state = plain(token_id, rnn_state)
        return logits, (rnn_state, (total, count, read))

    return step


def load(path) -> tuple[dict, Vocab, object]:
    """读检查点，返回 (模型设置, 词表, 单步函数)。"""
    saved = read_checkpoint(path)
    vocab = Vocab(saved["id2word"])
    check_vocab_size(vocab, saved["config"])
    return saved["config"], vocab, make_step_fn(saved)
