"""utils/conditions.py：条件（标题、关键词）怎样编进序列，关键词怎样抽。"""
import numpy as np
import pytest

from utils.conditions import (KEYWORDS, MIX, PLAN_MIN_POEMS, TITLE, TITLE_CHARS, KeywordExtractor, KeywordPlanner,
                              condition_vocab, content_perplexities, encode, own_title, title_word, training_seqs)
from utils.data import Poem, Vocab

JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
VOCAB = condition_vocab(Vocab.build([JINGYESI + "静夜思故乡明月"]))


def test_the_separators_go_after_the_old_vocabulary_so_plain_poems_keep_their_ids():
    plain = Vocab.build([JINGYESI + "静夜思故乡明月"])
    assert VOCAB.id2word[:len(plain)] == plain.id2word and VOCAB.id2word[-2:] == [TITLE, KEYWORDS]
    assert encode(VOCAB, JINGYESI) == plain.encode(JINGYESI)


def test_a_title_or_keywords_come_between_bos_and_the_poem():
    ids = encode(VOCAB, JINGYESI, title="静 夜思")
    assert VOCAB.decode(ids[1:4]) == "静夜思" and VOCAB.id2word[ids[4]] == TITLE and ids[0] == VOCAB.bos_id
    assert VOCAB.decode(ids[5:]) == JINGYESI
    ids = encode(VOCAB, JINGYESI, keywords=["明月", "故乡"])
    assert VOCAB.decode(ids[1:6]) == "明月，故乡" and VOCAB.id2word[ids[6]] == KEYWORDS
    assert len(encode(VOCAB, JINGYESI, title="静" * 40)) == len(encode(VOCAB, JINGYESI)) + 12 + 1   # 标题最多 12 字
    with pytest.raises(ValueError, match="只能给一种"):
        encode(VOCAB, JINGYESI, title="静夜思", keywords=["明月"])


def test_keywords_are_frequent_enough_content_words_ranked_by_tf_idf():
    common = "春风花月夜，山水白云天。"                     # 每首诗都有：IDF 为 0
    poems = [common + f"明月{c}光好，故乡{c}不还。" for c in "江河湖海"] + [common + "明月照高楼，无人不还乡。"]
    extractor = KeywordExtractor(poems, min_docs=2)
    assert "无人" not in extractor.idf and "江不" not in extractor.idf   # 含虚字
    assert "照高" not in extractor.idf and "江光" not in extractor.idf   # 只有一首诗用过
    assert extractor.idf["明月"] == 0.0 < extractor.idf["故乡"]
    assert extractor.extract(poems[0], k=1) == ["故乡"]                   # 只有它不是每首都有
    assert extractor.extract(poems[0], k=2) == ["春风", "故乡"]           # 同分按在诗里出现的先后


def planner_corpus():
    """PLAN_MIN_POEMS 首“送别”诗都用“离别”“长亭”，其中一半用“杨柳”；同样多的别的诗用“杨柳”“春风”，没有人用“离别”“长亭”。"""
    n = PLAN_MIN_POEMS
    farewell = [f"离别{'杨柳' if i % 2 else '青山'}外，长亭落日斜。" for i in range(n)]
    other = ["春风杨柳外，明月落日斜。"] * n
    return farewell + other, ["送友人"] * n + ["春日"] * n


def test_the_planner_picks_the_words_of_poems_whose_title_holds_the_request():
    """例诗是标题含“送”的诗（够多时）；词池里是例诗用得比全体诗多的词，例诗用得越多得分越高；
    两边一样多或例诗更少用的词（落日、杨柳、春风）不在词池里。"""
    contents, titles = planner_corpus()
    planner = KeywordPlanner(contents, titles)
    assert planner.examples("送") == list(range(PLAN_MIN_POEMS))
    pool = planner.pool("送")
    assert list(pool)[:2] in (["离别", "长亭"], ["长亭", "离别"]) and set(pool) == {"离别", "长亭", "青山"}
    assert pool["离别"] == pytest.approx(np.log(2)) and pool["青山"] == pytest.approx(0.5 * np.log(2))
    rng = np.random.default_rng(0)
    plans = [planner.plan("送", rng, k=2) for _ in range(200)]
    assert all(len(set(p)) == 2 and set(p) <= set(pool) for p in plans)
    assert sum("青山" in p for p in plans) < sum("离别" in p for p in plans)  # 按得分的比例抽
    assert planner.plan("送", np.random.default_rng(5)) == planner.plan("送", np.random.default_rng(5))


def test_the_planner_falls_back_to_single_characters_and_gives_nothing_when_it_cannot_plan():
    """标题含整个题目的诗不够时，改用标题含题目里任何一个实字的诗；仍不到 PLAN_MIN_DOCS 首就挑不出（空的）。"""
    contents, titles = planner_corpus()
    planner = KeywordPlanner(contents, titles)
    assert planner.examples("送君") == list(range(PLAN_MIN_POEMS))      # 没有标题含“送君”：用含“送”的
    assert planner.examples("不") == []                                 # 虚字不算
    assert planner.pool("秋夜") == {} and planner.plan("秋夜", np.random.default_rng(0)) == []
    assert planner.pool("送君") == planner.pool("送")                  # 退回单字时词池与只给那个字相同


def test_the_training_mix_follows_the_shares_and_the_seed():
    poems = [Poem("静夜思", JINGYESI)] * 2000
    extractor = KeywordExtractor([JINGYESI], min_docs=1)
    seqs, kinds = training_seqs(VOCAB, poems, extractor, seed=0)
    assert len(seqs) == 2000 and sum(kinds.values()) == 2000
    for kind, share in MIX.items():
        assert abs(kinds[kind] / 2000 - share) < 0.04, kind
    assert training_seqs(VOCAB, poems, extractor, seed=0)[0] == seqs
    title_id, keywords_id = VOCAB.word2id[TITLE], VOCAB.word2id[KEYWORDS]
    assert sum(title_id in s for s in seqs) == kinds["title"] + kinds["title_word"] + kinds["empty_title"]
    assert sum(keywords_id in s for s in seqs) == kinds["keywords"]
    plain = encode(VOCAB, JINGYESI)
    assert seqs.count(plain) == kinds["none"]                                   # 与第 6、7 章一样
    assert seqs.count(plain[:1] + [title_id] + plain[1:]) == kinds["empty_title"]  # <bos> <title> 正文
    words = {VOCAB.decode(s[1:s.index(title_id)]) for s in seqs if title_id in s} - {"", "静夜思"}
    assert words == {"静", "夜", "思", "静夜", "夜思"}                           # 题中词：标题里连着的一两个字


def test_a_title_word_is_one_or_two_adjacent_characters_of_the_title():
    rng = np.random.default_rng(0)
    words = [title_word("送杜少府之任 蜀州", rng) for _ in range(400)]
    assert {len(w) for w in words} == {1, 2} and all(w in "送杜少府之任蜀州" for w in words)
    assert "任蜀" in words and title_word("月", rng) == "月" and title_word("", rng) == ""


def test_content_perplexity_counts_only_the_poem_and_sees_whether_the_title_helps():
    """假模型：正文的字在前面出现过标题“静夜思”时每字 1 nat，否则 2 nat；标题本身的字 9 nat（不该计入）。"""
    sep = VOCAB.word2id[TITLE]

    def token_nlls(seqs):
        out = []
        for seq in seqs:
            titled = sep in seq and VOCAB.decode(seq[1:seq.index(sep)]) == "静夜思"
            start = seq.index(sep) + 1 if sep in seq else 1
            out.append(np.array([9.0] * (start - 1) + [1.0 if titled else 2.0] * (len(seq) - start)))
        return out

    poems = [Poem("静夜思", JINGYESI), Poem("明月", JINGYESI)]
    ppl = content_perplexities(token_nlls, VOCAB, poems)
    assert ppl["不给条件"] == pytest.approx(np.exp(2.0))
    assert ppl["自己的标题"] == pytest.approx(np.exp(1.5))       # 一首有“静夜思”，一首没有
    assert ppl["随机的标题"] == pytest.approx(np.exp(1.5))       # 两首互换标题：还是一首有


def test_a_real_poems_title_is_cut_to_the_training_length_and_loses_unknown_characters():
    assert own_title(VOCAB, "静夜 思") == "静夜思"
    assert own_title(VOCAB, "静" * (TITLE_CHARS + 3)) == "静" * TITLE_CHARS
    assert own_title(VOCAB, "\u9fa5静") == "静" and own_title(VOCAB, "\u9fa5") is None  # 词表外的字去掉；什么也不剩时不给题目


def test_the_committed_measurements_are_the_tables_in_their_readme():
    """results/conditions/：scripts.judge_conditions 的完整运行，README 里的表就是 conditions_markdown 从这些文件排出来的：
    poet.json（只在开头读题目）与 every.json（每一步都读，现在的 models/poet.pt）各自的两张表；其余每个文件的题材命中率
    （困惑度与解码无关，同一个模型的各次运行都一样）；experiments/ 里是没有提交的模型，两张表都在。"""
    import json

    from scripts.judge_conditions import conditions_markdown, perplexity_markdown, themes_markdown
    from utils.settings import REPO_ROOT

    folder = REPO_ROOT / "results" / "conditions"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    paths = sorted([*folder.glob("poet*.json"), *folder.glob("every*.json"), *folder.glob("earlier/plausible0.01_*.json"),
                    *folder.glob("experiments/*.json")])
    results = {p.relative_to(folder).as_posix(): json.loads(p.read_text(encoding="utf-8")) for p in paths}
    for model in ("poet", "every"):
        assert conditions_markdown(results[f"{model}.json"]) in readme
    for name, result in results.items():
        assert not result["fast"] and result["per_theme"] >= 100, name
        if name.startswith("experiments/"):  # 没有随仓库提交的模型：它自己的两张表
            assert f"`{name}`" in readme and conditions_markdown(result) in readme, name
            continue
        same_model = "every.json" if name.startswith("every") else "poet.json"
        assert perplexity_markdown(result) == perplexity_markdown(results[same_model]), name
        assert f"`{name}`" in readme and themes_markdown(result) in readme, name
