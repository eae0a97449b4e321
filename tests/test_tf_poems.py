"""utils/tf_poems.py：损失忽略补齐、逐步生成与整段计算一致、检查点与词表、训练能降低损失。"""
import numpy as np
import pytest

from utils.data import Vocab
from utils.decoding import DecodingError
from utils.tf_poems import (CheckpointError, build_model, compute_loss, evaluate, gen, keras,
                            load_checkpoint, make_step_fn, make_train_step, model_loss, poem_dataset,
                            restore_weights, save_checkpoint, tf, train)

CHARS = "春风花月夜山水云江天白日秋"
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *CHARS])
SMALL = dict(embed_dim=8, hidden_dim=12, num_layers=2)
OUTPUTS = {"dense": {}, "tied": dict(tie_embeddings=True),
           "adaptive": dict(adaptive_cutoffs=[8, 14], embed_dim=16)}


def toy_poems(n=40, seed=0):
    """可学的玩具诗：首字随机，之后按 CHARS 的顺序循环。"""
    rng = np.random.default_rng(seed)
    cycle = CHARS * 2
    poems = []
    for start in rng.integers(0, len(CHARS), n):
        text = cycle[start:start + 10]
        poems.append(VOCAB.encode(text[:5] + "，" + text[5:] + "。"))
    return poems


def test_loss_ignores_padding():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 6, len(VOCAB))).astype(np.float32)
    labels = rng.integers(4, len(VOCAB), size=(2, 6)).astype(np.int32)
    lengths = np.array([6, 3], np.int32)
    loss = float(compute_loss(logits, labels, lengths))
    # 补齐位置换成任意值，损失不变
    logits2, labels2 = logits.copy(), labels.copy()
    logits2[1, 3:] = 100.0
    labels2[1, 3:] = 0
    assert float(compute_loss(logits2, labels2, lengths)) == pytest.approx(loss, rel=1e-6)
    # 等于逐字交叉熵对 9 个真实字的平均
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = [-logp[b, t, labels[b, t]] for b in range(2) for t in range(lengths[b])]
    assert loss == pytest.approx(np.mean(picked), rel=1e-5)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_step_by_step_logits_equal_whole_prefix(cell, output):
    tf.random.set_seed(0)
    model = build_model(len(VOCAB), cell=cell, **{**SMALL, **OUTPUTS[output]})
    ids = np.array([VOCAB.encode("春风花月夜，山水")], np.int32)
    whole, _ = model(ids)
    step, state = make_step_fn(model), model.initial_state(1)
    for t, token in enumerate(ids[0]):
        logits, state = step(int(token), state)
        np.testing.assert_allclose(logits, whole[0, t].numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_the_fused_lstm_computes_what_the_keras_loop_computes(layers):
    """融合算子（fused_lstm=True，BlockLSTM）与 Keras 逐步的循环：同样的权重，输出、最后的状态、梯度都相同。"""
    config = dict(cell="lstm", **{**SMALL, "num_layers": layers, **OUTPUTS["adaptive"]})
    loop, fused = build_model(len(VOCAB), **config), build_model(len(VOCAB), fused_lstm=True, **config)
    fused.set_weights(loop.get_weights())
    ids = tf.constant([VOCAB.encode("春风花月夜，山水"), VOCAB.encode("白日山水，") + [0] * 3], tf.int32)  # 第二行补齐
    start = [[tf.random.normal([2, 12]), tf.random.normal([2, 12])] for _ in range(layers)]
    (a, a_states), (b, b_states) = loop(ids, start), fused(ids, start)
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(np.array(a_states), np.array(b_states), atol=1e-5)

    def gradients(model):
        with tf.GradientTape() as tape:
            loss, _ = model_loss(model, ids[:, :-1], ids[:, 1:], tf.constant([9, 6]), training=True)
        return [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]

    for g_loop, g_fused in zip(gradients(loop), gradients(fused)):
        np.testing.assert_allclose(g_loop, g_fused, atol=1e-6)
    assert not build_model(len(VOCAB), cell="gru", fused_lstm=True, **SMALL).fused_lstm  # 只有 LSTM 有融合算子


@pytest.mark.parametrize("output", ["dense", "adaptive"])
def test_evaluate_in_chunks_equals_one_pass(output):
    model = build_model(len(VOCAB), cell="lstm", **{**SMALL, **OUTPUTS[output]})
    seqs = toy_poems(10)
    np.testing.assert_allclose(evaluate(model, seqs, batch_size=4, chunk_len=3),
                               evaluate(model, seqs, batch_size=4, chunk_len=100), rtol=1e-5)
    ids = np.array(seqs[:1], np.int32)
    logits, _ = model(ids[:, :-1])
    expected = compute_loss(logits, ids[:, 1:], np.array([ids.shape[1] - 1], np.int32))
    np.testing.assert_allclose(evaluate(model, seqs[:1]), float(expected), rtol=1e-5)


def test_poem_dataset_batches_similar_lengths_and_reshuffles():
    seqs = [VOCAB.encode("春" * n) for n in (1, 9, 2, 8, 3, 7)]
    ds = poem_dataset(seqs, batch_size=2, seed=0)
    first = [tuple(l.numpy()) for _, l in ds]
    assert sorted(first) == [(3, 4), (5, 9), (10, 11)]  # 长度 +1 是 <bos>、<eos>
    second = [tuple(l.numpy()) for _, l in ds]
    assert sorted(map(sorted, first)) == sorted(map(sorted, second))
    ids, lengths = next(iter(poem_dataset(seqs, batch_size=6, max_len=4)))
    assert ids.shape == (6, 4) and lengths.numpy().max() == 4


@pytest.mark.parametrize("output", ["dense", "adaptive"])
def test_train_step_traces_once_for_all_shapes(output):
    model = build_model(len(VOCAB), cell="lstm", **{**SMALL, **OUTPUTS[output]})
    step = make_train_step(model, keras.optimizers.Adam(1e-3))
    for batch, length in [(2, 5), (3, 9), (1, 4)]:
        ids = np.full((batch, length), VOCAB.word2id["春"], np.int32)
        step(ids, np.full(batch, length, np.int32))
    assert step.experimental_get_tracing_count() == 1


def test_training_lowers_the_loss_and_keeps_best_weights():
    tf.random.set_seed(0)
    model = build_model(len(VOCAB), cell="gru", tie_embeddings=True, **SMALL)
    seqs = toy_poems(64)
    before = evaluate(model, seqs)
    history = train(model, seqs, seqs, epochs=25, batch_size=16, learning_rate=2e-2,
                    progress=False)
    after = evaluate(model, seqs)
    assert after < before - 1.0
    assert np.exp(after) == pytest.approx(min(history["valid_ppl"]), rel=1e-4)
    assert history["eval_step"] == [4 * k for k in range(1, 26)]
    assert history["tokens"] == 25 * sum(len(s) - 1 for s in seqs)
    # 只给步数时跨遍训练到该步数
    history = train(model, seqs, epochs=None, max_steps=10, batch_size=16, progress=False)
    assert history["step"][-1] == 10


def test_training_speed_is_timed_without_the_validation(monkeypatch):
    """训练的用时不含求验证困惑度的时间（第 6 章的“字/秒”用 train_seconds）。"""
    import time

    import utils.tf_poems as tf_poems

    real_evaluate = tf_poems.evaluate

    def slow_evaluate(*args, **kwargs):  # 验证故意慢 0.3 秒
        time.sleep(0.3)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(tf_poems, "evaluate", slow_evaluate)
    model = build_model(len(VOCAB), cell="lstm", **SMALL)
    history = train(model, toy_poems(32), toy_poems(8, seed=1), max_steps=4, eval_every=2,
                    batch_size=16, progress=False)
    assert history["eval_step"] == [2, 4]
    assert history["eval_seconds"] >= 0.6
    assert history["train_seconds"] + history["eval_seconds"] <= history["seconds"]
    assert 0 < history["first_step_seconds"] <= history["train_seconds"] <= history["seconds"] - 0.6
    # 没有验证集时不计验证时间；训练时间逐步累加，不含最后一步之后的收尾
    history = train(model, toy_poems(32), max_steps=2, batch_size=16, progress=False)
    assert history["eval_seconds"] == 0 and 0 < history["train_seconds"] <= history["seconds"]


def test_gen_validates_input_and_follows_the_form():
    model = build_model(len(VOCAB), cell="lstm", **SMALL)
    poem = gen(model, VOCAB, acrostic="春江花月", form="五绝", seed=0)
    assert [line[0] for line in poem.replace("。", "，").split("，")[:-1]] == list("春江花月")
    with pytest.raises(DecodingError, match="不在词表"):
        gen(model, VOCAB, "龘")
    with pytest.raises(DecodingError, match="温度"):
        gen(model, VOCAB, temperature=0)
    with pytest.raises(DecodingError, match="只有 4 句"):
        gen(model, VOCAB, acrostic="春江花月夜", form="七绝")
    with pytest.raises(DecodingError, match="不能为空"):
        gen(model, VOCAB, acrostic="")


def test_adaptive_model_trains_and_survives_a_checkpoint(tmp_path):
    tf.random.set_seed(0)
    config = dict(cell="lstm", **{**SMALL, **OUTPUTS["adaptive"]})
    model = build_model(len(VOCAB), **config)
    seqs = toy_poems(64)
    before = evaluate(model, seqs)
    train(model, seqs, epochs=10, batch_size=16, learning_rate=2e-2, progress=False)
    assert evaluate(model, seqs) < before - 1.0
    loaded, _ = load_checkpoint(save_checkpoint(model, VOCAB, tmp_path / "adaptive.weights.h5"))
    assert loaded.config == model.config
    ids = np.array([VOCAB.encode("春风")], np.int32)
    np.testing.assert_allclose(loaded(ids)[0].numpy(), model(ids)[0].numpy(), rtol=1e-6)


def test_checkpoint_round_trip_and_foreign_vocabulary(tmp_path):
    model = build_model(len(VOCAB), cell="gru", **SMALL)
    path = save_checkpoint(model, VOCAB, tmp_path / "poem.weights.h5")
    loaded, vocab = load_checkpoint(path)
    assert vocab.id2word == VOCAB.id2word
    ids = np.array([VOCAB.encode("春风")], np.int32)
    np.testing.assert_allclose(loaded(ids)[0].numpy(), model(ids)[0].numpy(), rtol=1e-6)

    other = Vocab(VOCAB.id2word[:-1] + ["冬"])  # 同样大小、不同的字
    with pytest.raises(CheckpointError, match="词表"):
        restore_weights(build_model(len(other), cell="gru", **SMALL), other, path)
    with pytest.raises(CheckpointError, match="模型设置"):
        restore_weights(build_model(len(VOCAB), cell="lstm", **SMALL), VOCAB, path)
    with pytest.raises(CheckpointError, match="词表"):
        gen(build_model(len(VOCAB) + 1, **SMALL), VOCAB)
    (tmp_path / "junk.weights.h5").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="不是本课程"):
        load_checkpoint(tmp_path / "junk.weights.h5")
    with pytest.raises(CheckpointError, match="找不到"):
        load_checkpoint(tmp_path / "missing.weights.h5")
