"""Generate notebooks/12_judging_poems.ipynb (cells as text; outputs come from a full run)."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
setup = json.loads((ROOT / "notebooks/00_data_tour.ipynb").read_text())["cells"]
setup_src = "".join(next(c for c in setup if c["cell_type"] == "code")["source"])
NAME = "12_judging_poems.ipynb"
COLAB = f"https://colab.research.google.com/github/rnn-tang-poems/rnn-tang-poems/blob/main/notebooks/{NAME}"

cells = []


def md(s):
    cells.append(("markdown", s.strip("\n")))


def code(s):
    cells.append(("code", s.strip("\n")))


md(f"""
# 第 12 章 像不像唐诗：评判、更大的模型与解码

[![在 Colab 中打开](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB})

## 学习目标

- 搭一个**不容易骗过的评判**：每次从头训练两个分类器，分辨生成的诗和模型没见过的真诗；准确率 50 % 才是分不出。
  它得先过两项**对照**：真诗对真诗要分不出，真诗对“句子打乱了的真诗”要分得出——否则它看不见连贯，说的话不算数
- 用两个与写诗模型无关的打分模型量**流畅度**（困惑度之比，1.0 最好），再比用字：distinct-n、常见二字组、诗内重复
- 看数据、模型大小与训练时间各买到多少：一张同样训练 20 分钟的对比表，和随仓库提交的大模型 `models/poet.pt`
  （`make poem` 默认用它，不用先训练）
- 比较几种**解码**：温度、top-k、top-p（nucleus）、不重复二字组、在几首候选里挑一首；在一张表上看清“像”与“顺”的取舍，
  选出默认设置
- 找出分类器靠什么认出生成的诗，再亲手试一试：「谁是真诗」
""")
code(setup_src)
md("""
第 8 章量过生成的诗的用字和格律，但“像不像”一直没有一个可以核对的数。本章先把评判搭起来，用它量第 7 章的模型；
再换上更大的模型和更好的解码，用同一个评判再量一遍。评判、打分、解码的代码都在 `utils/judge.py` 与 `utils/poet.py`，
命令行的 `python -m scripts.judge_poems` 与本章用的是同样的函数。

完整运行本章在作者的测试机（2 核 CPU）上约一刻钟，主要花在写两千多首诗和训练分类器上；快速模式（`COURSE_FAST = True`）
只评判几十首，一两分钟。大模型与解码表的数据来自另外跑的脚本（各自几十分钟到两小时），本章读它们提交在仓库里的结果。
""")
code("""
import inspect
import json
import math

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from scripts.bench_poet import poet_markdown
from scripts.judge_decoding import SETTINGS as DECODING
from scripts.judge_poems import NGRAM_SCORER, RNN_SCORER, load_scorers
from utils import course_models, poet
from utils.data import load_poems, poem_form, process_dataset, split_poems
from utils.frameworks import library
from utils.guess_widget import GuessGame, GuessWidget
from utils.judge import (coherence_features, decoding_markdown, held_out_real, judge, judge_markdown, matched,
                         ngram_classifier, neural_classifier, permuted_lines, telltales)
from utils.metrics import line_set
from utils.poem_widget import PoemWriter
from utils.settings import REPO_ROOT

seed_everything(0)
lib = library("torch")
data = process_dataset()
vocab = data.vocab
train_poems, _, test_poems = split_poems(load_poems())
N = pick(1200, 60)  # 评判几首真诗（每首配一首同体裁的生成诗）
print(f"词表 {len(vocab):,d} 个字；训练集 {len(train_poems):,d} 首，测试集 {len(test_poems):,d} 首")
""")
md("""
## 1 评判：两个分类器和它们的对照

“像不像”最直接的量法是问一个分类器：给它一半生成的诗、一半真诗，训练它分辨，再看它在**没见过的**诗上猜对几成。
猜对 50 % 就是分不出；越接近 100 %，生成的诗越容易被认出。为了不让评判被“练出来”，分类器每次评判都从头训练，
而且它和它用的打分模型都不参与写诗（不用来挑候选，也不用来调解码）。

真诗从哪里来也要讲究。写诗的模型只见过训练集，所以真诗取自验证集与测试集。但《全唐诗》里同一首诗常有几个字不同的异文，
按内容划分数据时会分到两边；打分模型在训练集里见过其中一首，就会觉得测试集里的那首特别顺。所以只留**没有一句出现在训练集里**的，
而且每个字都在词表里（生成的诗也只能用词表里的字）。
""")
code("""
real_all, copy_reference = held_out_real(vocab)
picked = np.random.default_rng(0).permutation(len(real_all))[:N]  # 与 scripts.judge_poems --limit N 取的相同
real = [real_all[i] for i in sorted(picked)]
forms = {f: sum(poem_form(p) == f for p in real) for f in sorted({poem_form(p) for p in real})}
print(f"合条件的留出真诗 {len(real_all):,d} 首，随机取 {len(real):,d} 首：", forms)
print(f"全部留出的这几种近体诗里，与训练集某句一字不差的句子占 {copy_reference:.1%}（“照抄率”该比的真诗的数）")
""")
md("""
第一个分类器只看字：把每首诗拆成单字和相邻两字（字的 1–2-gram），数出现的次数，做逻辑回归。
它抓得住“用字太窄”“老是那几个词”，但看不见一句和下一句接不接得上。
""")
code("""
print(inspect.getsource(ngram_classifier))
""")
md("""
第二个分类器要看得见**连贯**。思路是问一个语言模型（打分模型）：每一句在读过前面几句之后，比单独读它好猜多少？
真诗的后一句常常接着前一句的意思、对仗、押韵，读过前文会好猜不少；各句毫不相干时，前文帮不上忙。
`coherence_features` 把每首诗变成十几个这样的数（每句在前文之后和单独时的平均负对数似然、二者之差的均值、最小值、最大值……），
再交给一个小的多层感知机（MLP）。打分模型用第 6 章的 LSTM（TensorFlow 训练的，与写诗的 PyTorch 模型无关）。
""")
code("""
print(inspect.getsource(coherence_features))
print(inspect.getsource(neural_classifier))
scorers = load_scorers(data)  # {名字: 文字 -> 逐字负对数似然}：训练集上的 KN 4-gram，第 6 章的 LSTM
print("打分模型：", list(scorers))
""")
md("""
一个评判可信，要先过两项**对照**，每次评判都随结果一起打印：

- **真诗 vs 真诗**（把真诗随机分成两半）：两边没有差别，分类器必须在 50 % 左右，否则它有偏向；
- **真诗 vs 句子打乱的真诗**：把所有真诗的句子在诗与诗之间打乱重排（每句只用一次，不留在原来的诗里），
  这样的“诗”每一句都是真的，用字也和真诗一模一样，只是句与句接不上。只看字的分类器在这里应当分不出；
  看连贯的分类器**必须**分得出（本课定的门槛是 75 %），否则它看不见连贯，它在“生成 vs 真诗”上的数就不算。

为什么每句只用一次：若是有放回地抽句子，同一句会在几首“打乱的诗”里重复出现，只看字的分类器记住这些句子就能分出来——
那量的是抽样的漏洞，不是连贯。
""")
code("""
print(inspect.getsource(permuted_lines))
""")
md("""
现在评判第 7 章的模型：用它写 `N` 首诗，每首真诗配一首同体裁的（第 i 首用种子 i），解码用第 6、7 章的温度 0.8、top-k 40，
并打开格律约束——与 `make poem --form X --metre` 以前的默认相同。除了两个分类器，评判还报告两个打分模型下生成的诗与真诗的
**困惑度之比**（1.0 最好，小于 1 是比真诗“平”，大于 1 是比真诗“怪”）和用字。
""")
code("""
chapter7, _ = lib.load_checkpoint(next(course_models.checkpoints("torch"))[0])
lib.prepare_to_write(chapter7)


def write_chapter7(form, seed):
    return poet.write(*lib.writing_step(chapter7), vocab, form=form, metre=True, temperature=0.8, top_k=40, rng=seed)


known = line_set(p.content for p in train_poems)
before = matched(write_chapter7, real)
result_before = judge(before, real, scorers, RNN_SCORER, known, copy_reference)
display(Markdown(judge_markdown(result_before)))
""")
md("""
READ_BEFORE
""")
md("""
## 2 更大的模型：数据、大小与训练时间

第 7 章的模型只有两层 256 维，训练 2100 步、几分钟。要它写得更像，最先想到的是三件事：更多的数据、更大的模型、更久的训练。
哪件值得做，只能量。`scripts/bench_poet.py` 每次只改一处，每种设置都训练同样的分钟数（余弦退火的步数按试训练的速度定），
在唐诗的测试集上比困惑度（测试集从不参与训练）。“宋诗”是同一个 npm 包里的宋代五、七言近体诗，只加进训练集，
出处、筛选和 sha256 见 `data/README.md`。
""")
code("""
bench = json.loads((REPO_ROOT / "results" / "bench" / "poet.json").read_text(encoding="utf-8"))
print("测于", bench["machine"]["date"], "|", bench["machine"]["cores"], "核 CPU |", bench["machine"]["torch_threads"], "个线程")
display(Markdown(poet_markdown(bench)))
for name, run in bench["runs"].items():
    plt.plot([e["step"] for e in run["evals"]], [e["valid_ppl"] for e in run["evals"]], marker=".", label=run["what"])
plt.xlabel("训练步"); plt.ylabel("唐诗验证集困惑度"); plt.yscale("log"); plt.legend(); plt.show()
""")
md("""
READ_BENCH
""")
code("""
poet_path = course_models.poet_checkpoint()
facts = course_models.read_provenance(poet_path)
model, poet_vocab = lib.load_checkpoint(poet_path)
lib.prepare_to_write(model)
print("训练命令：", facts["made_by"])
print(f"训练 {facts['steps']:,d} 步、{facts['training_minutes']} 分钟（{facts['machine']}），代码 {facts['code']}")
print("模型：", facts["model"])
test = pick(data.test, data.test[:300])  # 快速模式只求前 300 首，与记录的数不可比
test_ppl, chapter7_ppl = (math.exp(lib.evaluate(m, test)) for m in (model, chapter7))
print(f"唐诗测试集困惑度：大模型 {test_ppl:.1f}（记录里 {facts['test_perplexity']}），第 7 章的模型 {chapter7_ppl:.1f}")
plt.plot([e["step"] for e in facts["evals"]], [e["valid_ppl"] for e in facts["evals"]], marker=".")
plt.xlabel("训练步"); plt.ylabel("唐诗验证集困惑度"); plt.title("models/poet.pt 的训练曲线"); plt.show()
""")
md("""
READ_POET
""")
md("""
## 3 解码：像与顺的取舍

同一个模型，解码设置不同，写出来的诗可以差很多。第 6 章讲过温度和 top-k；这里再加四样：

- **top-p**（nucleus）：只在累计概率达到 p 的那几个最可能的字里抽。模型有把握时只剩几个字，没把握时留很多，比固定的 k 自适应；
- **典型采样**（typical sampling）：每个字的“意外程度”是 $-\log p$，这一步的熵 $H$ 是它的平均。只留意外程度最接近 $H$ 的那些字，
  累计概率到 τ 为止——既不总挑最可能的（太平），也不挑极不可能的（太怪）；
- **不重复二字组**：一首诗里写过的二字组不再写（`utils.poet.no_repeat`）。真诗很少在一首诗里重复一个词，而低温采样常常重复；
  叠字（“萋萋”）是同一个字接自己，不受影响；
- **在几首候选里挑一首**：每首写几首候选，挑写诗模型给的平均负对数似然最小的（`utils.poet.rerank`，也能再加一个从右往左读的模型）。
  评判用的两个打分模型不能用在这里，否则评判就成了被优化的目标。

它们都只包在“单步函数”外面，所以体裁、格律、藏头、首句照样保证：
""")
code("""
print(inspect.getsource(poet.typical))
print(inspect.getsource(poet.no_repeat))
print(inspect.getsource(poet.rerank))
""")
md("""
`python -m scripts.judge_decoding --limit 1200` 用大模型、同样这 1200 首真诗，把几种设置逐一评判（每种十分钟左右），
结果提交在 `results/judge/decoding/`。下表与图都从那里的文件读出：
""")
code("""
folder = REPO_ROOT / "results" / "judge" / "decoding"
runs = {label: json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) for name, (label, _) in DECODING.items()}
print("测于", next(iter(runs.values()))["date"], "|", next(iter(runs.values()))["machine"])
display(Markdown(decoding_markdown(runs)))
for label, r in runs.items():
    x, y = r["fluency"][RNN_SCORER]["ratio"], r["generated_vs_real"]["neural"]["mean"]
    plt.scatter(x, y); plt.annotate(label, (x, y), fontsize=8)
plt.scatter(1.0, 0.5, marker="*", s=200, color="gold"); plt.annotate("真诗", (1.0, 0.5))
plt.xlabel(f"困惑度之比（{RNN_SCORER}）"); plt.ylabel("看连贯的分类器的准确率"); plt.show()
""")
md("""
READ_DECODING
""")
code("""
print("make poem 的默认解码：", poet.DEFAULTS)


def write_poet(form, seed):
    return poet.write(*lib.writing_step(model), poet_vocab, form=form, metre=True, rng=seed, **poet.DEFAULTS)


after = matched(write_poet, real)
result_after = judge(after, real, scorers, RNN_SCORER, known, copy_reference)
display(Markdown(judge_markdown(result_after)))
""")
code("""
def goal_rows(r, ppl):
    use, real_use = r["word_use"]["generated"], r["word_use"]["real"]
    ratios = [r["fluency"][s]["ratio"] for s in (NGRAM_SCORER, RNN_SCORER)]
    return [("字 n-gram 分类器 ≤ 70%", f"{r['generated_vs_real']['ngram']['mean']:.0%}", r["generated_vs_real"]["ngram"]["mean"] <= 0.70),
            ("看连贯的分类器 ≤ 75%", f"{r['generated_vs_real']['neural']['mean']:.0%}", r["generated_vs_real"]["neural"]["mean"] <= 0.75),
            ("两个困惑度之比在 0.9–1.1", " / ".join(f"{x:.2f}" for x in ratios), all(0.9 <= x <= 1.1 for x in ratios)),
            ("distinct-1 与真诗差 5% 以内", f"{use['distinct-1'] / real_use['distinct-1'] - 1:+.0%}",
             abs(use["distinct-1"] / real_use["distinct-1"] - 1) <= 0.05),
            ("distinct-2 与真诗差 5% 以内", f"{use['distinct-2'] / real_use['distinct-2'] - 1:+.0%}",
             abs(use["distinct-2"] / real_use["distinct-2"] - 1) <= 0.05),
            ("唐诗测试集困惑度 ≤ 90", f"{ppl:.1f}", ppl <= 90)]


rows = [(goal, before_value, after_value, "达到" if ok else "未达到")
        for (goal, before_value, _), (_, after_value, ok) in zip(goal_rows(result_before, chapter7_ppl),
                                                                 goal_rows(result_after, test_ppl))]
display(Markdown("| 目标 | 第 7 章的模型与解码 | 大模型与默认解码 | |\\n|---|---:|---:|---|\\n"
                 + "\\n".join(f"| {' | '.join(row)} |" for row in rows)))
""")
md("""
READ_GOALS
""")
md("""
## 4 还露了什么馅

逻辑回归的权重直接说出它靠什么分辨：权重最大的字或二字组最像“生成的”，最小的最像“真诗的”。
`telltales` 在全部诗上训练一次 n-gram 分类器，列出两头各十个，下面再数一数它们在两边各出现几次，并给一个例句：
""")
code("""
tells = telltales(after, real, k=10)


def count(feature, poems):
    return sum(p.count(feature) for p in poems)


def example(feature, poems):
    return next((line for p in poems for line in p.replace("。", "，").split("，") if feature in line), "")


for side, name in (("generated", "最像生成的"), ("real", "最像真诗的")):
    print(name)
    for feature, weight in tells[side]:
        print(f"  {feature!r:8} 权重 {weight:+.2f} | 生成的诗里 {count(feature, after):4d} 次，真诗里 {count(feature, real):4d} 次"
              f" | 生成的例句：{example(feature, after)} | 真诗的例句：{example(feature, real)}")
""")
md("""
READ_TELLS
""")
md("""
## 5 「谁是真诗」

最后请你当评判。下面每次给出两首同体裁的诗：一首是大模型用默认设置写的，一首是测试集里的真诗（它没训练过），左右随机。
点你认为是真诗的那一边，马上就知道对错和真诗的题目。做完二十题，看看你比上面的分类器强还是弱。
""")
code("""
titles = {p.content: p.title for p in test_poems}
pairs = [(generated, content, titles[content]) for generated, content in zip(after, real) if content in titles]
game = GuessGame(pairs[:20], seed=0)
print(f"测试集里的真诗 {len(pairs)} 对，取前 {len(game.pairs)} 对出题")
GuessWidget(game)
""")
md("""
自己写几首也行：下面的部件用大模型和 `make poem` 的默认解码（滑块从默认值开始），还能给题目或关键词（按题作诗：模型训练时诗前按比例加了标题或关键词，见 `utils/conditions.py`）。
""")
code("""
PoemWriter(lambda **options: poet.write(*lib.writing_step(model), poet_vocab, **options), rules=poet.DEFAULTS,
           titles=True)
""")
md("""
## 小结

READ_SUMMARY
""")
md("""
## 练习

编辑了 `utils/` 里的代码后，要重启内核（或在第一个单元后加 `%load_ext autoreload` 和 `%autoreload 2`），改动才会生效。

**1.** 第 1 节的神经网络分类器只看连贯特征。把它换成只看一个数——每首诗在打分模型下的平均负对数似然（即只看“顺不顺”）——
它在“生成 vs 真诗”和两项对照上各得多少？它能通过“句子打乱”的对照吗？

<details><summary>提示</summary>

`coherence_features` 返回的矩阵里，第一列是“各句在前文之后”的平均负对数似然（见 `utils.judge.FEATURES`）。
取出这一列（`feats[:, :1]`），交给 `utils.judge.accuracy(neural_classifier, x, y)`；三组数据的特征都按第 1 节的做法算。

</details>

<details><summary>参考解答</summary>

```python
from utils.judge import accuracy

score = scorers[RNN_SCORER]
shuffled = permuted_lines(real, np.random.default_rng(0))
f_real, f_gen, f_shuf = (coherence_features(x, score)[:, :1] for x in (real, before, shuffled))
half = len(real) // 2
for name, a, b in (("生成 vs 真诗", f_gen, f_real), ("真诗 vs 真诗", f_real[:half], f_real[half:]),
                   ("真诗 vs 打乱", f_real, f_shuf)):
    x, y = np.vstack([a, b]), np.r_[np.ones(len(a)), np.zeros(len(b))]
    print(name, f"{accuracy(neural_classifier, x, y)['mean']:.0%}")
```

只看平均负对数似然时，打乱的诗每句都是真句子，只有跨句的那几个字变难猜，平均值变化很小，所以它多半过不了 75 % 的门槛；
连贯特征把“前文帮了多少”单独拿出来，才看得见。具体的数以你的运行为准。

</details>

**2.** 解码表里没有“在几首候选里挑一首”。用默认解码每首写 4 首候选，用 `poet.rerank` 按写诗模型自己的平均负对数似然挑一首，
写 200 首，与不挑（每首只写一首）比一比两个困惑度之比和 distinct-2。挑出来的诗更像真诗，还是更“平”？

<details><summary>提示</summary>

`poet.rerank(候选, [打分函数])` 返回最好的一首的下标；打分函数把文字变成逐字负对数似然，可以用
`utils.judge.scorer(lambda seqs: lib.token_nlls(model, seqs), poet_vocab)` 得到。每首候选用同一个随机数生成器接着抽，
四首才各不相同。评判用 `judge(...)`，真诗取 `real[:200]`。

</details>

<details><summary>参考解答</summary>

```python
from utils.judge import scorer

own = scorer(lambda seqs: lib.token_nlls(model, seqs), poet_vocab)

def write_best(form, seed, n=4):
    rng = np.random.default_rng(seed)
    candidates = [poet.write(*lib.writing_step(model), poet_vocab, form=form, metre=True, rng=rng, **poet.DEFAULTS)
                  for _ in range(n)]
    return candidates[poet.rerank(candidates, [own])]

small = real[:200]
for name, write in (("每首一首", write_poet), ("4 首挑 1", write_best)):
    r = judge(matched(write, small), small, scorers, RNN_SCORER, known, copy_reference)
    ratios = " / ".join(f"{f['ratio']:.2f}" for f in r["fluency"].values())
    print(name, "困惑度之比", ratios, "| distinct-2", f"{r['word_use']['generated']['distinct-2']:.3f}")
```

按写诗模型自己的负对数似然挑，挑出来的是它觉得最好猜的那首，所以困惑度之比多半变小（更“平”）、distinct-2 变小；
要挑“接得上”的，得换一个看法不同的打分模型，比如把整首诗倒过来训练的从右往左读的模型（`scripts/train_ddp.py --reverse`）。
200 首的数抖得多，差几个百分点说明不了什么；具体的数以你的运行为准。

</details>

**3.** 第 4 节列出的“露馅”的字，有多少是格律约束造成的？关掉格律（`metre=False`）再写 `N` 首，重新跑 `telltales`，
两份名单有哪些不同？

<details><summary>提示</summary>

复制第 3 节的 `write_poet`，把 `metre=True` 改成 `metre=False`；`telltales(新的诗, real, k=10)`。
格律约束只许用某些韵部的字押韵，押韵的字可能特别集中。

</details>

<details><summary>参考解答</summary>

```python
def write_free(form, seed):
    return poet.write(*lib.writing_step(model), poet_vocab, form=form, metre=False, rng=seed, **poet.DEFAULTS)

free = matched(write_free, real)
free_tells = telltales(free, real, k=10)
with_metre = {f for f, _ in tells["generated"]}
without = {f for f, _ in free_tells["generated"]}
print("只在有格律时露馅：", with_metre - without)
print("只在无格律时露馅：", without - with_metre)
print("两种都露馅：", with_metre & without)
```

只在有格律时出现的那些，多半是韵脚字或平仄谱逼出来的字；两种都有的，是模型自己的偏好。具体名单以你的运行为准。

</details>
""")

nb = json.loads((ROOT / "notebooks/11_training_practice.ipynb").read_text())
out = dict(nbformat=4, nbformat_minor=5, metadata=nb["metadata"], cells=[])
for kind, src in cells:
    lines = src.splitlines(keepends=True)
    cell = dict(cell_type=kind, metadata={}, source=lines)
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    out["cells"].append(cell)
import uuid
for i, c in enumerate(out["cells"]):
    c["id"] = f"c12-{i:02d}"
(ROOT / "notebooks" / NAME).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(len(out["cells"]), "cells")
