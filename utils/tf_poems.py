"""TensorFlow / Keras 3 写诗模型与训练循环。函数名沿用原文：poem_dataset、myRNNModel
（embed_layer）、compute_loss、train_one_step、train、gen。

数据来自 utils.data（词表、划分、按长度分桶的批次），采样规则来自 utils.decoding，
两者与 PyTorch 一章共用。
"""
from __future__ import annotations

import json
import math
import weakref
from pathlib import Path

import numpy as np

from utils.checkpoints import SUFFIXES, CheckpointError, check_compatible, check_vocab_size, require_file
from utils.data import Vocab, iterate_batches, length_sorted_chunks, pad_sequences
from utils.decoding import generate
from utils.settings import import_tensorflow
from utils.training import planned_steps, run_training

tf = import_tensorflow()
import keras  # noqa: E402  （须在 TensorFlow 安静导入之后）

CELLS = {"simple": keras.layers.SimpleRNNCell, "lstm": keras.layers.LSTMCell,
         "gru": keras.layers.GRUCell}
_IDS = tf.TensorSpec([None, None], tf.int32)
_LENGTHS = tf.TensorSpec([None], tf.int32)


# ---------------------------------------------------------------- 数据

def poem_dataset(seqs, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                 max_len: int | None = None):
    """编号序列 -> tf.data.Dataset，产出 (ids[B, T] int32, lengths[B] int32)。

    批次由 utils.data.iterate_batches 组成（长度相近的诗一批，只补齐到本批最长），
    每遍历一次换一个随机种子重新打乱；max_len 截断过长的诗（只用于训练）。
    """
    seqs = [s[:max_len] for s in seqs] if max_len else list(seqs)
    epoch = [seed]

    def batches():
        for ids, lengths in iterate_batches(seqs, batch_size, shuffle=shuffle, seed=epoch[0]):
            yield ids.astype(np.int32), lengths.astype(np.int32)
        epoch[0] += shuffle

    return tf.data.Dataset.from_generator(
        batches, output_signature=(_IDS, _LENGTHS)).prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------- 模型

@keras.saving.register_keras_serializable(package="rnn_tang_poems")
class AdaptiveSoftmax(keras.layers.Layer):
    """自适应 softmax，与 PyTorch 的 nn.AdaptiveLogSoftmaxWithLoss 参数相同、结果相同（Keras 没有现成的）。

    词表按字频排序。编号 < cutoffs[0] 的常用字在“头部”直接打分；其余的字按 cutoffs 分成几簇，
    头部为每簇再打一个分。第 i 簇（从 0 数）先把输入降到 input_dim / div_value^(i+1) 维，再为簇内的字打分。
    log p(字) = 头部里的对数概率（常用字），或 = 头部里“这一簇”的对数概率 + 簇内的对数概率。
    """

    def __init__(self, vocab_size: int, cutoffs, input_dim: int, div_value: float = 4.0, **kwargs):
        super().__init__(**kwargs)
        if list(cutoffs) != sorted(set(cutoffs)) or not 0 < cutoffs[0] or cutoffs[-1] >= vocab_size:
            raise ValueError(f"cutoffs 须严格递增，且在 1 与词表大小 {vocab_size} 之间：{cutoffs}"
                             f" (cutoffs must increase and lie inside the vocabulary)")
        self.vocab_size, self.cutoffs = vocab_size, list(cutoffs)
        self.input_dim, self.div_value = input_dim, div_value
        self.bounds = [*self.cutoffs, vocab_size]
        self.head = keras.layers.Dense(self.cutoffs[0] + len(self.cutoffs), name="head")
        self.tail_proj = [keras.layers.Dense(int(input_dim // div_value ** (i + 1)), use_bias=False,
                                             name=f"tail{i}_proj") for i in range(len(self.cutoffs))]
        self.tail_out = [keras.layers.Dense(hi - lo, use_bias=False, name=f"tail{i}_out")
                         for i, (lo, hi) in enumerate(zip(self.bounds, self.bounds[1:]))]

    def call(self, h):
        """h[N, input_dim] -> 整个词表的对数概率 [N, V]（生成、对照时用）。"""
        head = tf.nn.log_softmax(self.head(h))
        shortlist = self.cutoffs[0]
        parts = [head[:, :shortlist]]
        for i, (proj, out) in enumerate(zip(self.tail_proj, self.tail_out)):
            parts.append(tf.nn.log_softmax(out(proj(h))) + head[:, shortlist + i, None])
        return tf.concat(parts, axis=1)

    def target_log_prob(self, h, labels):
        """h[N, input_dim]、labels[N] -> 每个目标字的对数概率 [N]；每簇只算目标在这簇里的那些行。"""
        head = tf.nn.log_softmax(self.head(h))
        shortlist = self.cutoffs[0]
        result = tf.gather(head, tf.minimum(labels, shortlist - 1), batch_dims=1)  # 先按常用字取，下面改写簇里的
        for i, (proj, out) in enumerate(zip(self.tail_proj, self.tail_out)):
            lo, hi = self.bounds[i], self.bounds[i + 1]
            rows = tf.where((labels >= lo) & (labels < hi))[:, 0]
            inside = tf.nn.log_softmax(out(proj(tf.gather(h, rows))))
            value = tf.gather(inside, tf.gather(labels, rows) - lo, batch_dims=1) + tf.gather(
                head[:, shortlist + i], rows)
            result = tf.tensor_scatter_nd_update(result, rows[:, None], value)
        return result

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "cutoffs": self.cutoffs,
                "input_dim": self.input_dim, "div_value": self.div_value}


def _icfo(m):
    """Keras 的门按 i、f、c、o 排在最后一维；BlockLSTM 要 i、c、f、o。"""
    i, f, c, o = tf.split(m, 4, axis=-1)
    return tf.concat([i, c, f, o], axis=-1)


def block_lstm(cell, seq, h, c):
    """一层 LSTM 走完整个序列，用 TensorFlow 的融合算子 BlockLSTM（TF1 的 LSTMBlockFusedCell 背后的算子）：
    一个 C++ 内核在内部循环所有时间步，而不是 Keras 那样每个时间步发一串小算子（myRNNModel(fused_lstm=True) 用它）。

    权重就是 Keras LSTMCell 的 kernel、recurrent_kernel、bias（门的顺序换一下），公式相同（不加遗忘门偏置、
    不裁剪细胞状态、没有窥视孔），tests/test_tf_poems.py 核对输出和梯度与 Keras 的相同。
    seq[T, B, D] 时间在前；返回 (各步的 h [T, B, H], 最后的 h, 最后的 c)。
    （BlockLSTMV2 的门顺序本来就与 Keras 相同，但在 TensorFlow 2.21 上它的梯度与数值梯度对不上，所以用第一版。）
    """
    w = tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)
    zeros = tf.zeros([cell.units])
    out = tf.raw_ops.BlockLSTM(seq_len_max=tf.cast(tf.shape(seq)[0], tf.int64), x=seq, cs_prev=c, h_prev=h,
                               w=_icfo(w), wci=zeros, wcf=zeros, wco=zeros, b=_icfo(cell.bias),
                               forget_bias=0.0, cell_clip=-1.0, use_peephole=False)
    return out.h, out.h[-1], out.cs[-1]


@keras.saving.register_keras_serializable(package="rnn_tang_poems")
class myRNNModel(keras.Model):  # noqa: N801  （原文的类名）
    """embed_layer（Embedding）-> RNN（堆叠的循环单元）-> 输出层。

    cell：'simple'（原文的 SimpleRNNCell）、'lstm' 或 'gru'。输出层有三种：
    - 默认：Dense，对词表每个字打分（logits）；
    - tie_embeddings=True：与 embed_layer 共用同一矩阵——隐状态先投影到 embed_dim 维，
      再与每个字的嵌入向量做内积得到 logits（参数更少，输出层更便宜，小数据上泛化更好）；
    - adaptive_cutoffs=[c1, c2, ...]：自适应 softmax（上面的 AdaptiveSoftmax，投影到 embed_dim 维之后）。
    call(ids, initial_state) 返回 (logits[B, T, V], 各层最后的状态)，生成时用它逐步携带状态；
    自适应 softmax 返回对数概率，它也是合格的 logits。
    fused_lstm=True 时 LSTM 改用融合算子 BlockLSTM 计算（见 block_lstm：同样的权重、同样的函数）；
    默认是 Keras 的逐步循环：作者的测试机上它反而更快（第 6 章第 2 节交替计时）。
    """

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 256,
                 num_layers: int = 2, cell: str = "simple", tie_embeddings: bool = False,
                 dropout: float = 0.0, adaptive_cutoffs=None, fused_lstm: bool = False, **kwargs):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"未知的循环单元 {cell!r}，可选 {list(CELLS)} (unknown cell)")
        if tie_embeddings and adaptive_cutoffs:
            raise ValueError("共享嵌入与自适应 softmax 只能选一个 (tie_embeddings or adaptive_cutoffs)")
        self.config = dict(vocab_size=vocab_size, embed_dim=embed_dim, hidden_dim=hidden_dim,
                           num_layers=num_layers, cell=cell, tie_embeddings=tie_embeddings,
                           dropout=dropout)
        if adaptive_cutoffs:  # 只在用到时写进设置：旧的检查点照样能读
            self.config["adaptive_cutoffs"] = list(adaptive_cutoffs)
        # 用融合算子 BlockLSTM 算 LSTM（见 block_lstm）：权重、结果都与逐步的 Keras 循环相同，只是算法不同，
        # 所以不写进设置，检查点两种算法都能读
        self.fused_lstm = fused_lstm and cell == "lstm"
        # 标准正态初始化（与 PyTorch 的 nn.Embedding 相同）。共享嵌入时它也是输出层，Keras 默认的
        # ±0.05 均匀初始化让 logits 起初几乎为零，起步很慢
        self.embed_layer = keras.layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="embed_layer")
        cells = [CELLS[cell](hidden_dim, dropout=dropout, name=f"{cell}_{i}")
                 for i in range(num_layers)]
        self.rnn_layer = keras.layers.RNN(cells, return_sequences=True, return_state=True,
                                          name="rnn_layer")
        if tie_embeddings or adaptive_cutoffs:
            self.projection = keras.layers.Dense(embed_dim, name="projection")
        if adaptive_cutoffs:
            self.adaptive = AdaptiveSoftmax(vocab_size, adaptive_cutoffs, embed_dim, name="adaptive")
        elif tie_embeddings:
            self.output_bias = self.add_weight(shape=(vocab_size,), initializer="zeros",
                                               name="output_bias")
        else:
            self.dense = keras.layers.Dense(vocab_size, name="dense")

    def features(self, ids, initial_state=None, training=False):
        """输出层之前的向量 [B, T, D]（共享嵌入、自适应 softmax 时是投影之后的）与各层最后的状态。"""
        x = self.embed_layer(ids)
        if self.fused_lstm and self.rnn_layer.built and not (training and self.config["dropout"]):
            outputs, states = self.fused_rnn(x, initial_state)
        else:
            outputs, *states = self.rnn_layer(x, initial_state=initial_state, training=training)
        return (self.projection(outputs) if hasattr(self, "projection") else outputs), states

    def fused_rnn(self, x, initial_state=None):
        """与 rnn_layer(x, initial_state) 相同的结果（各层 LSTM 的输出序列与最后的 [h, c]），每层用一次 block_lstm。"""
        seq = tf.transpose(x, [1, 0, 2])  # 融合算子要时间在前：[T, B, D]
        zeros = tf.zeros([tf.shape(x)[0], self.config["hidden_dim"]])
        states = []
        for layer, cell in enumerate(self.rnn_layer.cell.cells):
            h, c = initial_state[layer] if initial_state is not None else (zeros, zeros)
            seq, h, c = block_lstm(cell, seq, h, c)
            states.append([h, c])
        return tf.transpose(seq, [1, 0, 2]), states

    def output_logits(self, h):
        """输出层：features 的结果 [B, T, D] -> 词表上的 logits [B, T, V]。"""
        if hasattr(self, "dense"):
            return self.dense(h)
        flat = tf.reshape(h, [-1, self.config["embed_dim"]])
        if hasattr(self, "adaptive"):
            logits = self.adaptive(flat)
        else:
            logits = tf.matmul(flat, self.embed_layer.embeddings, transpose_b=True) + self.output_bias
        return tf.reshape(logits, tf.concat([tf.shape(h)[:2], [-1]], axis=0))

    def token_nll(self, h, labels):
        """每个位置上目标字的负对数概率 [B, T]。自适应 softmax 只算目标字所在的那一簇。"""
        if hasattr(self, "adaptive"):
            flat = tf.reshape(h, [-1, self.config["embed_dim"]])
            return -tf.reshape(self.adaptive.target_log_prob(flat, tf.reshape(labels, [-1])), tf.shape(labels))
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=self.output_logits(h))

    def call(self, ids, initial_state=None, training=False):
        h, states = self.features(ids, initial_state, training)
        return self.output_logits(h), states

    def initial_state(self, batch_size: int):
        """全零的初始状态，结构与 call 返回的 states 相同（每层一个列表）。"""
        return [[tf.zeros([batch_size, size]) for size in np.atleast_1d(cell.state_size)]
                for cell in self.rnn_layer.cell.cells]

    def get_config(self):
        return {**super().get_config(), **self.config}


def build_model(vocab_size: int, **config) -> myRNNModel:
    """建模型并用一个小输入建好全部权重（之后才能数参数、读权重）。"""
    model = myRNNModel(vocab_size, **config)
    model(tf.zeros([1, 1], tf.int32))
    return model


# ---------------------------------------------------------------- 损失

def masked_mean(per_token, lengths):
    """对每行前 lengths 个位置（真实的字）取平均，补齐位置不计。per_token[B, T]。"""
    mask = tf.sequence_mask(lengths, tf.shape(per_token)[1], dtype=per_token.dtype)
    return tf.reduce_sum(per_token * mask) / tf.reduce_sum(mask)


def compute_loss(logits, labels, lengths):
    """交叉熵，对所有真实的字取平均（等于按序列长度加权平均各首诗的平均损失）。

    logits[B, T, V]，labels[B, T]，lengths[B] 是每行真实目标的个数；之后的补齐位置不计。
    """
    per_token = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return masked_mean(per_token, lengths)


def model_loss(model: myRNNModel, inputs, labels, lengths, initial_state=None, training=False):
    """模型在这批上的平均损失（与 compute_loss(model(inputs)[0], …) 相同）和各层最后的状态。

    训练与求困惑度都用它：自适应 softmax 不必算出整个词表的 logits。
    """
    h, states = model.features(inputs, initial_state, training)
    return masked_mean(model.token_nll(h, labels), lengths), states


def split_inputs(ids, lengths):
    """整首诗 <bos> 字… <eos> -> 输入（去掉最后一个）、目标（去掉 <bos>）、目标个数。"""
    return ids[:, :-1], ids[:, 1:], lengths - 1


# ---------------------------------------------------------------- 训练

def make_train_step(model: myRNNModel, optimizer, jit_compile: bool = False):
    """返回本模型专用的 train_one_step(ids, lengths) -> loss（tf.function）。

    input_signature 的批大小与长度都是 None：不同长度的批次共用一张计算图，不会反复追踪。
    优化器的变量（Adam 的一阶、二阶矩）事先建好，否则第一次调用时要多追踪一遍。
    jit_compile=True 时用 XLA 编译：每种批形状编译一次，批长度种类要少（见 scripts/bench_levers.py）。
    """
    optimizer.build(model.trainable_variables)

    @tf.function(input_signature=[_IDS, _LENGTHS], jit_compile=jit_compile)
    def train_one_step(ids, lengths):
        inputs, labels, n = split_inputs(ids, lengths)
        with tf.GradientTape() as tape:
            loss, _ = model_loss(model, inputs, labels, n, training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return train_one_step


def _state_spec(model: myRNNModel):
    """各层状态的 TensorSpec（批大小不定），给 tf.function 的 input_signature 用。"""
    return [[tf.TensorSpec([None, s.shape[1]], tf.float32) for s in layer]
            for layer in model.initial_state(1)]


def _cached(model: myRNNModel, name: str, make):
    """每个模型只建一次 tf.function（反复新建会反复追踪计算图）。"""
    cache = _FUNCTIONS.setdefault(model, {})
    if name not in cache:
        cache[name] = make(model)
    return cache[name]


_FUNCTIONS = weakref.WeakKeyDictionary()


def make_eval_step(model: myRNNModel):
    """返回 eval_step(ids, targets, n, states) -> (损失之和, 字数, 新状态)，用于分段求困惑度。"""

    @tf.function(input_signature=[_IDS, _IDS, _LENGTHS, _state_spec(model)])
    def eval_step(inputs, labels, n, states):
        h, states = model.features(inputs, initial_state=states)
        mask = tf.sequence_mask(n, tf.shape(labels)[1], dtype=h.dtype)
        return tf.reduce_sum(model.token_nll(h, labels) * mask), tf.reduce_sum(mask), states

    return eval_step


def evaluate(model: myRNNModel, seqs, batch_size: int = 64, chunk_len: int = 128,
             eval_step=None) -> float:
    """平均每字的交叉熵（nats）：<bos> 之后每个字都算，<eos> 也算。

    很长的诗按 chunk_len 分段送入模型，状态从上一段接到下一段，结果与整段计算相同，
    但 logits 占的内存有上限。困惑度 = exp(返回值)。
    """
    eval_step = eval_step or _cached(model, "eval", make_eval_step)
    total = count = 0.0
    for ids, lengths in iterate_batches(seqs, batch_size, shuffle=False):
        inputs, labels, n = split_inputs(ids, lengths.astype(np.int32))
        states = model.initial_state(len(ids))
        for start in range(0, inputs.shape[1], chunk_len):
            end = start + chunk_len
            loss_sum, tokens, states = eval_step(
                tf.constant(inputs[:, start:end]), tf.constant(labels[:, start:end]),
                tf.constant(np.clip(n - start, 0, chunk_len).astype(np.int32)), states)
            total += float(loss_sum)
            count += float(tokens)
    return total / count


def make_nll_step(model: myRNNModel):
    """返回 nll_step(inputs, labels) -> 每个位置的负对数似然 [B, T]（从全零状态开始）。"""

    @tf.function(input_signature=[_IDS, _IDS])
    def nll_step(inputs, labels):
        h, _ = model.features(inputs)
        return model.token_nll(h, labels)

    return nll_step


def token_nlls(model: myRNNModel, seqs, batch_size: int = 64) -> list[np.ndarray]:
    """每首诗逐字的负对数似然（nats）：<bos> 之后每个字一个数，含 <eos>，与 evaluate 计的字相同
    （全部连起来取平均就是 evaluate 的结果）。第 12 章的评判用它给诗和诗句打分。"""
    nll_step = _cached(model, "nll", make_nll_step)
    out = [None] * len(seqs)
    for batch in length_sorted_chunks(seqs, batch_size):
        ids, lengths = pad_sequences([seqs[i] for i in batch])
        nll = nll_step(tf.constant(ids[:, :-1]), tf.constant(ids[:, 1:])).numpy()
        for row, i in enumerate(batch):
            out[i] = nll[row, :lengths[row] - 1]
    return out


def make_trainer(model: myRNNModel, learning_rate: float = 2e-3, decay_steps: int | None = None,
                 clipnorm: float | None = 5.0, jit_compile: bool = False):
    """Adam（梯度按总范数裁剪到 clipnorm，None 时不裁剪）；给了 decay_steps 时学习率在这么多步内
    按余弦降到 learning_rate 的 1/10，之后保持。返回 step(ids, lengths) -> 这一批的损失（float）。"""
    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.1)
    train_one_step = make_train_step(model, keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm),
                                     jit_compile=jit_compile)

    def step(ids, lengths):  # ids、lengths 可以是张量或 NumPy 数组（任何整数类型）
        return float(train_one_step(tf.cast(ids, tf.int32), tf.cast(lengths, tf.int32)))  # float() 等这一步算完

    return step


def train(model: myRNNModel, train_seqs, valid_seqs=None, *, epochs: int | None = None,
          max_steps: int | None = None, eval_every: int | None = None,
          max_seconds: float | None = None, batch_size: int = 64, learning_rate: float = 2e-3,
          cosine_decay: bool = True, clipnorm: float = 5.0, max_len: int | None = 200,
          seed: int = 0, progress: bool = True, log_every: int = 10) -> dict:
    """用 Adam 训练 epochs 遍、max_steps 步（都给时取先到者；都不给时训练 1 遍），
    或到 max_seconds 秒为止。

    每遍结束（或每 eval_every 步）在验证集上求困惑度，记下最好的权重，训练完换回它。
    cosine_decay=True 时学习率在预定步数内按余弦从 learning_rate 降到它的 1/10。
    这里只准备 TensorFlow 的部分（一步训练、批次、求值、存取权重）；循环本身与第 7 章共用，
    是 utils.training.run_training，返回的 history（损失、困惑度、字数与用时）见它的说明。
    """
    steps_per_epoch = math.ceil(len(train_seqs) / batch_size)
    total_steps = planned_steps(epochs, max_steps, steps_per_epoch)
    train_one_step = make_trainer(model, learning_rate, total_steps if cosine_decay else None, clipnorm)
    eval_step = _cached(model, "eval", make_eval_step)

    def train_batch(batch):
        ids, lengths = batch
        return train_one_step(ids, lengths), int(tf.reduce_sum(lengths)) - len(lengths)

    def valid_perplexity():
        return math.exp(evaluate(model, valid_seqs, eval_step=eval_step))

    return run_training(train_batch, poem_dataset(train_seqs, batch_size, shuffle=True, seed=seed, max_len=max_len),
                        total_steps, steps_per_epoch=steps_per_epoch, eval_every=eval_every,
                        evaluate=None if valid_seqs is None else valid_perplexity,
                        snapshot=model.get_weights, restore=model.set_weights,
                        max_seconds=max_seconds, progress=progress, log_every=log_every)


def choose_num_threads(model: myRNNModel, seqs) -> dict:
    """与第 7 章的同名函数对应。TensorFlow 的线程数在运行时启动时就定下，之后改不了，所以这里什么也不做，
    返回空字典。"""
    return {}


# ---------------------------------------------------------------- 生成

def make_step_fn(model: myRNNModel):
    """单步函数 step(token_id, state) -> (logits[V] NumPy, 新状态)，供 utils.decoding 使用。

    每步只把一个字送进 RNN，并带上上一步的状态：每一步的计算量相同，不重算前缀。
    """

    @tf.function(input_signature=[_IDS, _state_spec(model)])
    def run(token, states):
        logits, states = model(token, initial_state=states)
        return logits[0, -1], states

    def step(token_id, states):
        logits, states = run(tf.constant([[token_id]], tf.int32), states)
        return logits.numpy(), states

    return step


def prepare_to_write(model: myRNNModel) -> None:
    """与第 7 章的同名函数对应：逐字生成之前的准备。TensorFlow 不需要准备。"""


def writing_step(model: myRNNModel):
    """逐字生成要的 (单步函数, 初始状态)：第 12 章在 generate 外面包几层时用（utils.poet.write）。"""
    return _cached(model, "step", make_step_fn), model.initial_state(1)


def gen(model: myRNNModel, vocab: Vocab, prefix: str = "", *, acrostic: str | None = None,
        form: str | None = None, metre: bool = False, rhyme: str | None = None,
        temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
        max_len: int = 128, seed: int | None = None) -> str:
    """写一首诗：从 <bos> 开始逐字采样到 <eos>（或 max_len）。

    prefix 给定开头（首字或首句），acrostic 藏头字，form 体裁（“五绝”“七律”等）；
    metre=True 时合乎平仄谱并押平水韵（rhyme 可指定韵部，如“下平七阳”）；
    temperature、top_k、top_p 控制随机程度。规则见 utils.decoding.generate。
    """
    check_vocab_size(vocab, model.config)
    return generate(_cached(model, "step", make_step_fn), model.initial_state(1), vocab,
                    prefix=prefix, acrostic=acrostic, form=form, metre=metre, rhyme=rhyme,
                    temperature=temperature, top_k=top_k, top_p=top_p, max_len=max_len, rng=seed)


# ---------------------------------------------------------------- 检查点

_META = "rnn_tang_poems"  # 权重文件里存放词表与模型设置的属性名
CHECKPOINT_SUFFIX = SUFFIXES["tf"]


def save_checkpoint(model: myRNNModel, vocab: Vocab, path) -> Path:
    """把权重、模型设置和词表存进同一个 .weights.h5 文件。"""
    import h5py

    path = Path(path)
    if not path.name.endswith(CHECKPOINT_SUFFIX):
        raise CheckpointError(f"检查点文件名须以 {CHECKPOINT_SUFFIX} 结尾：{path.name}"
                              f" (checkpoint name must end with {CHECKPOINT_SUFFIX})")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        f.attrs[_META] = json.dumps({"config": model.config, "id2word": vocab.id2word},
                                    ensure_ascii=False)
    return path


def read_checkpoint_meta(path) -> dict:
    """读出检查点里的模型设置和词表；文件不存在或不是本课程的检查点时给出明确的错误。"""
    import h5py

    path = Path(path)
    require_file(path)
    try:
        with h5py.File(path, "r") as f:
            meta = json.loads(f.attrs[_META])
    except (OSError, KeyError, ValueError):
        raise CheckpointError(f"{path.name} 不是本课程保存的 TensorFlow 检查点"
                              f" (not a checkpoint saved by save_checkpoint)") from None
    return meta


def load_checkpoint(path) -> tuple[myRNNModel, Vocab]:
    """按检查点里的设置建模型、读入权重，返回 (model, vocab)。"""
    meta = read_checkpoint_meta(path)
    vocab = Vocab(meta["id2word"])
    model = build_model(**meta["config"])
    model.load_weights(path)
    return model, vocab


def restore_weights(model: myRNNModel, vocab: Vocab, path) -> None:
    """把检查点的权重读进已建好的模型；词表或模型设置不同则报错，不会读进错位的权重。"""
    meta = read_checkpoint_meta(path)
    check_compatible(meta["id2word"], meta["config"], vocab, model.config)
    model.load_weights(path)
