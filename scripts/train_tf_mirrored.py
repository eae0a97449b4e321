"""tf.distribute 的数据并行：MirroredStrategy 把第 6 章的模型复制到几个设备上，每一步分摊同一个全局批。

    python -m scripts.train_tf_mirrored --replicas 2 --steps 5 --limit 48 --batch-size 8 --max-len 40   # 在仓库根目录运行

有几块 GPU 时用 --replicas 0（全部 GPU）；没有 GPU 时把一个 CPU 切成 --replicas 个“逻辑设备”来演示。
脚本先用 MirroredStrategy 训练 --steps 步，再在同一个进程里用第 6 章自己的训练步（tf_poems.make_train_step，
单个设备、整批）从同样的初始权重、按同样的全局批训练同样的步数，最后打印一行 JSON：两边每一步的损失，
以及每个参数的差的范数相对于参数范数的最大值。

与 scripts/train_ddp.py 的做法相同：第 r 个副本只算全局批的第 r、r+N、… 首诗，损失 = 本副本的逐字损失之和 ÷
全局批的字数，各副本的梯度相加正好是全局批平均损失的梯度。

一个要当心的地方：Keras 3 的优化器在 tf.distribute 下先在各副本上按 global_clipnorm 裁剪、再把梯度相加，
裁剪用的是每个副本自己的梯度范数，与单进程不同。所以这里关掉优化器的裁剪，先自己全归约（相加）、
按全局范数裁剪，再把每个副本的梯度除以 N 交给优化器——它再相加一次，得到的正是裁剪后的全局梯度。
"""
from __future__ import annotations

import argparse
import json
import sys

from utils.course_models import TRAIN  # （批大小、学习率、最长字数与第 6 章相同；不导入 TensorFlow）
from utils.settings import configure_allocator, import_tensorflow

CLIPNORM = 5.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="MirroredStrategy 训练第 6 章的模型，并与单设备训练比较")
    p.add_argument("--replicas", type=int, default=2, help="副本数；0 表示用全部 GPU")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=TRAIN["batch_size"], help="全局批大小（所有副本合起来）")
    p.add_argument("--learning-rate", type=float, default=TRAIN["learning_rate"])
    p.add_argument("--max-len", type=int, default=TRAIN["max_len"])
    p.add_argument("--limit", type=int, help="只用训练集的前 limit 首")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keras-clipping", action="store_true",
                   help="对照：把裁剪交给优化器（global_clipnorm，各副本分别裁剪），不自己全归约")
    return p.parse_args(argv)


def make_strategy(tf, replicas: int):
    """replicas 个副本的 MirroredStrategy。必须在 TensorFlow 做任何计算之前调用（要先切分逻辑设备）。"""
    gpus = tf.config.list_physical_devices("GPU")
    if replicas == 0:
        return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(len(gpus))])
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(replicas)])


def make_mirrored_step(tf, strategy, model, optimizer, keras_clipping: bool = False):
    """返回 train_step(ids, lengths) -> 全局批的平均损失；ids、lengths 是整个全局批（NumPy）。

    keras_clipping=True 是对照：梯度直接交给带 global_clipnorm 的优化器（它先各自裁剪、再相加）。
    """
    from utils import tf_poems

    replicas = strategy.num_replicas_in_sync

    def replica_step(ids, lengths, total_tokens):
        inputs, labels, n = tf_poems.split_inputs(ids, lengths)
        with tf.GradientTape() as tape:
            h, _ = model.features(inputs, training=True)
            per_token = model.token_nll(h, labels)
            mask = tf.sequence_mask(n, tf.shape(per_token)[1], per_token.dtype)
            loss = tf.reduce_sum(per_token * mask) / total_tokens  # 本副本的损失之和 ÷ 全局批的字数
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]  # 嵌入的梯度转成稠密
        if keras_clipping:
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        grads = tf.distribute.get_replica_context().all_reduce("sum", grads)  # 全局批平均损失的梯度
        grads, _ = tf.clip_by_global_norm(grads, CLIPNORM)
        optimizer.apply_gradients(zip([g / replicas for g in grads], model.trainable_variables))
        return loss

    @tf.function(reduce_retracing=True)
    def run(ids, lengths, total_tokens):
        per_replica = strategy.run(replica_step, args=(ids, lengths, total_tokens))
        return strategy.reduce("sum", per_replica, axis=None)

    def train_step(ids, lengths):
        total_tokens = float((lengths - 1).sum())
        parts = strategy.experimental_distribute_values_from_function(
            lambda ctx: (tf.constant(ids[ctx.replica_id_in_sync_group::replicas], tf.int32),
                         tf.constant(lengths[ctx.replica_id_in_sync_group::replicas], tf.int32)))
        return run(*parts, tf.constant(total_tokens))

    return train_step


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_allocator()
    import numpy as np

    tf = import_tensorflow()

    strategy = make_strategy(tf, args.replicas)  # 在任何计算之前

    import keras

    from utils import tf_poems
    from utils.course_models import MODEL
    from utils.data import iterate_batches, process_dataset
    from utils.settings import seed_everything

    data = process_dataset()
    seqs = [s[:args.max_len] for s in data.train[:args.limit]]
    batches = [b for epoch in range(args.steps) for b in iterate_batches(seqs, args.batch_size, seed=epoch)]
    batches = batches[:args.steps]

    seed_everything(args.seed)
    single = tf_poems.build_model(len(data.vocab), **MODEL)
    start_weights = single.get_weights()
    with strategy.scope():
        mirrored = tf_poems.build_model(len(data.vocab), **MODEL)
        mirrored.set_weights(start_weights)
        optimizer = keras.optimizers.Adam(args.learning_rate, global_clipnorm=CLIPNORM if args.keras_clipping else None)
        optimizer.build(mirrored.trainable_variables)
    mirrored_step = make_mirrored_step(tf, strategy, mirrored, optimizer, args.keras_clipping)
    mirrored_losses = [float(mirrored_step(ids, lengths)) for ids, lengths in batches]

    # 对照：第 6 章的训练步，单个设备、整批
    single_step = tf_poems.make_train_step(single, keras.optimizers.Adam(args.learning_rate, global_clipnorm=CLIPNORM))
    single_losses = [float(single_step(tf.constant(ids, tf.int32), tf.constant(lengths, tf.int32))) for ids, lengths in batches]

    differences = [float(np.linalg.norm(a - b) / (np.linalg.norm(a) + 1e-12))
                   for a, b in zip(single.get_weights(), mirrored.get_weights())]
    print(json.dumps(dict(replicas=strategy.num_replicas_in_sync, devices=list(strategy.extended.worker_devices),
                          steps=len(batches), single_losses=single_losses, mirrored_losses=mirrored_losses,
                          max_relative_difference=max(differences))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
