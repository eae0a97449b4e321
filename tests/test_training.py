"""utils/training.py：两个框架共用的训练循环（不用任何框架，只用假的“一步训练”检查记账）。"""
import time

import pytest

from utils.training import planned_steps, run_training


def fake_batches(n):
    """一遍 n 批；每批是 (这批的损失, 这批的字数)。"""
    return [(float(i), 10) for i in range(n)]


def test_it_stops_at_total_steps_and_keeps_the_books():
    h = run_training(lambda b: b, fake_batches(4), 10, steps_per_epoch=4, log_every=3, progress=False)
    assert h["step"] == [3, 6, 9, 10] and h["tokens"] == 100
    assert h["loss"][0] == pytest.approx((0 + 1 + 2) / 3)       # 每 log_every 步的平均损失
    assert h["train_seconds"] <= h["seconds"] and h["first_step_seconds"] <= h["seconds"]
    assert h["eval_step"] == []                                  # 没给 evaluate：不求值


def test_it_evaluates_every_epoch_by_default_and_restores_the_best_weights():
    ppls = iter([5.0, 3.0, 4.0])
    weights, restored = {"w": 0}, []

    def train_batch(batch):
        weights["w"] += 1
        return batch

    h = run_training(train_batch, fake_batches(2), 6, steps_per_epoch=2, evaluate=lambda: next(ppls),
                     snapshot=lambda: dict(weights), restore=restored.append, progress=False)
    assert h["eval_step"] == [2, 4, 6] and h["valid_ppl"] == [5.0, 3.0, 4.0]
    assert h["eval_tokens"] == [20, 40, 60]
    assert restored == [{"w": 4}], "训练完应换回验证集上最好的（第 4 步的）权重"


def test_stop_when_ends_training_at_the_first_evaluation_that_says_so():
    ppls = iter([9.0, 7.0, 5.0, 3.0])
    h = run_training(lambda b: b, fake_batches(3), None, steps_per_epoch=3, evaluate=lambda: next(ppls),
                     eval_every=2, stop_when=lambda ppl: ppl < 6, progress=False)
    assert h["eval_step"] == [2, 4, 6] and h["valid_ppl"][-1] == 5.0


def test_a_training_time_limit_stops_it_and_evaluates_the_last_step():

    def slow_step(batch):

        time.sleep(0.01)
        return batch

    h = run_training(slow_step, fake_batches(5), None, steps_per_epoch=5, evaluate=lambda: 1.0,
                     eval_every_seconds=0.025, max_train_seconds=0.1, progress=False)
    assert h["train_seconds"] >= 0.1 and h["eval_step"][-1] == h["step"][-1]
    assert 2 <= len(h["eval_step"]) <= 5, "按训练时间每 0.025 秒求值一次，最后一步再求一次"


def test_planned_steps():
    assert planned_steps(None, None, 7) == 7
    assert planned_steps(3, None, 7) == 21
    assert planned_steps(3, 10, 7) == 10 and planned_steps(1, 10, 7) == 7
    assert planned_steps(None, 10, 7) == 10
