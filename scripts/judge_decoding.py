"""第 12 章的解码表：同一个模型、同样的留出真诗，几种解码设置逐一评判（scripts.judge_poems），汇成一张表。

    python -m scripts.judge_decoding --limit 1200                 # 全部设置（每种约几分钟）
    python -m scripts.judge_decoding --only t1.0-p0.95 --limit 1200

每种设置的结果在 .cache/judge/decoding-<名字>.json；表格打印出来，也写进 .cache/judge/decoding.md。
"""
from __future__ import annotations

import argparse

from scripts import judge_poems
from utils.data import process_dataset
from utils.judge import decoding_markdown
from utils.settings import CACHE_DIR, REPO_ROOT

# 从右往左读的模型（给候选重排用），这样训练（约 20 分钟；先 python -m scripts.build_poems --song 准备宋诗）：
REVERSE_COMMAND = ("torchrun --standalone --nproc_per_node=1 -m scripts.train_ddp --device cpu --reverse --song "
                   "--model '{\"hidden_dim\": 256, \"num_layers\": 1, \"dropout\": 0.1}' --steps 8500 "
                   "--eval-every 1700 --max-minutes 21 --state .cache/poet/reverse/state.pt "
                   "--checkpoint .cache/poet/reverse/poem.pt --log-dir .cache/poet/reverse/logs")
REVERSE = CACHE_DIR / "poet" / "reverse" / "poem.pt"
# 记进结果的是相对仓库根目录的路径（脚本在仓库根目录运行；COURSE_CACHE 指到仓库外时用绝对路径）
REVERSE_ARG = REVERSE.relative_to(REPO_ROOT).as_posix() if REVERSE.is_relative_to(REPO_ROOT) else str(REVERSE)
NO_TRUNCATION = ["--top-k", "0"]
NO_TYPICAL = ["--typical-p", "1"]  # 不用典型采样（make poem 的默认用它，不写明就会混进每一行）
SETTINGS = {  # 名字 -> (表里的说明, judge_poems 的参数)；每种都写全，不依赖 make poem 的默认值
    "t0.8-k40": ("温度 0.8、top-k 40（第 6、7 章的设置）", ["--temperature", "0.8", "--top-k", "40", *NO_TYPICAL, "--repeat-bigrams"]),
    "t0.8-k40-norepeat": ("温度 0.8、top-k 40，不重复二字组",
                          ["--temperature", "0.8", "--top-k", "40", *NO_TYPICAL, "--no-repeat-bigrams"]),
    "t0.9-p0.95": ("温度 0.9、top-p 0.95，不重复二字组",
                   ["--temperature", "0.9", *NO_TRUNCATION, "--top-p", "0.95", *NO_TYPICAL, "--no-repeat-bigrams"]),
    "t1.0-p0.95": ("温度 1.0、top-p 0.95，不重复二字组",
                   ["--temperature", "1.0", *NO_TRUNCATION, "--top-p", "0.95", *NO_TYPICAL, "--no-repeat-bigrams"]),
    "t1.0-typical0.9": ("温度 1.0、典型采样 0.9，不重复二字组",
                        ["--temperature", "1.0", *NO_TRUNCATION, "--typical-p", "0.9", "--no-repeat-bigrams"]),
    "t1.1-typical0.9": ("温度 1.1、典型采样 0.9，不重复二字组",
                        ["--temperature", "1.1", *NO_TRUNCATION, "--typical-p", "0.9", "--no-repeat-bigrams"]),
    "t1.0": ("温度 1.0、不截断，不重复二字组", ["--temperature", "1.0", *NO_TRUNCATION, *NO_TYPICAL, "--no-repeat-bigrams"]),
    "t1.0-best4": ("温度 1.0、不截断，不重复二字组，4 首候选挑写诗模型最顺的一首",
                   ["--temperature", "1.0", *NO_TRUNCATION, *NO_TYPICAL, "--no-repeat-bigrams", "--candidates", "4"]),
    "t1.0-best4-reverse": ("同上，挑的时候再加上从右往左读的模型",
                           ["--temperature", "1.0", *NO_TRUNCATION, *NO_TYPICAL, "--no-repeat-bigrams", "--candidates", "4",
                            "--reverse-checkpoint", REVERSE_ARG]),
}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="+", choices=list(SETTINGS), help="只评判这几种")
    p.add_argument("--limit", type=int, default=judge_poems.LIMIT, help="随机取这么多首真诗（默认全部）")
    p.add_argument("--checkpoint", help="写诗的检查点（默认 make poem 的）")
    args = p.parse_args(argv)
    chosen = [name for name in SETTINGS if not args.only or name in args.only]
    if any("--reverse-checkpoint" in SETTINGS[name][1] for name in chosen) and not REVERSE.exists():
        raise SystemExit(f"没有从右往左读的模型 {REVERSE}，先这样训练它（先 python -m scripts.build_poems --song 准备宋诗）：\n{REVERSE_COMMAND}")
    scorers = judge_poems.load_scorers(process_dataset())
    common = [*(["--limit", str(args.limit)] if args.limit else []),
              *(["--checkpoint", args.checkpoint] if args.checkpoint else [])]
    results = {label: judge_poems.main([*extra, *common, "--name", f"decoding-{name}"], scorers)
               for name, (label, extra) in SETTINGS.items() if name in chosen}
    table = decoding_markdown(results)
    (judge_poems.JUDGE_DIR / "decoding.md").write_text(table + "\n", encoding="utf-8")
    print("\n" + table)


if __name__ == "__main__":
    main()
