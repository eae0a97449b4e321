"""utils/torch_poems.py：与 TensorFlow 模型同一函数、损失、分批、训练、体裁约束、检查点。"""
import numpy as np
import pytest
import torch

from utils.data import Vocab, iterate_batches, pad_sequences, poem_form
from utils.decoding import DecodingError
from utils.torch_poems import (DEFAULT_THREADS, CheckpointError, build_model, choose_num_threads,
                               compute_loss, copy_from_keras, evaluate, gen, load_checkpoint,
                               make_step_fn, model_loss, poem_loader, restore_weights,
                               save_checkpoint, train)

CHARS = "春风花月夜山水云江天白日秋"
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *CHARS])
SMALL = dict(embed_dim=8, hidden_dim=12, num_layers=2)
# 三种输出层：整个词表的 Dense、共享嵌入、自适应 softmax（头部 8 个，两簇；簇内维度 16/4、16/16）
OUTPUTS = {"dense": {}, "tied": dict(tie_embeddings=True),
           "adaptive": dict(adaptive_cutoffs=[8, 14], embed_dim=16)}
CPU = torch.device("cpu")


def toy_poems(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [VOCAB.encode("".join(rng.choice(list(CHARS), 5)) + "，" +
                         "".join(rng.choice(list(CHARS), 5)) + "。") for _ in range(n)]


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def tf_poems():
    from utils import tf_poems
    return tf_poems


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_weights_copied_from_keras_give_the_same_logits(tf_poems, cell, output):
    config = {**SMALL, "cell": cell, **OUTPUTS[output]}
    kmodel = tf_poems.build_model(len(VOCAB), **config)
    # 所有权重（含偏置）换成不小的随机数：门的顺序或偏置放错都会让 logits 明显不同
    rng = np.random.default_rng(1)
    kmodel.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                        for w in kmodel.get_weights()])
    model = build_model(len(VOCAB), device=CPU, **config)
    copy_from_keras(kmodel, model)
    ids, lengths = pad_sequences([VOCAB.encode("春风花月夜，山水云江天。"), VOCAB.encode("白日秋")])
    expected = kmodel(ids)[0].numpy()
    assert np.abs(expected).max() > 1  # logits 不是接近 0 的平凡值
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids).long())
        loss, _ = model_loss(model, *split_batch(ids, lengths))
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-5, rtol=1e-5)
    # 训练用的损失（自适应 softmax 只算目标所在的簇）两个框架也相同
    k_loss, _ = tf_poems.model_loss(kmodel, ids[:, :-1], ids[:, 1:], (lengths - 1).astype(np.int32))
    assert float(loss) == pytest.approx(float(k_loss), rel=1e-5)


def split_batch(ids, lengths):
    """(ids, lengths) NumPy -> 模型的输入、目标、目标个数（张量）。"""
    ids = torch.from_numpy(ids).long()
    return ids[:, :-1], ids[:, 1:], torch.from_numpy(lengths) - 1


def test_adaptive_softmax_is_a_normalised_distribution_and_its_loss_is_exact(tmp_path):
    """自适应 softmax 的对数概率在整个词表上归一；只算目标簇的损失等于整表 logits 的交叉熵。"""
    torch.manual_seed(0)
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **{**SMALL, **OUTPUTS["adaptive"]})
    ids, lengths = pad_sequences(toy_poems(6))
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids).long())
        np.testing.assert_allclose(torch.logsumexp(logits, -1).numpy(), 0, atol=1e-5)
        inputs, labels, n = split_batch(ids, lengths)
        fast, _ = model_loss(model, inputs, labels, n)
        full = compute_loss(model(inputs)[0], labels, n)
    assert labels.max() >= 14 and labels.min() < 8  # 头部和两簇里都有目标
    assert float(fast) == pytest.approx(float(full), rel=1e-6)
    # 与没有自适应 softmax 的模型一样能训练
    history = train(model, toy_poems(64), epochs=5, batch_size=16, learning_rate=2e-2, progress=False)
    assert history["loss"][-1] < history["loss"][0] - 0.3
    loaded, _ = load_checkpoint(save_checkpoint(model, VOCAB, tmp_path / "adaptive.pt"), device=CPU)
    assert loaded.config == model.config
    with torch.no_grad():
        torch.testing.assert_close(loaded(inputs)[0], model(inputs)[0])


def test_copy_refuses_a_model_with_other_settings(tf_poems):
    kmodel = tf_poems.build_model(len(VOCAB), cell="gru", **SMALL)
    with pytest.raises(ValueError, match="设置不同"):
        copy_from_keras(kmodel, build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL))


def test_loss_ignores_padding_and_matches_tensorflow(tf_poems):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 6, len(VOCAB))).astype(np.float32)
    labels = rng.integers(4, len(VOCAB), size=(2, 6))
    lengths = np.array([6, 3])
    loss = float(compute_loss(torch.tensor(logits), torch.tensor(labels), torch.tensor(lengths)))
    logits[1, 3:], labels[1, 3:] = 100.0, 0  # 补齐位置随便填
    again = float(compute_loss(torch.tensor(logits), torch.tensor(labels), torch.tensor(lengths)))
    assert again == pytest.approx(loss, rel=1e-6)
    tf_loss = float(tf_poems.compute_loss(logits, labels.astype(np.int32), lengths.astype(np.int32)))
    assert loss == pytest.approx(tf_loss, rel=1e-6)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("output", ["tied", "adaptive"])
def test_step_by_step_logits_equal_whole_prefix(cell, output):
    model = build_model(len(VOCAB), device=CPU, cell=cell, **{**SMALL, **OUTPUTS[output]})
    ids = VOCAB.encode("春风花月夜，山水")
    with torch.no_grad():
        whole, _ = model(torch.tensor([ids]))
    step, state = make_step_fn(model), None
    for t, token in enumerate(ids):
        logits, state = step(token, state)
        np.testing.assert_allclose(logits, whole[0, t].numpy(), rtol=1e-5, atol=1e-6)


def test_loader_gives_the_shared_batches_and_reshuffles_each_epoch():
    seqs = toy_poems(10) + [VOCAB.encode("春" * n) for n in (1, 9, 20)]
    loader = poem_loader(seqs, batch_size=4, seed=3)
    first = [(ids.numpy(), lengths.numpy()) for ids, lengths in loader]
    for (ids, lengths), (ref_ids, ref_lengths) in zip(first, iterate_batches(seqs, 4, seed=3)):
        np.testing.assert_array_equal(ids, ref_ids)
        np.testing.assert_array_equal(lengths, ref_lengths)
    assert len(first) == len(loader) == 4
    second = [lengths.tolist() for _, lengths in loader]
    assert second != [lengths.tolist() for _, lengths in first]  # 第二遍换了种子
    ids, lengths = next(iter(poem_loader(seqs, batch_size=13, max_len=5)))
    assert ids.shape == (13, 5) and ids.dtype == torch.long and int(lengths.max()) == 5


def test_evaluate_in_chunks_equals_one_pass():
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL)
    seqs = toy_poems(10)
    np.testing.assert_allclose(evaluate(model, seqs, batch_size=4, chunk_len=3),
                               evaluate(model, seqs, batch_size=4, chunk_len=100), rtol=1e-5)
    ids = torch.tensor(seqs[:1])
    with torch.no_grad():
        logits, _ = model(ids[:, :-1])
        expected = compute_loss(logits, ids[:, 1:], torch.tensor([ids.shape[1] - 1]))
    np.testing.assert_allclose(evaluate(model, seqs[:1]), float(expected), rtol=1e-5)


def test_training_lowers_the_loss_and_keeps_best_weights():
    torch.manual_seed(0)
    model = build_model(len(VOCAB), device=CPU, cell="gru", tie_embeddings=True, **SMALL)
    seqs = toy_poems(64)
    before = evaluate(model, seqs)
    history = train(model, seqs, seqs, epochs=10, batch_size=16, learning_rate=2e-2,
                    progress=False)
    after = evaluate(model, seqs)
    assert after < before - 0.3
    assert np.exp(after) == pytest.approx(min(history["valid_ppl"]), rel=1e-4)
    assert history["tokens"] == 10 * sum(len(s) - 1 for s in seqs)


def test_training_speed_is_timed_without_the_validation(monkeypatch):
    """训练的用时不含求验证困惑度的时间（第 7 章的“字/秒”用 train_seconds）。"""
    import time

    import utils.torch_poems as torch_poems

    real_evaluate = torch_poems.evaluate

    def slow_evaluate(*args, **kwargs):  # 验证故意慢 0.3 秒
        time.sleep(0.3)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(torch_poems, "evaluate", slow_evaluate)
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL)
    history = train(model, toy_poems(32), toy_poems(8, seed=1), max_steps=4, eval_every=2,
                    batch_size=16, progress=False)
    assert history["eval_step"] == [2, 4]
    assert history["eval_seconds"] >= 0.6
    assert history["train_seconds"] + history["eval_seconds"] <= history["seconds"]
    assert 0 < history["first_step_seconds"] <= history["train_seconds"] <= history["seconds"] - 0.6
    history = train(model, toy_poems(32), max_steps=2, batch_size=16, progress=False)
    assert history["eval_seconds"] == 0 and 0 < history["train_seconds"] <= history["seconds"]


@pytest.mark.parametrize("form", ["五绝", "七绝", "五律", "七律"])
def test_form_constrained_poems_are_always_well_formed(form):
    """未训练的模型乱写：不加约束几乎写不出整齐的诗，加了约束每一首都合体裁。"""
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL)
    full_name = {"五绝": "五言绝句", "七绝": "七言绝句", "五律": "五言律诗", "七律": "七言律诗"}[form]
    for seed in range(40):
        poem = gen(model, VOCAB, form=form, temperature=1.5, seed=seed)
        assert poem_form(poem) == full_name, poem
    free = [gen(model, VOCAB, max_len=70, seed=seed) for seed in range(40)]
    assert sum(poem_form(p) is not None for p in free) < 5


def test_acrostic_and_first_line():
    model = build_model(len(VOCAB), device=CPU, cell="gru", **SMALL)
    poem = gen(model, VOCAB, acrostic="春江花月", form="七绝", seed=0)
    assert [line[0] for line in poem.replace("。", "，").split("，")[:-1]] == list("春江花月")
    assert gen(model, VOCAB, "白日秋山水，", form="五律", seed=1).startswith("白日秋山水，")


def test_gen_validates_input():
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL)
    with pytest.raises(DecodingError, match="不在词表"):
        gen(model, VOCAB, "龘")
    with pytest.raises(DecodingError, match="温度"):
        gen(model, VOCAB, temperature=0)
    with pytest.raises(DecodingError, match="只有 4 句"):
        gen(model, VOCAB, acrostic="春江花月夜", form="七绝")
    with pytest.raises(DecodingError, match="不能为空"):
        gen(model, VOCAB, acrostic="")
    with pytest.raises(CheckpointError, match="词表"):
        gen(build_model(len(VOCAB) + 1, device=CPU, **SMALL), VOCAB)


def test_checkpoint_round_trip_and_clear_errors(tmp_path):
    model = build_model(len(VOCAB), device=CPU, cell="gru", tie_embeddings=True, **SMALL)
    path = save_checkpoint(model, VOCAB, tmp_path / "poem.pt")
    loaded, vocab = load_checkpoint(path, device=CPU)
    assert vocab.id2word == VOCAB.id2word and loaded.config == model.config
    ids = torch.tensor([VOCAB.encode("春风")])
    with torch.no_grad():
        np.testing.assert_array_equal(loaded(ids)[0].numpy(), model(ids)[0].numpy())
    assert gen(loaded, vocab, seed=5) == gen(model, VOCAB, seed=5)

    restore_weights(build_model(len(VOCAB), device=CPU, cell="gru", tie_embeddings=True, **SMALL),
                    VOCAB, path)
    other = Vocab(VOCAB.id2word[:-1] + ["冬"])  # 同样大小、不同的字
    with pytest.raises(CheckpointError, match="词表"):
        restore_weights(build_model(len(other), device=CPU, cell="gru", tie_embeddings=True,
                                    **SMALL), other, path)
    with pytest.raises(CheckpointError, match="模型设置"):
        restore_weights(build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL), VOCAB, path)
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    torch.save({"something": torch.zeros(2)}, tmp_path / "foreign.pt")
    for bad in ("junk.pt", "foreign.pt"):
        with pytest.raises(CheckpointError, match="不是本课程"):
            load_checkpoint(tmp_path / bad)
    with pytest.raises(CheckpointError, match="找不到"):
        load_checkpoint(tmp_path / "missing.pt")


def test_choose_num_threads_picks_the_faster_and_leaves_the_model_alone():
    model = build_model(len(VOCAB), device=CPU, cell="lstm", **SMALL)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    speeds = choose_num_threads(model, toy_poems(16), steps=2)
    assert set(speeds) == {1, DEFAULT_THREADS} and min(speeds.values()) > 0
    assert torch.get_num_threads() == max(speeds, key=speeds.get)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    torch.set_num_threads(1)


def test_forward_flops_of_the_adaptive_softmax_match_pytorchs_flop_counter():
    """utils.metrics.forward_flops 的自适应 softmax 公式，与 PyTorch 数出的实际矩阵乘 FLOPs 相同。"""
    from torch.utils.flop_counter import FlopCounterMode

    from utils.metrics import forward_flops

    config = dict(cell="lstm", embed_dim=16, hidden_dim=12, num_layers=1, adaptive_cutoffs=[8, 14])
    model = build_model(len(VOCAB), device=CPU, **config)
    h = torch.randn(50, 12)
    labels = torch.from_numpy(np.random.default_rng(0).integers(0, len(VOCAB), 50))
    shares = [float(((labels >= lo) & (labels < hi)).float().mean()) for lo, hi in [(8, 14), (14, len(VOCAB))]]
    recurrent = forward_flops(len(VOCAB), **{**config, "adaptive_cutoffs": None, "tie_embeddings": False}) \
        - 2 * 12 * len(VOCAB)  # 只留循环层
    for targets, share in [(None, None), (labels, shares)]:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            p = model.projection(h)
            model.adaptive.log_prob(p) if targets is None else model.adaptive(p, targets)
        expected = forward_flops(len(VOCAB), tie_embeddings=False, cluster_shares=share, **config) - recurrent
        assert counter.get_total_flops() == pytest.approx(50 * expected)


def test_both_frameworks_write_metre_poems_through_gen(tf_poems):
    """两个框架的 gen 都把 metre、rhyme 交给 utils.decoding：写出的诗押平水韵、合古平仄。"""
    from utils.metre import ping_groups, tone_table
    from utils.metrics import classical_rhymes, classical_tone_ok, poem_lines

    big = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *tone_table()])
    for model, lib in [(build_model(len(big), device=CPU, cell="gru", **SMALL), None),
                       (tf_poems.build_model(len(big), cell="gru", **SMALL), tf_poems)]:
        write = gen if lib is None else lib.gen
        poem = write(model, big, form="五律", metre=True, rhyme="下平七阳", seed=0)
        assert classical_rhymes(poem) and classical_tone_ok(poem), poem
        assert all("下平七阳" in ping_groups(line[-1]) for line in poem_lines(poem)[1::2]), poem


def test_truncated_bptt_learns_and_cuts_the_gradient_at_the_window(torch_one_thread):
    """train_tbptt 在一首反复出现的诗上学得会；状态接着往下传，但梯度不穿过上一批。"""
    from utils.torch_poems import detach_state, train_tbptt

    torch.manual_seed(0)
    model = build_model(12, device=torch.device("cpu"), cell="lstm", embed_dim=8, hidden_dim=16, num_layers=1)
    seqs = [[2, 4, 5, 6, 7, 8, 9, 3]] * 40
    history = train_tbptt(model, seqs, seq_len=6, max_steps=150, batch_size=4, learning_rate=1e-2,
                          progress=False)
    assert len(history["loss"]) == len(history["grad_norm"]) == 150
    assert np.mean(history["loss"][-10:]) < 0.3 * np.mean(history["loss"][:10])
    assert history["tokens"] == 150 * 6 * 4
    # detach_state 留下数值、切断梯度
    x = torch.randint(0, 12, (2, 5))
    _, state = model.features(x)
    kept = detach_state(state)
    assert all(not s.requires_grad for s in kept) and all(torch.equal(a, b) for a, b in zip(kept, state))


def test_stream_evaluation_does_not_depend_on_the_window_length(torch_one_thread):
    """evaluate_stream 把状态从一个窗口接到下一个：切成 4 个字一段与 8 个字一段，算的是同一条长流。"""
    from utils.torch_poems import evaluate_stream

    torch.manual_seed(0)
    model = build_model(12, device=torch.device("cpu"), cell="lstm", embed_dim=8, hidden_dim=16, num_layers=2)
    seqs = [[2, 4, 5, 6, 3], [2, 7, 8, 3], [2, 9, 10, 11, 4, 3], [2, 5, 3]] * 3  # 54 个编号，每行 27 个
    short, long = evaluate_stream(model, seqs, batch_size=2, seq_len=2), evaluate_stream(model, seqs, 2, 13)
    assert short == pytest.approx(long, rel=1e-6)
    # 状态不在诗的开头清零：与每首诗从零开始的 evaluate 不同
    assert short != pytest.approx(evaluate(model, seqs), rel=1e-3)
