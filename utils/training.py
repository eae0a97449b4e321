"""训练循环本身，两个框架共用：计步、计时、记损失、定期求验证集困惑度、留下最好的权重、停在该停的地方。

第 6 章（utils.tf_poems.train）、第 7 章（utils.torch_poems.train）和基准（scripts/bench_common.py 的 race）只准备
各自框架的“训练一批”“求验证集困惑度”“存取权重”，交给这里的 run_training；循环只写这一次，两章不会各走各的。
"""
from __future__ import annotations

import math
import time

import numpy as np


def run_training(train_batch, batches, total_steps: int | None, *, steps_per_epoch: int,
                 evaluate=None, eval_every: int | None = None, eval_every_seconds: float | None = None,
                 snapshot=None, restore=None, stop_when=None, after_step=None, max_seconds: float | None = None,
                 max_train_seconds: float | None = None, progress: bool = True, log_every: int = 10) -> dict:
    """训练到 total_steps 步（None：不限步数），或时间用完，或 stop_when 说停。

    train_batch(batch) -> (这一批的平均损失, 这一批的字数)：训练一步；batches 每遍历一次是一遍训练数据。
    evaluate() -> 验证集困惑度：每 eval_every 步（或每训练 eval_every_seconds 秒）和最后一步各求一次；
    stop_when(困惑度) 为真时就此停下（基准用它：第一次胜过基线即停）。
    snapshot() -> 权重的副本、restore(副本)：记下验证集上最好的权重，训练完换回它。
    after_step(第几步, 这一步的损失, history)：每步之后（求值之前）调用，用时不算训练时间（数据并行训练用它记日志、存续训文件）。
    max_seconds 限制整个调用的墙钟时间（含求值），max_train_seconds 只限制训练时间。

    返回 history：每 log_every 步的平均训练损失（step、loss），各次求值的步数、困惑度、当时的训练时间与字数
    （eval_step、valid_ppl、eval_train_seconds、eval_tokens），总字数与用时。用时分三项：
    seconds 是整个调用的墙钟时间；train_seconds 是逐步累加的训练时间（取一批、前向、反向、更新），
    eval_seconds 是求验证困惑度（和保存最好的权重）的时间，最后一步之后的收尾两者都不算；
    first_step_seconds 是第一步的用时（含追踪、预热）。“字/秒”用 tokens / train_seconds。
    """
    from tqdm import tqdm  # 文本进度条：提交的笔记本在 GitHub 上显示最后的状态（小部件版只显示 0%）

    if evaluate is not None and eval_every is None and eval_every_seconds is None:
        eval_every = steps_per_epoch
    history = dict(step=[], loss=[], eval_step=[], valid_ppl=[], eval_train_seconds=[], eval_tokens=[],
                   tokens=0, seconds=0.0, train_seconds=0.0, eval_seconds=0.0, first_step_seconds=0.0)
    best_ppl, best_weights = math.inf, None
    step, window, stopped = 0, [], False
    next_eval = eval_every_seconds
    start = resumed = time.perf_counter()  # resumed：上一步训练或验证结束的时刻
    bar = tqdm(total=total_steps, disable=not progress, mininterval=10, unit="步")
    while not stopped and (total_steps is None or step < total_steps):
        for batch in batches:
            loss, tokens = train_batch(batch)
            window.append(loss)
            history["tokens"] += tokens
            step += 1
            now = time.perf_counter()
            history["train_seconds"] += now - resumed
            resumed = now
            if step == 1:
                history["first_step_seconds"] = now - start
            bar.update()
            out_of_time = ((max_seconds is not None and now - start > max_seconds)
                           or (max_train_seconds is not None and history["train_seconds"] >= max_train_seconds))
            done = (total_steps is not None and step >= total_steps) or out_of_time
            if after_step is not None:
                after_step(step, loss, history)
                resumed = time.perf_counter()
            if step % log_every == 0 or done:
                history["step"].append(step)
                history["loss"].append(float(np.mean(window)))
                bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", refresh=False)
                window = []
            due = (step % eval_every == 0) if eval_every else history["train_seconds"] >= (next_eval or math.inf)
            if evaluate is not None and (due or done):
                eval_start = time.perf_counter()  # 验证单独计时，不算进训练速度
                ppl = evaluate()
                history["eval_step"].append(step)
                history["valid_ppl"].append(ppl)
                history["eval_train_seconds"].append(history["train_seconds"])
                history["eval_tokens"].append(history["tokens"])
                bar.write(f"第 {step} 步（第 {step / steps_per_epoch:.2f} 遍）验证集困惑度 {ppl:.1f}")
                if snapshot is not None and ppl < best_ppl:
                    best_ppl, best_weights = ppl, snapshot()
                if eval_every_seconds is not None:
                    next_eval = history["train_seconds"] + eval_every_seconds
                stopped = stop_when is not None and stop_when(ppl)
                resumed = time.perf_counter()
                history["eval_seconds"] += resumed - eval_start
            if out_of_time:
                bar.write(f"已到时间上限，在第 {step} 步停止")
            if done or stopped:
                stopped = True
                break
    bar.close()
    history["seconds"] = time.perf_counter() - start
    if best_weights is not None:
        restore(best_weights)
    return history


def planned_steps(epochs: int | None, max_steps: int | None, steps_per_epoch: int) -> int:
    """epochs 遍与 max_steps 步取先到者；都不给时训练 1 遍。"""
    if max_steps is None:
        return (epochs or 1) * steps_per_epoch
    return min(max_steps, epochs * steps_per_epoch) if epochs else max_steps
