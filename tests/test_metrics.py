"""utils/metrics.py：困惑度、n-gram 基线、体裁、押韵、平仄、多样性与抄袭、计算量。"""
import math
import time

import numpy as np
import pytest

from utils.data import Vocab, poem_form
from utils.metre import level_tail, lone_level, ping_groups, rhyme_groups
from utils.metrics import (ALL_TONE_RULES, NGramModel, classical_rhymes, classical_tone_checks, classical_tone_ok,
                           classical_tones, cluster_shares, copied_share, count_tokens, distinct_n, forward_flops,
                           is_well_formed, line_set, matmul_gflops, metre_rates, perplexity,
                           poem_lines, poem_report, rhyme_group, rhymes, shuffled_lines,
                           tone_checks, tone_ok, tones)

JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
DENG_GUANQUE = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
XIANGSI = "红豆生南国，春来发几枝。愿君多采撷，此物最相思。"
CHUNXIAO = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
HUANGHELOU = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
CHUNYE = ("好雨知时节，当春乃发生。随风潜入夜，润物细无声。"
          "野径云俱黑，江船火独明。晓看红湿处，花重锦官城。")
RHYMING = [JINGYESI, DENG_GUANQUE, XIANGSI, CHUNXIAO, HUANGHELOU, CHUNYE]


# ---------------------------------------------------------------- 困惑度

def test_perplexity_of_a_uniform_distribution_is_its_size():
    n = 1000
    assert perplexity(n * math.log(37), n) == pytest.approx(37)


def test_perplexity_of_a_known_distribution_is_exp_entropy():
    probs = np.array([0.5, 0.25, 0.125, 0.125])
    counts = (probs * 800).astype(int)        # 每个字出现的次数正好与概率成比例
    nll = -(counts * np.log(probs)).sum()
    entropy = -(probs * np.log(probs)).sum()
    assert perplexity(nll, counts.sum()) == pytest.approx(math.exp(entropy))  # 2^1.75 ≈ 3.36
    assert perplexity(nll, counts.sum()) == pytest.approx(2 ** 1.75)


def test_perplexity_needs_tokens():
    with pytest.raises(ValueError, match="字数"):
        perplexity(1.0, 0)


# ---------------------------------------------------------------- n-gram

BOS, EOS = Vocab.bos_id, Vocab.eos_id
A, B, C = 4, 5, 6          # 词表：<pad> <unk> <bos> <eos> a b c
TINY = [[BOS, A, B, EOS], [BOS, A, B, EOS], [BOS, C, B, EOS]]


def test_bigram_matches_the_kneser_ney_formula_by_hand():
    model = NGramModel(2, vocab_size=7).fit(TINY)
    model.discounts[:] = 0.5
    # 一阶用接续次数：a 前面只有 <bos>（1 种），b 前面有 a、c（2 种），c 1 种，<eos> 1 种
    # 可预测的字：<unk> <eos> a b c 共 5 个 -> P0 = 1/5
    p1_b = (2 - 0.5 + 0.5 * 4 * (1 / 5)) / 5
    p2_b_after_a = (2 - 0.5 + 0.5 * 1 * p1_b) / 2
    probs = model.next_probs([BOS, A])
    assert probs[B] == pytest.approx(p2_b_after_a)
    assert probs[Vocab.pad_id] == 0 and probs[BOS] == 0


def random_corpus(rng, n_poems=300, vocab_size=40):
    """有规律的随机“诗”：下一个字多半由前两个字决定（三元模型能学到，二元模型学不全）。"""
    seqs = []
    for _ in range(n_poems):
        ids = [int(x) for x in rng.integers(4, vocab_size, size=2)]
        for _ in range(int(rng.integers(3, 15))):
            rule = 4 + (ids[-1] + 2 * ids[-2]) % (vocab_size - 4)
            ids.append(rule if rng.random() < 0.7 else int(rng.integers(4, vocab_size)))
        seqs.append([BOS, *ids, EOS])
    return seqs


@pytest.mark.parametrize("order", [1, 3, 4])
def test_ngram_probabilities_sum_to_one_over_the_vocabulary(order):
    rng = np.random.default_rng(0)
    train, valid = random_corpus(rng), random_corpus(rng, 50)
    model = NGramModel(order, vocab_size=40).fit(train, valid)
    contexts = [[], [BOS], [BOS, 10], [BOS, 10, 11, 12], [7, 8, 9], [Vocab.unk_id, 39, 5],
                [39, 39, 39, 39]]          # 最后两个上下文在训练集里没见过
    for context in contexts:
        probs = model.next_probs(context)
        assert probs.shape == (40,)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert (probs[4:] > 0).all()


def test_ngram_scores_every_token_after_bos_and_higher_orders_help():
    rng = np.random.default_rng(1)
    train, valid, test = random_corpus(rng, 3000), random_corpus(rng, 200), random_corpus(rng, 200)
    ppl = {}
    for order in (1, 2, 3):
        model = NGramModel(order, vocab_size=40).fit(train, valid)
        assert model.nll(test)[1] == count_tokens(test)
        assert ((0 < model.discounts) & (model.discounts < 1)).all()
        ppl[order] = model.perplexity(test)
    assert ppl[1] > 25 and ppl[3] < 0.5 * ppl[2] < 0.5 * ppl[1]


def test_ngram_errors_are_clear():
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(2, vocab_size=7).nll(TINY)
    with pytest.raises(ValueError, match="int64"):
        NGramModel(6, vocab_size=7000)


# ---------------------------------------------------------------- 体裁

def test_real_poems_are_well_formed_and_corruptions_are_not():
    for poem in RHYMING:
        assert is_well_formed(poem)
    assert is_well_formed(JINGYESI, "五言绝句") and not is_well_formed(JINGYESI, "七言绝句")
    assert is_well_formed(CHUNYE, "五言律诗")
    corrupted = [JINGYESI.replace("明月光", "明月"),          # 一句少一个字
                 JINGYESI.replace("霜。", "霜，"),              # 标点错位
                 JINGYESI[:18],                                  # 只有三句
                 JINGYESI + DENG_GUANQUE[:6],                    # 五句
                 JINGYESI.replace("床", "<unk>")]
    for poem in corrupted:
        assert not is_well_formed(poem), poem


def test_poem_lines_drop_punctuation():
    assert poem_lines(JINGYESI) == ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]


# ---------------------------------------------------------------- 押韵

def test_real_poems_rhyme_on_even_lines():
    for poem in RHYMING:
        assert rhymes(poem), poem
    assert rhyme_group("疑是地上霜") == rhyme_group("低头思故乡") == "江阳"
    assert rhyme_group("春来发几枝") == rhyme_group("此物最相思") == "一七"


def test_changed_rhyme_words_break_the_rhyme():
    assert not rhymes(JINGYESI.replace("故乡", "故人"))
    assert not rhymes(DENG_GUANQUE.replace("一层楼", "一层山"))
    assert not rhymes("床前明月光，疑是地上霜。")        # 只有一个偶数句，谈不上押韵


def test_modern_readings_only_approximate_tang_rhymes():
    # 杜甫《春望》末字“簪”当年与“深、心、金”同韵，今读 zān，已不在一辙
    chunwang = ("国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。"
                "烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。")
    assert not rhymes(chunwang)


# ---------------------------------------------------------------- 平仄

def test_tones_follow_modern_mandarin():
    assert tones("床前明月光") == "平平平仄平"
    assert tones("白") == "平"            # 入声字今读阳平：平仄检查只是近似


def test_regular_poems_pass_the_tone_rules():
    for poem in (DENG_GUANQUE, XIANGSI):
        assert tone_checks(poem) == {"二四不同": True, "对": True, "粘": True}
        assert tone_ok(poem)


def test_tone_corruptions_fail_the_matching_rule():
    # 第 2 字换成平声的“云”：第一句二、四字都是平
    assert tone_checks(DENG_GUANQUE.replace("白日", "白云"))["二四不同"] is False
    # 前一联重复一遍：第三句第 2 字与第二句不粘
    repeated = DENG_GUANQUE[:12] * 2
    assert tone_checks(repeated) == {"二四不同": True, "对": True, "粘": False}
    # 对句与出句第 2 字同声：不对
    assert tone_checks("白日依山尽，白日依山尽。欲穷千里目，更上一层楼。")["对"] is False
    assert not tone_ok("不是一首诗")


# ---------------------------------------------------------------- 多样性与抄袭

def test_distinct_n_by_hand():
    texts = ["春风春雨，春风。"]
    # 单字：春 风 春 雨 | 春 风 -> 6 个，3 种；双字：春风 风春 春雨 | 春风 -> 4 个，3 种
    assert distinct_n(texts, 1) == pytest.approx(3 / 6)
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)
    assert distinct_n(texts, 3) == pytest.approx(2 / 2)
    assert distinct_n([], 2) == 0.0


def test_copied_share_counts_verbatim_lines():
    known = line_set([JINGYESI, DENG_GUANQUE])
    generated = ["床前明月光，疑是天上霜。", "白日依山尽，黄河入海流。"]
    assert copied_share(generated, known) == pytest.approx(3 / 4)


def test_poem_report_on_real_and_broken_poems():
    report = poem_report(RHYMING + ["不是一首诗"], line_set([JINGYESI]))
    assert report["合体裁"] == pytest.approx(6 / 7)
    assert report["押韵"] == pytest.approx(5 / 7)   # 平水韵：《春晓》押的是仄声韵（晓、鸟、少），不算
    assert report["照抄率"] == pytest.approx(4 / 29)  # 28 + 1 句里照抄了 4 句
    with pytest.raises(ValueError, match="没有诗"):
        poem_report([])


# ---------------------------------------------------------------- 计算量

def test_forward_flops_by_hand():
    # SimpleRNN 一层：2·1·(4+8)·8 = 192；输出层 2·8·10 = 160
    assert forward_flops(10, "simple", embed_dim=4, hidden_dim=8, num_layers=1,
                         tie_embeddings=False) == 352
    # LSTM 两层：2·4·(4+8)·8 + 2·4·(8+8)·8 = 768 + 1024；共享嵌入：投影 2·8·4 + 输出 2·4·10
    assert forward_flops(10, "lstm", 4, 8, 2, tie_embeddings=True) == 768 + 1024 + 64 + 80


def test_cluster_shares_count_the_targets_after_bos():
    # 目标是 <bos>（编号 2）之后的编号：5 1 7 9 | 3 8；头部 < 4，第 0 簇 [4, 8)，第 1 簇 [8, 10)
    seqs = [[2, 5, 1, 7, 9], [2, 3, 8]]
    assert cluster_shares(seqs, [4, 8], 10) == [2 / 6, 2 / 6]


def test_matmul_gflops_counts_two_n_cubed_flops():
    calls = []

    def fake_matmul(a, b):
        calls.append(1)
        time.sleep(0.01)

    a = np.zeros((100, 100), dtype=np.float32)
    rate = matmul_gflops(fake_matmul, a, a, repeats=2)
    assert len(calls) == 3                     # 热身一次 + 计时两次
    assert 2 * 100 ** 3 / 0.02 / 1e9 < rate <= 2 * 100 ** 3 / 0.01 / 1e9


# ---------------------------------------------------------------- 古韵与古平仄

CHUNWANG = ("国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。"
            "烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。")
DENGGAO = ("风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
           "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。")
REGULATED = [DENG_GUANQUE, XIANGSI, CHUNYE, CHUNWANG, DENGGAO]


def test_classical_tones_keep_the_entering_tone():
    assert classical_tones("白月国出十") == "仄仄仄仄仄"      # 入声字，今读 "平仄平平平" 里有四个平
    assert tones("白国出十") == "平平平平"
    assert classical_tones("看思") == "中中"                     # 平、去两读都常见
    assert classical_tones("A") == "?"


def test_pingshui_rhymes_where_modern_readings_do_not():
    assert classical_rhymes(CHUNWANG) and not rhymes(CHUNWANG)   # 簪、深、心、金同在下平十二侵
    for poem in REGULATED:
        assert classical_rhymes(poem), poem
    assert not classical_rhymes(DENG_GUANQUE.replace("一层楼", "一层山"))
    assert not classical_rhymes(JINGYESI.replace("故乡", "故国"))   # 仄声字不能做韵脚
    assert not classical_rhymes("床前明月光，疑是地上霜。")


def test_regulated_poems_pass_the_classical_tone_rules():
    for poem in REGULATED:
        assert classical_tone_checks(poem) == dict.fromkeys(ALL_TONE_RULES, True), poem
        assert classical_tone_ok(poem) and classical_tone_ok(poem, ALL_TONE_RULES)
        assert classical_tone_ok(poem, ALL_TONE_RULES, source="pingshui"), poem
    assert not tone_ok(DENGGAO)          # 今读把入声的“白、独、浊”算成平声


def test_classical_tone_corruptions_fail_the_matching_rule():
    checks = classical_tone_checks(DENG_GUANQUE.replace("白日", "白云"))      # 第 2、4 字都平
    assert checks == {"二四六分明": False, "对": False, "粘": True, "句末": True, "无孤平": True, "无三平尾": True}
    assert classical_tone_checks(DENG_GUANQUE[:12] * 2)["粘"] is False      # 第三句与第二句不粘
    assert classical_tone_checks("白日依山尽，白日依山尽。欲穷千里目，更上一层楼。")["对"] is False
    assert classical_tone_checks(DENG_GUANQUE.replace("千里目", "千里天"))["句末"] is False  # 单数句收平
    assert not classical_tone_ok("不是一首诗")


def test_metre_rates_on_famous_poems():
    # 《登高》的韵脚“回、来、台、杯”同在上平十灰，今读分属“灰堆”“怀来”两辙
    rates = metre_rates([CHUNWANG, DENGGAO])
    assert rates["押韵（十三辙）"] == 0.0 and rates["押韵（平水韵）"] == 1.0
    assert rates["平仄（古读）"] == 1.0 and rates["古读·粘"] == 1.0
    assert rates["平仄（古读·六条）"] == 1.0 and rates["古读·无孤平"] == 1.0
    assert metre_rates([CHUNWANG, DENGGAO], source="pingshui")["平仄（古读·六条）"] == 1.0
    lonely = DENG_GUANQUE.replace("黄河", "北河")          # 北河入海流：仄平仄仄平
    rates = metre_rates([lonely, DENG_GUANQUE])
    assert rates["古读·无孤平"] == 0.5 and rates["平仄（古读）"] == 1.0 and rates["平仄（古读·六条）"] == 0.5


# ---------------------------------------------------------------- 孤平、三平尾、重复的韵脚、多音字

def test_lone_level_and_level_tail_by_hand():
    assert lone_level("仄平仄仄平") and lone_level("仄仄仄平仄仄平")
    assert not lone_level("平平仄仄平") and not lone_level("仄平平仄平")      # 第 3 字救了第 1 字
    assert not lone_level("仄仄仄平平")                                      # 唯一的平声紧挨韵脚
    assert not lone_level("中平仄仄平")                                      # “中”可能是平：不算
    assert level_tail("仄仄平平平") and level_tail("平仄仄平平平平")
    assert not level_tail("仄仄中平平") and not level_tail("平平仄仄平")


def test_lone_level_and_level_tail_in_the_checker():
    lonely = DENG_GUANQUE.replace("黄河", "北河")              # 北河入海流：仄平仄仄平
    assert classical_tones("北河入海流") == "仄平仄仄平"
    checks = classical_tone_checks(lonely)
    assert checks["无孤平"] is False and all(checks[r] for r in ("二四六分明", "对", "粘", "句末", "无三平尾"))
    assert classical_tone_ok(lonely) and not classical_tone_ok(lonely, ALL_TONE_RULES)
    tail = DENG_GUANQUE.replace("更上一层楼", "更上高层楼")      # 中仄平平平
    assert classical_tones("更上高层楼") == "中仄平平平"
    checks = classical_tone_checks(tail)
    assert checks["无三平尾"] is False and checks["无孤平"] is True


def test_a_repeated_rhyme_character_is_not_a_rhyme():
    assert classical_rhymes(XIANGSI)
    assert not classical_rhymes(XIANGSI.replace("最相思", "最相枝"))          # 枝、枝
    assert not classical_rhymes("山中何所有，岭上多白云。只可自怡悦，不堪持赠云。")
    # 首句入韵时，首句的末字也不能与别的韵脚相同
    assert classical_rhymes(HUANGHELOU)
    assert not classical_rhymes(HUANGHELOU.replace("黄鹤楼", "下扬州"))


def test_a_polyphone_rhymes_only_in_its_main_reading():
    # “台”在上平四支（音“怡”，罕用）与上平十灰里；唐人押它几乎都是十灰
    assert ping_groups("台") == {"上平四支", "上平十灰"}
    assert rhyme_groups("台") == {"上平十灰"}
    assert classical_rhymes(DENGGAO)                                          # 回、来、台、杯：十灰
    assert classical_rhymes("红豆生南国，春来上古台。愿君多采撷，此物最相来。")    # 台、来：十灰
    assert not classical_rhymes("红豆生南国，春来发几枝。愿君多采撷，此物最相台。")  # 枝（四支）与台（只算十灰）
    # 统计表把“忘”记作仄（自动标注的错），唐人却常把它押在下平七阳：按用例算七阳
    assert classical_tones("忘") == "仄" and classical_tones("忘", "pingshui") == "中"
    assert rhyme_groups("忘") == {"下平七阳"}


def test_shuffled_lines_take_line_i_from_another_poem_of_the_same_form():
    poems = [JINGYESI, DENG_GUANQUE, XIANGSI, CHUNXIAO, CHUNYE, CHUNWANG, HUANGHELOU, DENGGAO,
             HUANGHELOU.replace("故人", "友人"), DENGGAO.replace("风急", "风紧")]
    mixed = shuffled_lines(poems, np.random.default_rng(0))
    assert mixed == shuffled_lines(poems, np.random.default_rng(0))
    for own, new in zip(poems, mixed):
        assert poem_form(new) == poem_form(own)
        for i, line in enumerate(poem_lines(new)):
            sources = [p for p in poems if p != own and poem_form(p) == poem_form(own)
                       and poem_lines(p)[i] == line]
            assert sources, (own, new)
    with pytest.raises(ValueError, match="只有一首"):
        shuffled_lines([JINGYESI, CHUNYE], np.random.default_rng(0))
