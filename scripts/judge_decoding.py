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
}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="+", choices=list(SETTINGS), help="只评判这几种")
    p.add_argument("--limit", type=int, default=judge_poems.LIMIT, help="随机取这么多首真诗（默认全部）")
    p.add_argument("--checkpoint", help="写诗的检查点（默认 make poem 的）")
    args = p.parse_args(argv)
    scorers = judge_poems.load_scorers(process_dataset())
    common = [*(["--limit", str(args.limit)] if args.limit else []),
              *(["--checkpoint", args.checkpoint] if args.checkpoint else [])]
    results = {label: judge_poems.main([*extra, *common, "--name", f"decoding-{name}"], scorers)
               for name, (label, extra) in SETTINGS.items() if not args.only or name in args.only}
    table = decoding_markdown(results)
    (judge_poems.JUDGE_DIR / "decoding.md").write_text(table + "\n", encoding="utf-8")
    print("\n" + table)


if __name__ == "__main__":
    main()
