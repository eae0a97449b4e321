"""utils/decoding.py：采样规则、体裁约束、藏头诗与输入检查（不依赖任何深度学习框架）。"""
import numpy as np
import pytest

from utils.data import Vocab, poem_form
from utils.decoding import (POEM_FORMS, DecodingError, PoemPlan, generate, get_form,
                            next_token_probs)

CHARS = "春风花月夜山水云江天白日秋"
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *CHARS])


def random_step(seed=0):
    """假模型：logits 随机；状态是走过的步数。"""
    rng = np.random.default_rng(seed)

    def step(token, state):
        return rng.normal(size=len(VOCAB)), state + 1

    return step


def test_temperature_sharpens_and_flattens():
    logits = np.array([2.0, 1.0, 0.0])
    cold, warm = next_token_probs(logits, 0.5), next_token_probs(logits, 2.0)
    np.testing.assert_allclose(next_token_probs(logits, 1.0), np.exp(logits) / np.exp(logits).sum())
    assert cold[0] > next_token_probs(logits)[0] > warm[0]
    np.testing.assert_allclose(cold.sum(), 1.0)


def test_top_k_and_top_p_keep_the_likeliest():
    logits = np.log([0.5, 0.3, 0.15, 0.05])
    p = next_token_probs(logits, top_k=2)
    np.testing.assert_allclose(p, [0.625, 0.375, 0, 0])
    # 0.5 不到 0.7，再加 0.3 跨过 0.7：保留前两个
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.7), [0.625, 0.375, 0, 0])
    np.testing.assert_allclose(next_token_probs(logits, top_p=0.5), [1, 0, 0, 0])
    np.testing.assert_allclose(next_token_probs(logits, top_k=1), [1, 0, 0, 0])


def test_allowed_mask_is_respected():
    allowed = np.array([False, True, False, True])
    p = next_token_probs(np.array([5.0, 0.0, 5.0, 0.0]), allowed=allowed)
    np.testing.assert_allclose(p, [0, 0.5, 0, 0.5])


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_temperature_must_be_positive(bad):
    with pytest.raises(DecodingError, match="温度"):
        generate(random_step(), 0, VOCAB, temperature=bad)


def test_bad_top_k_and_top_p():
    with pytest.raises(DecodingError, match="top_k"):
        next_token_probs(np.zeros(3), top_k=0)
    with pytest.raises(DecodingError, match="top_p"):
        next_token_probs(np.zeros(3), top_p=1.5)


def test_characters_outside_vocabulary_are_listed():
    with pytest.raises(DecodingError, match="不在词表.*龘 鱻"):
        generate(random_step(), 0, VOCAB, prefix="春龘风鱻")
    with pytest.raises(DecodingError, match="龘"):
        generate(random_step(), 0, VOCAB, acrostic="春龘")


def test_empty_or_too_long_acrostic():
    with pytest.raises(DecodingError, match="藏头字不能为空"):
        generate(random_step(), 0, VOCAB, acrostic="  ")
    with pytest.raises(DecodingError, match="只有 4 句"):
        generate(random_step(), 0, VOCAB, acrostic="春风花月夜", form="五绝")
    with pytest.raises(DecodingError, match="只有 8 句"):
        generate(random_step(), 0, VOCAB, acrostic="春风花月夜山水云江")
    with pytest.raises(DecodingError, match="汉字"):
        generate(random_step(), 0, VOCAB, acrostic="春，")


def test_unknown_form_and_prefix_that_breaks_the_form():
    with pytest.raises(DecodingError, match="未知体裁"):
        get_form("十四行诗")
    with pytest.raises(DecodingError, match="不合五言绝句"):
        generate(random_step(), 0, VOCAB, prefix="春风，", form="五绝")
    with pytest.raises(DecodingError, match="冲突"):
        generate(random_step(), 0, VOCAB, prefix="春风", acrostic="花月", form="五绝")


@pytest.mark.parametrize("form", list(POEM_FORMS))
def test_form_constraint_always_gives_a_well_formed_poem(form):
    for seed in range(20):
        poem = generate(random_step(seed), 0, VOCAB, form=form, rng=seed)
        assert poem_form(poem) == form, poem


def test_acrostic_and_prefix_are_placed():
    poem = generate(random_step(), 0, VOCAB, acrostic="春江花月", form="七绝", rng=1)
    lines = poem.replace("。", "，").split("，")[:-1]
    assert [line[0] for line in lines] == list("春江花月")
    assert poem_form(poem) == "七言绝句"
    # 藏头字少于句数：后面的句子自由；未给体裁时按字数选七绝
    assert PoemPlan(VOCAB, acrostic="春江").form.name == "七言绝句"
    poem = generate(random_step(), 0, VOCAB, prefix="白日山", form="五律", rng=2)
    assert poem.startswith("白日山") and poem_form(poem) == "五言律诗"


def test_free_generation_stops_at_eos_or_max_len_and_carries_state():
    states = []

    def step(token, state):
        states.append(state)
        logits = np.full(len(VOCAB), -1e9)
        logits[VOCAB.eos_id if state == 4 else VOCAB.word2id["春"]] = 0
        return logits, state + 1

    assert generate(step, 0, VOCAB, prefix="白") == "白春春春"
    assert states == [0, 1, 2, 3, 4]  # 状态逐步传回给模型
    assert generate(random_step(), 0, VOCAB, max_len=7, rng=0).__len__() <= 7


def test_special_tokens_never_sampled_inside_the_text():
    logits = np.zeros(len(VOCAB))
    logits[[VOCAB.pad_id, VOCAB.unk_id, VOCAB.bos_id]] = 50  # 模型偏爱特殊符号也不会被选中

    def step(token, state):
        return logits, state

    poem = generate(step, 0, VOCAB, max_len=30, rng=0)
    assert all(ch in VOCAB for ch in poem)
    assert "<" not in poem


def test_same_seed_same_poem():
    a = generate(random_step(3), 0, VOCAB, rng=5, top_k=5)
    b = generate(random_step(3), 0, VOCAB, rng=5, top_k=5)
    assert a == b
