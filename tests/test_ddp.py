"""scripts/train_ddp.py：两个 gloo 进程训练出的参数与单进程相同；杀掉一个进程后从检查点接着训练，结果不变。

不用 torchrun 的部分（选后端、续训状态的存取、测速的判定）在 tests/test_ddp_logic.py。"""
import os
import signal
import time

import pytest
import torch

from scripts import bench_ddp  # 拼 torchrun 命令的 launch、等它结束的 wait
from utils import provenance

SMALL = ["--limit", "48", "--batch-size", "8", "--max-len", "40", "--device", "cpu"]


def torchrun(tmp, nproc, steps, *extra, restarts=0):
    """用 torchrun 在本机启动 nproc 个进程；返回 Popen（调用方等它结束）。"""
    return bench_ddp.launch(nproc, "--steps", str(steps), *SMALL, *extra, workdir=tmp, restarts=restarts)


def finish(proc, timeout=300):
    return bench_ddp.wait(proc, timeout=timeout)


def final_state(tmp):
    return torch.load(tmp / "state.pt", weights_only=True)


def assert_same_model(a, b):
    """逐个参数比较，容差按 float32 定：两边的梯度只差求和顺序（约 1e-7 的相对误差）。

    Adam 第一步的更新是 lr·g/(|g|+eps)：净梯度因正负抵消而接近 eps 的少数元素，更新对这点误差很敏感，
    能差到 1e-4 量级（13 万个元素里约 10 个）。所以比较每个参数的差的范数，而不是每个元素。
    """
    for name, x in a["model"].items():
        difference = float((x - b["model"][name]).norm())
        assert difference <= 1e-4 * float(x.norm()) + 1e-6, (name, difference, float(x.norm()))


def test_two_processes_train_the_same_model_as_one(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    finish(torchrun(one, 1, 5))
    finish(torchrun(two, 2, 5))
    a, b = final_state(one), final_state(two)
    assert a["progress"]["step"] == b["progress"]["step"] == 5
    assert len(a["rng"]) == 1 and len(b["rng"]) == 2   # 每个进程的随机状态各存一份
    assert_same_model(a, b)
    torch.testing.assert_close(torch.tensor(a["progress"]["losses"]), torch.tensor(b["progress"]["losses"]),
                               rtol=1e-5, atol=1e-6)
    # 训练确实改动了参数（否则“相同”说明不了什么）
    from utils import torch_poems

    model, _ = torch_poems.load_checkpoint(two / "poem.pt", device=torch.device("cpu"))
    assert a["progress"]["losses"][-1] < a["progress"]["losses"][0]
    assert model.config["vocab_size"] > 5000


def test_a_killed_worker_is_restarted_and_training_resumes_from_the_checkpoint(tmp_path):
    steps = 12
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    finish(torchrun(clean, 2, steps, "--save-every-steps", "3"))
    proc = torchrun(killed, 2, steps, "--save-every-steps", "3", restarts=1)
    log = killed / "logs" / "rank1.log"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # 等 1 号进程走到第 5 步（已存过第 3 步的检查点），然后杀掉它
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        if any("第 5 步" in line for line in lines):
            pid = int(lines[-1].split("pid ")[1].split("]")[0])
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("1 号进程没有走到第 5 步")
    finish(proc)
    text = log.read_text(encoding="utf-8")
    assert "从第 3 步接着训练" in text or "从第 6 步接着训练" in text, text[-2000:]
    a, b = final_state(clean), final_state(killed)
    assert b["progress"]["step"] == steps and len(b["rng"]) == 2
    assert_same_model(a, b)
    assert a["progress"]["losses"][-1] == pytest.approx(b["progress"]["losses"][-1], rel=1e-5)


def test_model_settings_and_a_time_limit_reach_the_single_process_run(tmp_path):
    """--model 改模型的设置（第 12 章的大模型这样训练），--max-minutes 到时就停（没到 --steps 也停）。"""
    out = finish(torchrun(tmp_path, 1, 10_000, "--model", '{"hidden_dim": 24, "num_layers": 1}',
                          "--max-minutes", "0.05"))
    assert 0 < out["steps"] < 10_000 and out["train_seconds"] >= 3
    from utils import torch_poems

    model, _ = torch_poems.load_checkpoint(tmp_path / "poem.pt", device=torch.device("cpu"))
    assert model.config["hidden_dim"] == 24 and model.config["num_layers"] == 1


def test_init_starts_from_another_checkpoints_weights_and_refuses_other_settings(tmp_path):
    """--init（微调）：学习率为 0 时训练一步，存下的权重就是起点的权重；起点的 sha256 记进续训状态。
    模型设置与起点不同时不训练，说明哪里不同。"""
    small = ["--model", '{"hidden_dim": 24, "num_layers": 1}']
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    finish(torchrun(base, 1, 2, *small))
    finish(torchrun(tuned, 1, 1, *small, "--init", str(base / "poem.pt"), "--learning-rate", "0"))
    start, after = final_state(base), final_state(tuned)
    assert_same_model(start, after)
    assert after["progress"]["init"]["sha256"] == provenance.sha256(base / "poem.pt")
    with pytest.raises(RuntimeError, match="模型设置"):
        finish(torchrun(tmp_path / "other", 1, 1, "--model", '{"hidden_dim": 16, "num_layers": 1}',
                        "--init", str(base / "poem.pt")))
