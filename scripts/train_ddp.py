"""数据并行训练第 7 章的写诗模型（PyTorch DistributedDataParallel）。

    torchrun --nproc_per_node=2 scripts/train_ddp.py --steps 2100          # 一台机器 2 个进程（make train-ddp NPROC=2）
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d \\
             --rdzv-endpoint=主机:29500 scripts/train_ddp.py --steps 2100   # 两台机器各 8 块 GPU

代码不随进程数改变：
- 每一步的“全局批”与单进程训练完全相同（utils.data.iterate_batches，批大小 --batch-size），
  第 r 个进程只算其中的第 r、r+N、r+2N… 首诗；
- 损失 = 本进程的逐字损失之和 × N ÷ 全局批的字数。DDP 反向时把各进程的梯度取平均（÷N），
  得到的正好是全局批平均损失的梯度；学习率、余弦退火的步数、每步的字数都与 N 无关；
- CPU 上用 gloo 通信，有 CUDA 时用 NCCL，每个进程一块 GPU。

可续训、能容错：每隔 --save-every 秒（及训练结束时）由 0 号进程把模型、优化器、学习率进度、
数据位置和随机状态写进 --state（先写临时文件再改名，写到一半被杀也不会坏）。启动时有这个文件就从它接着训练，
所以 torchrun --max-restarts=K 在某个进程死掉后重启全部进程，训练从上一个检查点接着走。
训练完 0 号进程把模型存成第 7 章的检查点格式（--checkpoint，make poem --checkpoint 能直接读）。
每个进程的日志写到 --log-dir/rank<r>.log；Ctrl-C 时各进程退出进程组后再结束。
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils import torch_poems  # noqa: E402
from utils.data import iterate_batches, process_dataset  # noqa: E402
from utils.settings import CACHE_DIR  # noqa: E402

# 第 7 章的模型与训练设置
MODEL = dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2, tie_embeddings=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="数据并行训练第 7 章的写诗模型（用 torchrun 启动）")
    p.add_argument("--steps", type=int, default=2100, help="训练步数（全局批的个数）")
    p.add_argument("--batch-size", type=int, default=64, help="全局批大小（所有进程合起来）")
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--max-len", type=int, default=200)
    p.add_argument("--limit", type=int, help="只用训练集的前 limit 首（测试用）")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-every", type=float, default=300.0, help="每隔多少秒存一次续训状态")
    p.add_argument("--save-every-steps", type=int, help="每隔多少步存一次续训状态（测试用）")
    p.add_argument("--state", type=Path, default=CACHE_DIR / "ddp" / "state.pt", help="续训状态文件")
    p.add_argument("--checkpoint", type=Path, default=CACHE_DIR / "ddp" / "poem_torch_lstm.pt",
                   help="训练完保存的第 7 章格式检查点")
    p.add_argument("--log-dir", type=Path, default=CACHE_DIR / "ddp" / "logs")
    return p.parse_args(argv)


def setup() -> tuple[int, int, torch.device]:
    """加入进程组，返回 (本进程编号, 进程数, 设备)。torchrun 通过环境变量告诉每个进程它是谁。"""
    cuda = torch.cuda.is_available()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    # 进程组的地址表放在 torchrun 的存储里。重启后旧进程留下的地址还在：按重启次数加前缀，
    # 否则新进程会去连已经死掉的旧进程（Connection refused）
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
                          is_master=False, timeout=timedelta(minutes=5))
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    dist.init_process_group("nccl" if cuda else "gloo", store=dist.PrefixStore(f"attempt{attempt}", store),
                            rank=rank, world_size=world, timeout=timedelta(minutes=5))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local_rank)
        return rank, world, torch.device("cuda", local_rank)
    # 同一台机器上的几个进程分用 CPU 核：每个进程的线程数 = 核数 ÷ 本机进程数（至少 1）
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    return rank, world, torch.device("cpu")


def global_batches(seqs, batch_size: int, epoch: int):
    """第 epoch 遍的全局批（与单进程训练相同）：[(ids, lengths), …]。"""
    return list(iterate_batches(seqs, batch_size, shuffle=True, seed=epoch))


class BatchLoss(torch.nn.Module):
    """把第 7 章的 model_loss 包成一个模块：DDP 只在经过它的 forward 时安排梯度的全归约。"""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, labels, n):
        return torch_poems.model_loss(self.model, inputs, labels, n)[0]


def local_loss(ddp, ids, lengths, rank: int, world: int, device):
    """本进程分到的那几行的损失，按全局批的字数缩放（见模块说明）。

    全局批的行数少于进程数时，没分到行的进程拿第 0 行算一遍、乘 0：它照样参加梯度的全归约，贡献为 0。
    """
    ids, lengths = torch.from_numpy(ids).long(), torch.from_numpy(lengths).long()
    total_tokens = int((lengths - 1).sum())
    rows, weight = list(range(rank, len(ids), world)), world / total_tokens
    if not rows:
        rows, weight = [0], 0.0
    inputs, labels, n = torch_poems.split_inputs(ids[rows].to(device), lengths[rows].to(device))
    return ddp(inputs, labels, n) * n.sum() * weight


def save_atomic(obj, path: Path) -> None:
    """先写临时文件再改名：改名是原子的，写到一半被杀，留下的仍是上一个完整的文件。"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(args) -> dict:
    rank, world, device = setup()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log = open(args.log_dir / f"rank{rank}.log", "a", encoding="utf-8")

    def say(message):
        print(f"[rank {rank}/{world} pid {os.getpid()}] {message}", file=log, flush=True)

    data = process_dataset()
    seqs = [s[:args.max_len] for s in data.train[:args.limit]]
    torch.manual_seed(args.seed)  # 各进程同样初始化（DDP 也会把 0 号进程的参数广播给其余进程）
    model = torch_poems.build_model(len(data.vocab), device=device, **MODEL)
    ddp = DistributedDataParallel(BatchLoss(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=1e-7)
    schedule = torch_poems.cosine_schedule(optimizer, args.steps)
    progress = dict(step=0, epoch=0, batch=0, losses=[])
    if args.state.exists():  # 续训：所有进程读同一个文件
        saved = torch.load(args.state, map_location=device, weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        progress = saved["progress"]
        torch.set_rng_state(saved["rng"])
        say(f"从第 {progress['step']} 步接着训练")

    def save_state():
        if rank == 0:
            save_atomic(dict(model=model.state_dict(), optimizer=optimizer.state_dict(),
                             schedule=schedule.state_dict(), progress=progress,
                             rng=torch.get_rng_state()), args.state)

    last_save, start = time.monotonic(), time.monotonic()
    while progress["step"] < args.steps:
        batches = global_batches(seqs, args.batch_size, progress["epoch"])
        while progress["batch"] < len(batches) and progress["step"] < args.steps:
            loss = local_loss(ddp, *batches[progress["batch"]], rank, world, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP 在这里把各进程的梯度全归约（取平均）
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            total = loss.detach().clone()
            dist.all_reduce(total)  # 全局批的平均损失 × N，只用来记日志
            progress["losses"].append(float(total) / world)
            progress["step"] += 1
            progress["batch"] += 1
            say(f"第 {progress['step']} 步 损失 {progress['losses'][-1]:.4f}")
            every_steps = args.save_every_steps and progress["step"] % args.save_every_steps == 0
            if every_steps or time.monotonic() - last_save > args.save_every:
                save_state()
                last_save = time.monotonic()
        if progress["batch"] >= len(batches):
            progress["epoch"], progress["batch"] = progress["epoch"] + 1, 0
    save_state()
    if rank == 0:
        torch_poems.save_checkpoint(model, data.vocab, args.checkpoint)
        say(f"完成 {progress['step']} 步，用时 {time.monotonic() - start:.1f} 秒，检查点 {args.checkpoint.name}")
    dist.barrier()
    return progress


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        progress = train(args)
    except KeyboardInterrupt:  # Ctrl-C：退出进程组，不留下挂起的进程
        print("已中断 (interrupted)", file=sys.stderr)
        return 130
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps(dict(steps=progress["step"], final_loss=progress["losses"][-1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
