"""utils/decoding.py：采样规则、体裁约束、藏头诗与输入检查（不依赖任何深度学习框架）。"""
import numpy as np
import pytest

from utils.data import Vocab, poem_form
from utils.decoding import (POEM_FORMS, DecodingError, PoemPlan, generate, get_form,
                            next_token_probs)
from utils.metre import classical_tone, completable, level_tail, lone_level, rhyme_groups, tone_table
from utils.metrics import (ALL_TONE_RULES, classical_rhymes, classical_tone_checks, classical_tone_ok, classical_tones,
                           poem_lines)

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


# ---------------------------------------------------------------- 格律约束

# 古平仄表里的全部汉字（七千多个）：各个平声韵部都有足够的字
BIG = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *tone_table()])


def big_random_step(seed=0):
    rng = np.random.default_rng(seed)
    return lambda token, state: (rng.normal(size=len(BIG)), state)


def rhyme_words(poem):
    """韵脚：双数句的末字。"""
    return [line[-1] for line in poem_lines(poem)[1::2]]


@pytest.mark.parametrize("form", list(POEM_FORMS))
def test_metre_poems_pass_the_classical_checks(form):
    for seed in range(10):
        poem = generate(big_random_step(seed), 0, BIG, form=form, metre=True, rng=seed)
        assert poem_form(poem) == form, poem
        assert classical_rhymes(poem) and classical_tone_ok(poem, ALL_TONE_RULES), poem  # 六条，含孤平、三平尾
        assert len(set(rhyme_words(poem))) == len(rhyme_words(poem)), poem   # 韵脚字不重复


def test_a_given_rhyme_group_is_respected():
    for seed, name in enumerate(["下平七阳", "下平声七阳", "阳"]):
        poem = generate(big_random_step(seed), 0, BIG, form="七律", metre=True, rhyme=name, rng=seed)
        assert all("下平七阳" in rhyme_groups(ch) for ch in rhyme_words(poem)), poem
        assert classical_tone_ok(poem, ALL_TONE_RULES), poem


def test_metre_keeps_prefix_and_acrostic():
    poem = generate(big_random_step(), 0, BIG, form="五绝", metre=True, prefix="白日依山尽，", rng=0)
    assert poem.startswith("白日依山尽，") and classical_rhymes(poem) and classical_tone_ok(poem)
    # 第 1 字不论（一三五不论），任何藏头字都放得下
    poem = generate(big_random_step(), 0, BIG, form="七绝", metre=True, acrostic="白月国出", rng=0)
    assert [line[0] for line in poem_lines(poem)] == list("白月国出")
    assert classical_rhymes(poem) and classical_tone_ok(poem)


def test_masking_comes_before_top_k():
    # 模型总是最想写仄声的“月”：top_k=1 取的是允许的字里 logits 最大的，不会无字可选
    logits = np.random.default_rng(0).normal(size=len(BIG))
    logits[BIG.word2id["月"]] = 50
    poem = generate(lambda token, state: (logits, state), 0, BIG, form="五律", metre=True, top_k=1, rng=0)
    assert classical_rhymes(poem) and classical_tone_ok(poem), poem
    # 能放“月”的位置（不论的位置和要仄的位置）都是它，别的字只在要平的位置上
    others = [ch for line in poem_lines(poem) for ch in line if ch != "月"]
    assert others and all(classical_tone(ch) in ("平", "中") for ch in others), poem


@pytest.mark.parametrize("kwargs, message", [
    (dict(form="五绝", metre=True, prefix="白云依山尽，"), "不合五言绝句的任何一种平仄谱"),  # 二、四字都平
    (dict(form="五绝", metre=True, prefix="白日依山尽，黄河入海流。", rhyme="阳"), "押下平七阳"),
    (dict(form="五律", metre=True, prefix="山河千里国，风月一江秋。水月千山夜，江天一雁秋。"),
     "不合五言律诗"),                                                    # 韵脚字“秋”重复
    (dict(form="五绝", metre=True, prefix="白日依山尽，北河入海流。"), "不合五言绝句"),  # 仄平仄仄平：孤平
    (dict(form="五绝", metre=True, prefix="白日依山尽，黄河上古台。", rhyme="上平四支"), "押上平四支"),  # 台只算十灰
    (dict(form="五绝", metre=True, rhyme="十四行"), "未知韵部"),
    (dict(form="五绝", metre=True, rhyme="去声一送"), "近体诗押平声韵"),
    (dict(form="五绝", rhyme="阳"), "要同时打开格律"),
    (dict(metre=True), "要先定体裁"),
])
def test_impossible_metre_requests_raise(kwargs, message):
    with pytest.raises(DecodingError, match=message):
        generate(big_random_step(), 0, BIG, **kwargs)


def test_metre_needs_enough_rhyme_characters_in_the_vocabulary():
    # 小词表里没有哪个平声韵部有 3 个字，押不满一首绝句
    with pytest.raises(DecodingError, match="不够押 3 个韵"):
        generate(random_step(), 0, VOCAB, form="五绝", metre=True)


def test_completable_looks_ahead_for_lone_level_and_level_tail():
    assert completable("中平中仄平", {0: "仄"})                    # 第 3 字还能用平声救
    assert not completable("中平中仄平", {0: "仄", 2: "仄"})       # 仄平仄仄平
    assert not completable("中仄中平平", {2: "平"})                # 第 4、5 字一定是平：三平尾
    assert completable("中仄中平平", {2: "中"})                    # “中”的字可能是仄
    assert completable("中仄中平仄", {0: "平", 2: "平"})           # 仄收的句子不管孤平


@pytest.mark.parametrize("favourite, form", [("月", "五律"), ("春", "五律"), ("月", "七律"), ("春", "七律")])
def test_metre_decoding_avoids_lone_level_and_level_tail(favourite, form):
    # 模型总想写同一个字：仄声的“月”会造成孤平，平声的“春”会造成三平尾，除非解码拦住它
    for seed in range(5):
        logits = np.random.default_rng(seed).normal(size=len(BIG))
        logits[BIG.word2id[favourite]] = 50
        poem = generate(lambda token, state: (logits, state), 0, BIG, form=form, metre=True, top_k=1, rng=seed)
        marks = [classical_tones(line) for line in poem_lines(poem)]
        assert not any(level_tail(m) for m in marks), poem
        assert not any(lone_level(m) for m in marks[1::2]), poem
        assert all(classical_tone_checks(poem).values()) and classical_rhymes(poem), poem


def test_a_prefix_that_risks_lone_level_is_completed_safely():
    # 第二句以仄声的“月”开头、谱是“中平中仄平”时，第 3 字必须是平（或可平可仄）
    logits = np.zeros(len(BIG))
    logits[BIG.word2id["月"]] = 50
    for seed in range(5):
        poem = generate(lambda token, state: (logits, state), 0, BIG, form="五绝", metre=True,
                        prefix="白日依山尽，月", top_k=1, rng=seed)
        assert poem.startswith("白日依山尽，月") and classical_tone_ok(poem, ALL_TONE_RULES), poem
        assert classical_tone(poem_lines(poem)[1][2]) in ("平", "中"), poem


def test_a_rare_reading_is_never_used_as_a_rhyme():
    # 上平四支里有“台”（罕用的读法），按主要读法它只算上平十灰：押四支时不会用它
    logits = np.zeros(len(BIG))
    logits[BIG.word2id["台"]] = 50
    for seed in range(3):
        poem = generate(lambda token, state: (logits, state), 0, BIG, form="七律", metre=True,
                        rhyme="上平四支", top_k=1, rng=seed)
        assert "台" not in rhyme_words(poem) and classical_rhymes(poem), poem
        poem = generate(lambda token, state: (logits, state), 0, BIG, form="七律", metre=True,
                        rhyme="上平十灰", top_k=1, rng=seed)
        ends = [line[-1] for line in poem_lines(poem)[:1]] + rhyme_words(poem)   # 首句入韵时首句末字也是韵脚
        assert ends.count("台") == 1 and classical_rhymes(poem), poem           # 用一次，不重复


def test_the_first_line_end_is_never_repeated_as_a_rhyme():
    # “看”可平可仄，又在上平十四寒：首句不入韵时它可以是首句的末字，之后的韵脚不能再用它
    logits = np.zeros(len(BIG))
    logits[BIG.word2id["看"]] = 50
    for seed in range(8):
        poem = generate(lambda token, state: (logits, state), 0, BIG, form="五律", metre=True,
                        top_k=1, rng=seed)
        first_end = poem_lines(poem)[0][-1]
        assert first_end not in rhyme_words(poem) and classical_rhymes(poem), poem
