"""utils/poet.py：按题作诗的条件喂给了模型；不重复二字组；坏输入给中文说明。"""
import numpy as np
import pytest

from utils.conditions import KEYWORDS, TITLE, condition_vocab, no_condition
from utils.data import Vocab, poem_lines
from utils.decoding import DecodingError
from utils.judge import bigrams
from utils.metre import tone_table
from utils.poet import BAN, conditioned, guided, no_repeat, rerank, reversed_poem, typical, write

VOCAB = condition_vocab(Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *sorted(tone_table())[:400]]))


def recording_step(fed, logits=None):
    """假模型：记下喂给它的每个编号；logits 固定（默认全 0，即均匀）。"""
    def step(token_id, state):
        fed.append(token_id)
        return (np.zeros(len(VOCAB)) if logits is None else logits.copy()), state
    return step


def test_the_condition_is_fed_right_after_bos_and_only_once():
    fed = []
    step = conditioned(recording_step(fed), [7, 8, VOCAB.word2id[TITLE]])
    step(VOCAB.bos_id, None)
    step(10, None)
    assert fed == [VOCAB.bos_id, 7, 8, VOCAB.word2id[TITLE], 10]


def test_without_a_title_a_conditioned_model_reads_an_empty_title_and_a_plain_model_reads_only_bos():
    """学过按题作诗的模型：不给题目时 <bos> 之后喂 <title>（空标题）；第 6、7 章那样的词表里没有 <title>，只喂 <bos>。"""
    fed = []
    write(recording_step(fed), None, VOCAB, form="五绝", rng=0)
    assert fed[:3] == [VOCAB.bos_id, VOCAB.word2id[TITLE], fed[2]] and fed.count(VOCAB.word2id[TITLE]) == 1
    plain = Vocab(VOCAB.id2word[:-2])
    fed = []
    write(lambda t, s: (fed.append(t), (np.zeros(len(plain)), s))[1], None, plain, form="五绝", rng=0)
    assert fed[0] == plain.bos_id and TITLE not in plain.word2id and len(fed) == 1 + 5 * 4 + 4


def test_guidance_pushes_the_log_probabilities_away_from_the_unconditioned_reading():
    """假模型：读过题目里的字 7 之后偏爱字 20（logits +1），没读过时均匀。“无条件”的那一遍读的是空标题（只有 <title>）。
    引导 w 下：log p = log p(无条件) + w × (log p(条件) − log p(无条件))，字 20 比别的字高 w × 1。"""
    sep = VOCAB.word2id[TITLE]

    def step(token_id, state):
        seen = bool(state) or token_id == 7
        logits = np.zeros(len(VOCAB))
        logits[20] = 1.0 if seen else 0.0
        return logits, seen

    wrapped = guided(step, [7, sep], 3.0, no_condition(VOCAB))
    logits, state = wrapped(VOCAB.bos_id, (False, False, 0))
    assert state == (True, False, 0)  # 只有一遍读了条件
    assert logits[20] - logits[21] == pytest.approx(3.0)
    logits, state = wrapped(10, state)
    assert logits[20] - logits[21] == pytest.approx(3.0) and state == (True, False, 0)
    plain = np.log(np.full(len(VOCAB), 1 / len(VOCAB)))
    assert logits[21] == pytest.approx(plain[21] + 3.0 * (-np.log(len(VOCAB) - 1 + np.e) - plain[21]))


def test_guidance_never_picks_a_character_the_conditioned_model_finds_implausible():
    """条件让生僻字 30 的概率涨了 e^4 倍，但仍远低于最可能的字 20：放大了比值也不许选它。"""
    sep = VOCAB.word2id[TITLE]

    def step(token_id, state):
        seen = bool(state) or token_id == 7
        logits = np.zeros(len(VOCAB))
        logits[20], logits[30] = 10.0, (-8.0 if not seen else -4.0)
        return logits, seen

    logits, _ = guided(step, [7, sep], 5.0, no_condition(VOCAB))(VOCAB.bos_id, (False, False, 0))
    # 不加约束时字 30 是 −18 + 5 × 4 = 2，比字 20 的 0 还高
    assert logits[30] < -1000 and int(np.argmax(logits)) == 20


def test_guidance_stops_after_the_guided_lines_and_the_plain_pass_is_no_longer_run():
    """lines=2：喂进两个句末标点之前按引导（字 20 高 w），之后只按条件（字 20 高 1，与 w = 1 相同），
    没读条件的那一遍也不再跑。"""
    sep, comma, stop = VOCAB.word2id[TITLE], VOCAB.word2id["，"], VOCAB.word2id["。"]
    plain_calls = []

    def step(token_id, state):
        seen = bool(state) or token_id == 7
        if not seen:
            plain_calls.append(token_id)
        logits = np.zeros(len(VOCAB))
        logits[20] = 1.0 if seen else 0.0
        return logits, seen

    wrapped = guided(step, [7, sep], 3.0, no_condition(VOCAB), lines=2, line_ends={comma, stop})
    logits, state = wrapped(VOCAB.bos_id, (False, False, 0))
    for token in (10, comma, 11):  # 第二句还没写完：仍然引导
        logits, state = wrapped(token, state)
        assert logits[20] - logits[21] == pytest.approx(3.0)
    before = len(plain_calls)
    for token in (stop, 12, comma, 13):
        logits, state = wrapped(token, state)
        assert logits[20] - logits[21] == pytest.approx(1.0) and state[2] >= 2
    assert len(plain_calls) == before


def test_guiding_every_line_is_guiding_as_many_lines_as_the_poem_has():
    """五绝四句：guided_lines=4（或更多）与不限句数写出同一首诗；只引导一句的不同。"""
    rng = np.random.default_rng(3)
    table = rng.normal(0, 1, size=(len(VOCAB), len(VOCAB)))

    def step(token_id, state):  # 假模型：下一个字的 logits 只看这一个字（读过题目里的字 7 之后整体换一张表）
        seen = bool(state) or token_id == 7
        return table[token_id] * (2.0 if seen else 1.0), seen

    title = VOCAB.id2word[7]
    poems = {n: write(step, False, VOCAB, title=title, form="五绝", rng=5, guidance=3.0, guided_lines=n)
             for n in (None, 4, 8, 1)}
    assert poems[None] == poems[4] == poems[8] != poems[1]
    for bad in (0, -1, 1.5):
        with pytest.raises(DecodingError, match="guided_lines"):
            write(step, False, VOCAB, title=title, form="五绝", rng=5, guidance=3.0, guided_lines=bad)


def test_the_plausibility_cut_measurement_reads_the_removed_probability():
    """scripts.plausible_cut 的 removed_mass：假模型每步给同一个分布 (0.5, 0.3, 0.004, 其余平分 0.196)。
    约束 0.01 截掉概率低于 0.005 的字，约束 0.001 截掉低于 0.0005 的字；只看最后 positions 个预测。"""
    from scripts.plausible_cut import removed_mass

    p = np.full(len(VOCAB), 0.196 / (len(VOCAB) - 3))
    p[:3] = 0.5, 0.3, 0.004
    step = lambda token, state: (np.log(p), state + 1)  # noqa: E731
    out = removed_mass(step, 0, [1, 2, 3, 4, 5], positions=2)
    assert all(len(v) == 2 for v in out.values())
    assert out["约束 0.01"][0] == pytest.approx(p[p < 0.005].sum()) and out["约束 0.01"][0] > 0.196
    assert out["约束 0.001"][0] == pytest.approx(p[p < 0.0005].sum())
    assert out["约束 0.001"][0] < out["约束 0.01"][0]
    assert 0 < out["典型采样 0.9"][0] < 0.5


def test_guidance_changes_nothing_for_a_model_that_ignores_the_condition_and_below_1_is_refused():
    logits = np.random.default_rng(0).uniform(0, 2, size=len(VOCAB))  # 都在最可能的字的 e^-2 倍以内：不受合理性约束
    title = VOCAB.id2word[30]
    one = write(recording_step([], logits), None, VOCAB, title=title, form="五绝", rng=1)
    assert one == write(recording_step([], logits), None, VOCAB, title=title, form="五绝", rng=1, guidance=4.0)
    with pytest.raises(DecodingError, match="guidance"):
        write(recording_step([], logits), None, VOCAB, title=title, form="五绝", rng=1, guidance=0.5)


def test_written_poems_never_repeat_a_bigram_even_when_the_model_loves_one():
    """假模型总是最想写“ab”（logits 偏向 a、b 两个字）：不禁时二字组 ab 反复出现，禁了就一次也不重复。"""
    a, b = 10, 11
    logits = np.zeros(len(VOCAB))
    logits[[a, b]] = 8.0
    rng = np.random.default_rng(0)
    free = [write(recording_step([], logits), None, VOCAB, form="五律", rng=rng) for _ in range(5)]
    assert any(max(np.unique(bigrams(p), return_counts=True)[1]) > 1 for p in free)
    kept = [write(recording_step([], logits), None, VOCAB, form="五律", rng=rng, repeat_bigrams=False) for _ in range(20)]
    for poem in kept:
        grams = bigrams(poem)
        assert len(grams) == len(set(grams)), poem
        assert len(poem_lines(poem)) == 8


def test_no_repeat_forgets_nothing_across_lines_but_allows_bigrams_across_punctuation():
    fed = []
    step = no_repeat(recording_step(fed), VOCAB)
    step(VOCAB.bos_id, None)
    step(10, None)
    logits, _ = step(11, None)            # 写过 10→11
    assert logits.max() == 0.0            # 11 之后还没有禁的
    step(VOCAB.word2id["，"], None)
    logits, _ = step(10, None)            # 又写到 10：11 不能再跟在它后面
    assert logits[11] < -1000 and np.count_nonzero(logits) == 1


def test_bad_titles_and_keywords_get_a_chinese_message():
    plain = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *sorted(tone_table())[:400]])
    step = recording_step([])
    with pytest.raises(DecodingError, match="没有学过按题作诗"):
        write(step, None, plain, title="春")
    with pytest.raises(DecodingError, match="不能为空"):
        write(step, None, VOCAB, title="  ")
    with pytest.raises(DecodingError, match="不能为空"):
        write(step, None, VOCAB, keywords=[])
    with pytest.raises(DecodingError, match="只能给一种"):
        write(step, None, VOCAB, title=VOCAB.id2word[10], keywords=[VOCAB.id2word[11]])
    with pytest.raises(DecodingError, match="不在词表里：𠀀"):
        write(step, None, VOCAB, title="𠀀")
    with pytest.raises(DecodingError, match="最多 12 个字"):
        write(step, None, VOCAB, title=VOCAB.id2word[10] * 13)
    with pytest.raises(DecodingError, match="最多 12 个字"):
        write(step, None, VOCAB, keywords=[VOCAB.id2word[10] * 7, VOCAB.id2word[11] * 6])
    assert VOCAB.id2word[-2:] == [TITLE, KEYWORDS]


def test_plan_writes_from_the_keywords_the_planner_picks_for_the_title(monkeypatch):
    """plan=True：先由题目挑关键词（同一个随机数生成器，同一个种子挑同样的词、写同一首），<bos> 之后喂的是
    关键词 + <keywords>，不是题目；不给题目时 plan 不起作用；题目照常检查；挑不出关键词时直接按题目写。"""
    from utils import poet
    from utils.conditions import PLAN_MIN_POEMS, KeywordPlanner

    a, b, c, d = (VOCAB.id2word[i] for i in range(10, 14))
    contents = [f"{a}{b}{c}{d}{a}，{c}{d}{a}{b}{c}。"] * PLAN_MIN_POEMS + [f"{c}{d}{c}{d}{c}。"] * PLAN_MIN_POEMS
    planner = KeywordPlanner(contents, [a] * PLAN_MIN_POEMS + [b] * PLAN_MIN_POEMS)
    monkeypatch.setattr(poet, "training_planner", lambda: planner)
    fed = []
    poem = write(recording_step(fed), None, VOCAB, title=a, plan=True, form="五绝", rng=4)
    words = planner.plan(a, np.random.default_rng(4))
    condition = VOCAB.encode("，".join(words), bos=False, eos=False) + [VOCAB.word2id[KEYWORDS]]
    assert fed[:1 + len(condition)] == [VOCAB.bos_id, *condition] and VOCAB.word2id[TITLE] not in fed
    assert poem == write(recording_step([]), None, VOCAB, title=a, plan=True, form="五绝", rng=4)
    fed_plain = []
    write(recording_step(fed_plain), None, VOCAB, plan=True, form="五绝", rng=4)
    assert fed_plain[:3] == [VOCAB.bos_id, VOCAB.word2id[TITLE], fed_plain[2]]     # 没有题目：照常写
    with pytest.raises(DecodingError, match="只能给一种"):
        write(recording_step([]), None, VOCAB, title=a, keywords=[b], plan=True)
    with pytest.raises(DecodingError, match="不在词表里"):
        write(recording_step([]), None, VOCAB, title="𠀀", plan=True)
    for vocab, title in ((VOCAB, d), (condition_vocab(Vocab([*VOCAB.id2word[:11], *VOCAB.id2word[12:-2]])), a)):
        # 挑不出关键词（没有标题含 d 的诗；或词池里的词有字不在这个模型的词表里）：直接按题目写
        fed = []
        write(lambda t, state: (fed.append(t), (np.zeros(len(vocab)), state))[1], None, vocab, title=title, plan=True,
              form="五绝", rng=4)
        assert fed[:3] == [vocab.bos_id, vocab.word2id[title], vocab.word2id[TITLE]]


def test_free_writing_never_emits_a_separator():
    """不限体裁时，分隔符 <title>、<keywords> 也不会被写出来（即使模型最想写它们）。"""
    logits = np.zeros(len(VOCAB))
    logits[[VOCAB.word2id[TITLE], VOCAB.word2id[KEYWORDS]]] = 20.0
    logits[VOCAB.eos_id] = -20.0                   # 不让它提前结束：要写满 30 个字
    poem = write(recording_step([], logits), None, VOCAB, max_len=30, rng=np.random.default_rng(0))
    assert "<" not in poem and len(poem) == 30


def test_rerank_picks_the_candidate_with_the_lowest_summed_mean_nll():
    def scorer(per_char):
        return lambda texts: [np.full(len(t) + 1, per_char[t]) for t in texts]
    forward = scorer({"甲": 2.0, "乙": 1.0, "丙": 1.5})
    backward = scorer({"甲": 0.5, "乙": 3.0, "丙": 1.5})
    assert rerank(["甲", "乙", "丙"], [forward]) == 1
    assert rerank(["甲", "乙", "丙"], [forward, backward]) == 0     # 甲 2.5、乙 4.0、丙 3.0
    with pytest.raises(ValueError, match="没有候选"):
        rerank([], [forward])
    assert reversed_poem("白日依山尽，黄河入海流。") == "。流海入河黄，尽山依日白"


def test_typical_keeps_the_characters_whose_surprise_is_closest_to_the_entropy():
    """四个字的概率 0.5、0.3、0.1、0.1（其余几乎为 0）：熵 H ≈ 1.17 nats，−log p 是 0.69、1.20、2.30、2.30。
    离 H 最近的是 0.3 的那个字，其次 0.5 的：mass 0.25 只留前者，0.7 留两个，0.99 四个都留。"""
    chars = [10, 11, 12, 13]
    probs = np.full(len(VOCAB), 1e-12)
    probs[chars] = [0.5, 0.3, 0.1, 0.1]
    logits = np.log(probs / probs.sum())
    for mass, kept in ((0.25, {11}), (0.7, {10, 11}), (0.99, set(chars))):
        out, _ = typical(recording_step([], logits), mass)(VOCAB.bos_id, None)
        assert set(np.flatnonzero(out > -BAN / 2)) == kept, mass
    poem = write(recording_step([], logits), None, VOCAB, form="五绝", rng=np.random.default_rng(0), typical_p=0.25)
    assert set(poem) - set("，。") == {VOCAB.id2word[11]}
