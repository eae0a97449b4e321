"""utils/judge.py：评判的特征、分类器、对照与用字统计，用构造出来的“诗”检查它们分得出该分的、分不出不该分的。"""
import numpy as np
import pytest

from utils.data import Vocab
from utils.data import poem_lines
from utils.judge import (coherence_features, decoding_markdown, has_reduplication, judge, judge_markdown, line_spans, permuted_lines,
                         repeats_a_bigram, scorer, telltales, top_bigram_share, two_judges)
from utils.metrics import NGramModel

CHARS = "春风花月夜山水云江天白日秋霜雪雁鸿烟雨楼"
NEXT = dict(zip(CHARS, CHARS[7:] + CHARS[:7]))  # 下一句的第一个字由上一句的最后一个字决定
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *CHARS])


def linked_poems(n, seed, chars=CHARS):
    """五言绝句：每句随机，但下一句的第一个字由上一句的最后一个字决定（“连贯”）。"""
    rng = np.random.default_rng(seed)
    poems = []
    for _ in range(n):
        lines = ["".join(rng.choice(list(chars), 5))]
        for _ in range(3):
            lines.append(NEXT[lines[-1][-1]] + "".join(rng.choice(list(chars), 4)))
        poems.append(f"{lines[0]}，{lines[1]}。{lines[2]}，{lines[3]}。")
    return poems


@pytest.fixture(scope="module")
def ngram_scorer():
    """在 2000 首“连贯”的诗上拟合的 4-gram：它看得见跨句的那个字（上一句末字 + 标点 -> 下一句首字）。"""
    model = NGramModel(4, len(VOCAB)).fit([VOCAB.encode(p) for p in linked_poems(2000, seed=1)])
    return scorer(model.token_nlls, VOCAB)


def test_ngram_token_nlls_add_up_to_its_nll():
    seqs = [VOCAB.encode(p) for p in linked_poems(30, seed=2)]
    model = NGramModel(3, len(VOCAB)).fit(seqs[:20])
    nlls = model.token_nlls(seqs[20:])
    assert [len(x) for x in nlls] == [len(s) - 1 for s in seqs[20:]]
    total, count = model.nll(seqs[20:])
    assert np.isclose(np.concatenate(nlls).sum(), total) and count == sum(map(len, nlls))


def test_line_spans_skip_the_punctuation():
    assert line_spans("白日依山尽，黄河入海流。") == [(0, 5), (6, 11)]


def test_coherence_features_measure_how_much_the_lines_before_help():
    """假的打分模型：单独一句每字 2.0；整首诗里第 1 句每字 2.0、之后每句每字 0.5，<eos> 3.0。"""
    poem = "春风花月夜，山水云江天。白日秋霜雪，雁鸿烟雨楼。"

    def fake(texts):
        out = []
        for t in texts:
            if t == poem:
                nll = np.full(len(t) + 1, 0.5)
                nll[:5], nll[-1] = 2.0, 3.0
            else:
                nll = np.full(len(t) + 1, 2.0)
            out.append(nll)
        return out

    row = dict(zip(["ctx", "alone", "gain", "gain_min", "gain_max"], coherence_features([poem], fake)[0]))
    assert row["alone"] == 2.0 and row["ctx"] == pytest.approx((2.0 + 3 * 0.5) / 4)
    assert row["gain"] == row["gain_min"] == row["gain_max"] == 1.5
    assert coherence_features([poem], fake)[0][-2:].tolist() == [3.0, 4]  # <eos> 与句数


def test_the_neural_judge_sees_shuffled_lines_and_the_controls_hold(ngram_scorer):
    real = linked_poems(300, seed=3)
    rng = np.random.default_rng(0)
    shuffled = permuted_lines(real[150:], rng)
    feats = coherence_features(real[:150], ngram_scorer), coherence_features(shuffled, ngram_scorer)
    seen = two_judges(real[:150], shuffled, *feats, seeds=(0,))
    assert seen["neural"]["mean"] > 0.9      # 句子接不上，打分模型一眼看出
    assert seen["neural"]["mean"] > seen["ngram"]["mean"] + 0.15   # 每句的用字没变，只看字的分类器看出的少得多
    halves = two_judges(real[:150], real[150:], feats[0], coherence_features(real[150:], ngram_scorer), seeds=(0,))
    assert abs(halves["ngram"]["mean"] - 0.5) < 0.15 and abs(halves["neural"]["mean"] - 0.5) < 0.15


def test_judge_reports_a_narrow_vocabulary_and_refuses_unmatched_forms(ngram_scorer):
    real = linked_poems(120, seed=4)
    narrow = linked_poems(120, seed=5, chars=CHARS[:10] + "山水")
    result = judge(narrow, real, {"4-gram": ngram_scorer}, "4-gram", known_lines=set())
    assert result["generated_vs_real"]["ngram"]["mean"] > 0.9
    assert result["word_use"]["generated"]["distinct-1"] < result["word_use"]["real"]["distinct-1"]
    assert result["neural_counts"] and result["count"] == 120
    table = judge_markdown(result)
    assert "真诗 vs 句子打乱的真诗" in table and "4-gram" in table
    tells = telltales(narrow, real, k=3)
    assert set(tells["real"][0][0]) & set("烟雨楼")  # 窄的那组从来写不出这三个字
    assert tells["generated"][0][1] > 0 > tells["real"][0][1]
    with pytest.raises(ValueError, match="体裁"):
        judge(narrow[:-1], real, {"4-gram": ngram_scorer}, "4-gram", known_lines=set())
    like = judge(linked_poems(120, seed=7), real, {"4-gram": ngram_scorer}, "4-gram", known_lines=set())
    rows = decoding_markdown({"窄": result, "像": like}).splitlines()
    assert rows[4].startswith(f"| 窄 | {result['generated_vs_real']['ngram']['mean']:.0%} |") and rows[5].startswith("| 像 | ") and rows[6].startswith("| 真诗")
    assert f"{like['word_use']['real']['distinct-1']:.3f}" in rows[6]
    with pytest.raises(ValueError, match="首数不同"):
        decoding_markdown({"窄": result, "少": judge(narrow[:60], real[:60], {"4-gram": ngram_scorer}, "4-gram",
                                                    known_lines=set())})


def test_permuted_lines_use_every_line_once_and_never_keep_ones_own():
    poems = linked_poems(9, seed=6) + ["白日依山尽，黄河入海流。欲穷千里目，更上一层楼。春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"]
    poems += ["床前明月光，疑是地上霜。举头望明月，低头思故乡。国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。"]
    out = permuted_lines(poems, np.random.default_rng(0))
    assert [len(poem_lines(p)) for p in out] == [len(poem_lines(p)) for p in poems]     # 体裁不变
    assert sorted(line for p in out for line in poem_lines(p)) == sorted(line for p in poems for line in poem_lines(p))
    assert all(a != b for p, q in zip(poems, out) for a, b in zip(poem_lines(p), poem_lines(q)))


def test_without_coherence_the_shuffled_control_is_a_coin_toss(ngram_scorer):
    """句子之间本来就没有关联的“诗”：打乱句子以后两个分类器都应分不出（约 50 %）。
    有放回地抽句子时，同一句会出现在几首打乱的诗里，只看字的分类器就能凭背下的句子认出它们。"""
    rng = np.random.default_rng(7)
    chars = list(CHARS)
    loose = ["".join("".join(rng.choice(chars, 5)) + "，。"[i % 2] for i in range(4)) for _ in range(300)]
    shuffled = permuted_lines(loose[150:], rng)
    feats = coherence_features(loose[:150], ngram_scorer), coherence_features(shuffled, ngram_scorer)
    result = two_judges(loose[:150], shuffled, *feats, seeds=(0,))
    assert abs(result["ngram"]["mean"] - 0.5) < 0.12 and abs(result["neural"]["mean"] - 0.5) < 0.12


def test_word_use_counts():
    assert repeats_a_bigram("春风花月夜，春风山水云。") and not repeats_a_bigram("春风花月夜，山水云江天。")
    assert has_reduplication("萧萧班马鸣，山水云江天。") and not has_reduplication("春风花月夜，山水云江天。")
    assert top_bigram_share(["春风春风春，春风花月夜。"], k=1) == pytest.approx(3 / 8)  # 春风 8 个里占 3 个


def test_the_committed_judge_results_are_the_tables_in_their_readme():
    """results/judge/ 的每个结果文件（含 base/、earlier/、experiments/、quality/ 里的），其 judge_markdown 表格原样出现在那里的 README 里。"""
    import json

    from utils.settings import REPO_ROOT

    folder = REPO_ROOT / "results" / "judge"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    results = sorted([*folder.glob("*.json"), *[p for sub in ("base", "earlier", "experiments", "quality") for p in folder.glob(f"{sub}/*.json")]])
    assert results
    for path in results:
        name = path.relative_to(folder).as_posix()
        result = json.loads(path.read_text(encoding="utf-8"))
        assert not result["fast"] and result["count"] >= 1000, name
        assert f"`{name}`" in readme and judge_markdown(result) in readme, name


def test_the_committed_guided_runs_used_todays_plausibility_cut():
    """results/judge/ 与 results/conditions/ 顶层加了引导（w > 1）的结果，都是在现在的合理性约束 utils.poet.PLAUSIBLE 下量的：
    改了约束，就得重量（旧的移到 earlier/）。约束只在 w > 1 时起作用，不加引导的结果不受影响。"""
    import json

    from utils import poet
    from utils.settings import REPO_ROOT

    checked = 0
    for path in sorted((REPO_ROOT / "results" / "judge").glob("*.json")):
        settings = json.loads(path.read_text(encoding="utf-8"))["settings"]
        if settings.get("guidance", 1) > 1:  # 早先的结果没有这一项：那时还没有引导
            assert settings.get("plausible") == poet.PLAUSIBLE, path.name
            checked += 1
    conditions = REPO_ROOT / "results" / "conditions"
    for path in sorted([*conditions.glob("poet*.json"), *conditions.glob("every*.json")]):
        result = json.loads(path.read_text(encoding="utf-8"))
        if result["decoding"]["guidance"] > 1:
            assert result.get("plausible") == poet.PLAUSIBLE, path.name
            checked += 1
    assert checked


def test_the_committed_decoding_tables_are_their_files():
    """results/judge/decoding/：scripts.judge_decoding 的每种设置一个文件（同一个模型、同样的真诗，完整模式），
    README 里的解码表就是 decoding_markdown 从这些文件排出来的。base/ 是微调之前的模型的表（当时还没有后加的几行）。"""
    import json

    from scripts.judge_decoding import SETTINGS
    from utils.settings import REPO_ROOT

    folder = REPO_ROOT / "results" / "judge" / "decoding"
    for where, expected in ((folder, set(SETTINGS)), (folder / "base", None)):
        names = {p.stem for p in where.glob("*.json")}
        assert names == expected if expected else names < set(SETTINGS)
        runs = {label: json.loads((where / f"{name}.json").read_text(encoding="utf-8"))
                for name, (label, _) in SETTINGS.items() if name in names}
        assert len({r["settings"]["checkpoint"] for r in runs.values()}) == 1
        assert all(not r["fast"] and r["count"] >= 1000 for r in runs.values())
        assert decoding_markdown(runs) in (where / "README.md").read_text(encoding="utf-8")


def test_every_decoding_setting_spells_out_every_rule(monkeypatch):
    """解码表的每一行都写全了解码规则：换掉 make poem 的默认值，解析出来的规则不变
    （曾经漏写 --typical-p：默认改成典型采样之后，它就悄悄混进了别的每一行）。按题作诗的引导与规划与解码表无关，不换。"""
    import argparse

    from scripts.judge_decoding import SETTINGS
    from utils import poet

    def parse(extra):
        p = argparse.ArgumentParser()
        poet.add_decoding_arguments(p)
        return vars(p.parse_known_args(extra)[0])  # 候选重排的参数不是解码规则

    before = {name: parse(extra) for name, (_, extra) in SETTINGS.items()}
    # top-p 在命令行上没有“不用”的写法，不用时就是默认的 None：它不换
    monkeypatch.setattr(poet, "DEFAULTS", dict(temperature=0.5, top_k=7, top_p=None, typical_p=0.5, repeat_bigrams=True,
                                               guidance=poet.DEFAULTS["guidance"], guided_lines=poet.DEFAULTS["guided_lines"],
                                               plan=poet.DEFAULTS["plan"]))
    assert {name: parse(extra) for name, (_, extra) in SETTINGS.items()} == before


def test_the_quotient_of_the_two_fluency_ratios_stated_in_the_readme():
    """results/judge/README.md 说大模型的每一次评判里 KN 之比 ÷ LSTM 之比都在某个范围、一共几次：从结果文件算出来核对。"""
    import json
    import re

    from utils.settings import REPO_ROOT

    folder = REPO_ROOT / "results" / "judge"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    quotients = {}
    for path in folder.rglob("*.json"):
        if "quality" in path.relative_to(folder).parts:  # 别的模型（下一个测试）
            continue
        first, second = (f["ratio"] for f in json.loads(path.read_text(encoding="utf-8"))["fluency"].values())
        quotients[path.relative_to(folder).as_posix()] = first / second
    chapter7 = quotients.pop("torch07_default.json")
    stated = re.search(r"大模型的 (\d+) 次评判.*?这个倍数都在 ([\d.]+)–([\d.]+) 之间（第 7 章的模型 `torch07_default.json` 是 ([\d.]+)）",
                       readme, re.S)
    assert stated, "README 里找不到那句话"
    count, low, high, seventh = stated.groups()
    assert int(count) == len(quotients)
    assert (f"{min(quotients.values()):.2f}", f"{max(quotients.values()):.2f}", f"{chapter7:.2f}") == (low, high, seventh)


def test_the_quotient_against_model_quality_table_is_its_files():
    """results/judge/README.md 的“模型越好，两个打分模型越一致吗”：同一种解码、五个模型，困惑度与两个之比都从文件算出来。"""
    import json

    from utils.settings import REPO_ROOT

    folder, models = REPO_ROOT / "results" / "judge", REPO_ROOT / "models"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    poet = json.loads((models / "poet.json").read_text(encoding="utf-8"))
    rows = {"quality/torch07_poet_decoding.json": json.loads((models / "torch07_lstm.json").read_text(encoding="utf-8")),
            "quality/short_default.json": json.loads((folder / "quality" / "checkpoints" / "short.json").read_text(encoding="utf-8")),
            "quality/mid_default.json": json.loads((folder / "quality" / "checkpoints" / "mid.json").read_text(encoding="utf-8")),
            "decoding/base/t1.0-typical0.9.json": poet["fine_tuned_from"]["fine_tuned_from"], "poet_default.json": poet}
    settings = set()
    for name, model in rows.items():
        result = json.loads((folder / name).read_text(encoding="utf-8"))
        kn, lstm = (f["ratio"] for f in result["fluency"].values())
        row = f"| {model['test_perplexity']:.2f} | `{name}` | {kn:.2f} | {lstm:.2f} | {kn / lstm:.2f} |"
        assert row in readme, row
        settings.add(tuple(result["settings"].get(k) for k in ("temperature", "top_k", "typical_p", "repeat_bigrams", "no_metre", "own_titles")))
    assert len(settings) == 1  # 同一种解码
