"""把训练好的大模型放进 models/（随仓库提交，make poem 默认用它）：在唐诗的验证集、测试集上求困惑度（不给条件，
与第 6、7 章可比），把它怎么来的写进 models/poet.json。

    python -m scripts.ship_poet .cache/poet/final     # 该目录里有 train_ddp 写下的 poem.pt 与 state.pt

记录：训练命令、开始时的代码版本、结束时刻、机器、步数、训练分钟、字/秒、模型设置、两份语料的 sha256、
每次验证的困惑度、验证集与测试集困惑度、文件的 sha256；微调（train_ddp --init）出来的模型还记下起点
（fine_tuned_from：起点的 sha256，起点是以前随仓库提交的大模型时连它的记录一起）。tests/test_shipped_models.py 核对它。
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import torch

from utils import provenance, torch_poems
from utils.course_models import SHIPPED_DIR
from utils.data import process_dataset
from utils.settings import POEMS_PATH, REPO_ROOT, SONG_POEMS_PATH

POET = SHIPPED_DIR / "poet.pt"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("trained", type=Path, help="train_ddp 的输出目录（有 poem.pt 与 state.pt）")
    args = p.parse_args(argv)
    progress = torch.load(args.trained / "state.pt", weights_only=True)["progress"]
    model, vocab = torch_poems.load_checkpoint(args.trained / "poem.pt")
    data = process_dataset()
    if vocab.id2word[:len(data.vocab)] != data.vocab.id2word:
        raise SystemExit("这个模型的词表不是唐诗训练集的词表（加上分隔符）：不能与第 6、7 章比 (vocabulary differs)")
    valid, test = (math.exp(torch_poems.evaluate(model, seqs)) for seqs in (data.valid, data.test))
    base = progress.get("init")
    if base:  # 起点的记录要在 models/poet.json 被覆盖之前读
        record = POET.with_suffix(".json")
        previous = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
        base = previous if previous.get("sha256") == base["sha256"] else base
    shutil.copyfile(args.trained / "poem.pt", POET)
    song = "--song" in progress["command"].split()
    facts = dict(checkpoint=POET.name, sha256=provenance.sha256(POET), made_by=progress["command"],
                 code=progress["code"], started=progress["started"], finished=provenance.utc_now(),
                 machine=progress["machine"], steps=progress["step"],
                 training_minutes=round(progress["train_seconds"] / 60, 1),
                 tokens_per_second=round(progress["tokens"] / progress["train_seconds"]),
                 model={k: v for k, v in model.config.items() if k != "vocab_size"}, vocab_size=len(vocab),
                 data={POEMS_PATH.relative_to(REPO_ROOT).as_posix(): provenance.sha256(POEMS_PATH),
                       **({".cache/poems_song.txt": provenance.sha256(SONG_POEMS_PATH)} if song else {})},
                 evals=progress["evals"], valid_perplexity=round(valid, 2), test_perplexity=round(test, 2),
                 **({"fine_tuned_from": base} if base else {}))
    POET.with_suffix(".json").write_text(json.dumps(facts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"models/{POET.name}：验证集困惑度 {valid:.1f}，测试集 {test:.1f}；记录在 models/poet.json")


if __name__ == "__main__":
    main()
