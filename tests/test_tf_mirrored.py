"""scripts/train_tf_mirrored.py：MirroredStrategy（两个逻辑 CPU 设备）训练出的参数与第 6 章单设备的训练步相同。"""
import json
import subprocess
import sys

from utils.settings import REPO_ROOT

SMALL = ["--replicas", "2", "--steps", "5", "--limit", "48", "--batch-size", "8", "--max-len", "40"]


def run(*extra):
    out = subprocess.run([sys.executable, "-m", "scripts.train_tf_mirrored", *SMALL, *extra], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_replicas_train_the_same_model_as_the_chapter_06_step():
    r = run()
    assert r["replicas"] == 2 and len(r["devices"]) == 2
    assert r["steps"] == 5
    assert r["max_relative_difference"] < 1e-5
    for a, b in zip(r["single_losses"], r["mirrored_losses"]):
        assert abs(a - b) <= 1e-5 * abs(a)
    assert r["single_losses"][-1] < r["single_losses"][0] - 0.5   # 确实训练了


def test_leaving_clipping_to_the_keras_optimizer_clips_each_replica_separately():
    """对照：Keras 3 的优化器先各副本裁剪再相加，与单设备的结果不同（上一个测试的比较能发现差别）。"""
    r = run("--keras-clipping")
    assert r["max_relative_difference"] > 1e-3
