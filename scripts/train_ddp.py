"""数据并行训练第 7 章的写诗模型（PyTorch DistributedDataParallel）。

在仓库根目录运行：
    torchrun --nproc_per_node=2 -m scripts.train_ddp                        # 一台机器 2 个进程（make train-ddp NPROC=2）
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d \\
             --rdzv-endpoint=主机:29500 -m scripts.train_ddp                 # 两台机器各 8 块 GPU

步数、批大小、学习率、最长字数和模型的默认值取自 utils.course_models（与第 6、7 章相同）；
--model '{"hidden_dim": 512, "num_layers": 1}' 改模型的设置，--song 把宋诗加进训练集，--conditions 在诗前面按比例
加上标题或关键词（utils.conditions：模型学会按题作诗）——第 12 章的大模型这样训练；再加 --title-state 时条件不当前缀、
而编码进初始状态（utils.title_state，只为与前缀的做法比较；检查点旁边另存 <检查点>.title_state.pt）；
--every-step --init 检查点：在训练好的模型上只训练每步读题的两层（utils.title_every_step，模型本身不动）；
再加 --train-all 时模型本身也一起训练。

代码不随进程数改变：
- 每一步的“全局批”与单进程训练完全相同（utils.data.iterate_batches，批大小 --batch-size），
  第 r 个进程只算其中的第 r、r+N、r+2N… 首诗；
- 损失 = 本进程的逐字损失之和 × N ÷ 全局批的字数（各进程的字数全归约加起来）。DDP 反向时把各进程的梯度取平均（÷N），
  得到的正好是全局批平均损失的梯度；学习率、余弦退火的步数、每步的字数都与 N 无关；
- 这台机器的 GPU 够每个进程一块时用 GPU 和 NCCL；GPU 比进程少（如只有 1 块 GPU 的 Colab 上启动 2 个进程）
  或 --device cpu 时，全部进程用 CPU 和 gloo（GPU 不够时打印一行说明），见 choose_backend。

可续训、能容错：每隔 --save-every 秒（及训练结束时）把模型、优化器、学习率进度、数据位置和
每个进程的随机状态（CPU 的，用 GPU 时还有 GPU 的）写进 --state（save_state：先写临时文件再改名，写到一半被杀也不会坏）。
启动时有这个文件就从它接着训练（load_state），所以 torchrun --max-restarts=K 在某个进程死掉后重启全部进程，
训练从上一个检查点接着走。
训练完 0 号进程把模型存成第 7 章的检查点格式（--checkpoint，make poem --checkpoint 能直接读）。
每个进程的日志写到 --log-dir/rank<r>.log；Ctrl-C 时各进程退出进程组后再结束。

--init 检查点：从这个检查点的权重开始训练（微调；词表与模型设置须与这次训练的相同，--model 要照它写），
学习率照常按余弦退火从 --learning-rate 降到 0；它的 sha256 记进续训状态（progress["init"]）。
--eval-every K --target-ppl P：每 K 步由 0 号进程求验证集困惑度，第一次低于 P 就停（scripts/bench_ddp.py 用它量“多久胜过 4-gram”）；
--bench-steps K --bench-rounds R：只测速（照常全归约与不全归约交替，各计时 R 次、每次 K 步），不存任何东西。
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shlex
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from utils import title_state, torch_poems
from utils.course_models import MODEL, STEPS, TRAIN  # （第 7 章的模型：自适应 softmax 的两层 LSTM）
from utils.conditions import KeywordExtractor, condition_vocab, separators, training_seqs
from utils.data import extra_training_poems, iterate_batches, load_poems, process_dataset, split_poems
from utils.poet import reversed_poem
from utils.provenance import code_version, machine, sha256, utc_now
from utils.settings import CACHE_DIR, SONG_POEMS_PATH, configure_allocator
from utils.title_every_step import TitleEveryStep
from utils.title_state import TitleState
from utils.training import run_training

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="数据并行训练第 7 章的写诗模型（用 torchrun 启动）")
    p.add_argument("--steps", type=int, default=STEPS["torch"], help="训练步数（全局批的个数）")
    p.add_argument("--batch-size", type=int, default=TRAIN["batch_size"], help="全局批大小（所有进程合起来）")
    p.add_argument("--learning-rate", type=float, default=TRAIN["learning_rate"])
    p.add_argument("--max-len", type=int, default=TRAIN["max_len"])
    p.add_argument("--device", choices=["auto", "cpu"], default="auto",
                   help="auto：GPU 够每个进程一块就用 GPU 和 NCCL，否则用 CPU 和 gloo；cpu：总用 CPU 和 gloo")
    p.add_argument("--limit", type=int, help="只用训练集（与宋诗）的前 limit 首（测试用）")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", type=json.loads, default={},
                   help='改动第 7 章模型的设置（JSON），如 \'{"hidden_dim": 512, "num_layers": 1, "dropout": 0.1}\'')
    p.add_argument("--song", action="store_true",
                   help="把宋诗加进训练集（先运行 python -m scripts.build_poems --song；验证、测试仍是唐诗）")
    p.add_argument("--tang-repeats", type=int, default=1,
                   help="与宋诗一起训练时唐诗算几遍（默认 1；宋诗是唐诗的 4.4 倍，重复唐诗让训练集更像唐诗）")
    p.add_argument("--conditions", action="store_true",
                   help="每首训练的诗前面按比例加上标题或关键词（utils.conditions），模型学会按题作诗")
    p.add_argument("--title-state", action="store_true",
                   help="与 --conditions 一起用：条件编码进 LSTM 的初始状态，而不是当作前缀（utils.title_state，比较用）")
    p.add_argument("--init", type=Path, help="从这个检查点的权重开始训练（微调）")
    p.add_argument("--every-step", action="store_true",
                   help="与 --conditions、--init 一起用：模型不动，只训练每步读题的两个线性层（utils.title_every_step）")
    p.add_argument("--train-all", action="store_true",
                   help="与 --every-step 一起用：模型本身也一起训练，而不只是那两层")
    p.add_argument("--reverse", action="store_true",
                   help="每首诗倒过来训练（从右往左读的模型，第 12 章给候选重排用；验证集也倒过来求困惑度）")
    p.add_argument("--max-minutes", type=float, help="训练时间（分钟，续训时累计）到了就停，即使没到 --steps")
    p.add_argument("--save-every", type=float, default=300.0, help="每隔多少秒存一次续训状态")
    p.add_argument("--save-every-steps", type=int, help="每隔多少步存一次续训状态（测试用）")
    p.add_argument("--state", type=Path, default=CACHE_DIR / "ddp" / "state.pt", help="续训状态文件")
    p.add_argument("--checkpoint", type=Path, default=CACHE_DIR / "ddp" / "poem_torch_lstm.pt",
                   help="训练完保存的第 7 章格式检查点")
    p.add_argument("--log-dir", type=Path, default=CACHE_DIR / "ddp" / "logs")
    p.add_argument("--eval-every", type=int, help="每隔多少步由 0 号进程求一次验证集困惑度（求值时间不计入训练时间）")
    p.add_argument("--target-ppl", type=float, help="验证集困惑度第一次低于它就停止训练")
    p.add_argument("--bench-steps", type=int,
                   help="测速：先热身，再用同样这么多个全局批交替计时照常全归约与不做梯度全归约（no_sync），打印后退出")
    p.add_argument("--bench-rounds", type=int, default=2, help="测速时两种做法各计时几次（交替进行）")
    return p.parse_args(argv)


def choose_backend(local_processes: int, gpus: int, device: str = "auto") -> tuple[str, str | None]:
    """选通信后端：返回 ("nccl" 或 "gloo", 要告诉用户的一行话或 None)。

    NCCL 要每个进程独占一块 GPU。这台机器上的进程不多于 GPU 时用 GPU 和 NCCL；GPU 不够时（例如只有
    1 块 GPU 的 Colab 上启动了 2 个进程）全部进程改用 CPU 和 gloo，并说明原因——否则多出来的进程没有 GPU，一启动就失败。
    几台机器一起训练时，每台机器的 GPU 数与进程数要一样配，否则各台选的后端不同，进程组建不起来。
    """
    if device == "cpu" or gpus == 0:
        return "gloo", None
    if local_processes <= gpus:
        return "nccl", None
    return "gloo", (f"这台机器只有 {gpus} 块 GPU，却启动了 {local_processes} 个进程：全部改用 CPU 和 gloo"
                    f"（要用 GPU，让 --nproc_per_node 不超过 {gpus}）")


def setup(device: str = "auto") -> tuple[int, int, torch.device]:
    """加入进程组，返回 (本进程编号, 进程数, 设备)。torchrun 通过环境变量告诉每个进程它是谁。"""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    backend, message = choose_backend(local_world, gpus, device)
    if message and local_rank == 0:
        print(message, file=sys.stderr, flush=True)
    # 进程组的地址表放在 torchrun 的存储里。重启后旧进程留下的地址还在：按重启次数加前缀，
    # 否则新进程会去连已经死掉的旧进程（Connection refused）
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world,
                          is_master=False, timeout=timedelta(minutes=5))
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    dist.init_process_group(backend, store=dist.PrefixStore(f"attempt{attempt}", store),
                            rank=rank, world_size=world, timeout=timedelta(minutes=5))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        return rank, world, torch.device("cuda", local_rank)
    # 同一台机器上的几个进程分用 CPU 核：每个进程的线程数 = 核数 ÷ 这台机器上的进程数（至少 1）
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    return rank, world, torch.device("cpu")


def check_song_corpus() -> None:
    """宋诗语料在不在、是不是 data/README.md 记录的那一份（不是就说怎么重建）。"""
    from scripts.build_poems import SONG_SHA256
    from utils.provenance import sha256

    rebuild = "运行 python -m scripts.build_poems --song 重建 (rebuild it with python -m scripts.build_poems --song)"
    if not SONG_POEMS_PATH.exists():
        raise SystemExit(f"没有宋诗语料 {SONG_POEMS_PATH}：{rebuild}")
    if sha256(SONG_POEMS_PATH) != SONG_SHA256:
        raise SystemExit(f"{SONG_POEMS_PATH} 与 data/README.md 记录的 sha256 不同：{rebuild}")


def global_batches(seqs, batch_size: int, epoch: int):
    """第 epoch 遍的全局批（与单进程训练相同）：[(ids, lengths), …]。"""
    return list(iterate_batches(seqs, batch_size, shuffle=True, seed=epoch))


class ResumableEpochs:
    """每遍历一次是一遍全局批，从 progress 记下的位置（第 epoch 遍的第 batch 批）接着给出；位置随之前进，
    所以任何时候存下的 progress 都指着下一批。"""

    def __init__(self, seqs, batch_size: int, progress: dict):
        self.seqs, self.batch_size, self.progress = seqs, batch_size, progress

    def __iter__(self):
        p = self.progress
        batches = global_batches(self.seqs, self.batch_size, p["epoch"])
        while p["batch"] < len(batches):
            p["batch"] += 1
            yield batches[p["batch"] - 1]
        p["epoch"], p["batch"] = p["epoch"] + 1, 0


class BatchLoss(torch.nn.Module):
    """把第 7 章的模型（或 utils.title_state.TitleState）在几行诗上的损失包成一个模块：DDP 只在经过它的 forward 时
    安排梯度的全归约。"""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, lengths):
        """这几行的逐字负对数似然之和，与目标字数。"""
        if isinstance(self.model, TitleState):
            nll, n = self.model.content_nll(ids, lengths)
        else:
            inputs, labels, n = torch_poems.split_inputs(ids, lengths)
            nll = self.model.token_nll(self.model.features(inputs)[0], labels)
        mask = torch.arange(nll.shape[1], device=nll.device)[None, :] < n[:, None]
        # 自适应 softmax 只算本进程的字所在的簇：这一步本进程没有某一簇的字，那一簇的参数就不在计算图里，
        # 而 DDP 要每个进程每一步都给每个参数一个梯度。加上 0 × 全部参数之和：损失不变，没用到的参数得到 0 梯度。
        return (nll * mask).sum() + 0.0 * sum(p.sum() for p in self.model.parameters()), n.sum()


def local_loss(ddp, ids, lengths, rank: int, world: int, device):
    """本进程分到的那几行的损失，按全局批的字数缩放（见模块说明）。

    全局批的行数少于进程数时，没分到行的进程拿第 0 行算一遍、乘 0：它照样参加梯度的全归约，贡献为 0。
    """
    ids, lengths = torch.from_numpy(ids).long(), torch.from_numpy(lengths).long()
    rows, used = list(range(rank, len(ids), world)), 1.0
    if not rows:
        rows, used = [0], 0.0
    nll_sum, count = ddp(ids[rows].to(device), lengths[rows].to(device))
    total = (count * used).detach().float()
    if world > 1:
        dist.all_reduce(total)  # 全局批的目标字数
    return nll_sum * used * world / total


def save_atomic(obj, path: Path) -> None:
    """先写临时文件再改名：改名是原子的，写到一半被杀，留下的仍是上一个完整的文件。"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def rng_state(device: torch.device) -> dict:
    """本进程的随机状态：CPU 的，用 GPU 时再加上这块 GPU 的。"""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def save_state(path: Path, model, optimizer, schedule, progress: dict, device: torch.device) -> None:
    """所有进程一起调用：收齐每个进程的随机状态，由 0 号进程把续训需要的一切原子地写进 path。

    模型和优化器在各进程上相同（第 10 章第 3 节），存一份就够；随机状态各进程不同，每个进程一份。
    （第 7 章的模型没有 dropout，训练时不抽随机数；--model 加了 dropout 就要抽：存下它，续训时接着原来的随机数往下抽。）
    """
    rngs = [None] * dist.get_world_size()
    dist.all_gather_object(rngs, rng_state(device))
    if dist.get_rank() == 0:
        save_atomic(dict(model=model.state_dict(), optimizer=optimizer.state_dict(),
                         schedule=schedule.state_dict(), progress=progress, rng=rngs), path)


def load_state(path: Path, model, optimizer, schedule, device: torch.device) -> dict | None:
    """有续训文件就读回（所有进程读同一个文件），返回训练进度；没有就返回 None。

    每个进程取回自己的随机状态。进程数变了也能续训（全局批与进程数无关），只是随机状态对不上号，就不恢复。
    """
    if not path.exists():
        return None
    saved = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    schedule.load_state_dict(saved["schedule"])
    if len(saved["rng"]) == dist.get_world_size():
        mine = saved["rng"][dist.get_rank()]
        torch.set_rng_state(mine["cpu"].cpu())  # map_location 会把它搬到 GPU 上；随机状态要在 CPU 上
        if "cuda" in mine and device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda"].cpu(), device)
    return saved["progress"]


def anyone(flag: bool, device: torch.device) -> bool:
    """只要有一个进程说“是”，所有进程都得到“是”。save_state 要所有进程一起调用，存不存必须一起决定。"""
    vote = torch.tensor([float(flag)], device=device)
    dist.all_reduce(vote, op=dist.ReduceOp.MAX)
    return bool(vote.item())


def train(args) -> dict:
    rank, world, device = setup(args.device)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log = open(args.log_dir / f"rank{rank}.log", "a", encoding="utf-8")

    def say(message):
        print(f"[rank {rank}/{world} pid {os.getpid()}] {message}", file=log, flush=True)

    data = process_dataset()
    train_poems, valid, test = split_poems(load_poems())
    poems = train_poems[:args.limit] * args.tang_repeats
    if args.song:
        check_song_corpus()
        song, counts = extra_training_poems(SONG_POEMS_PATH, data.vocab, (p.content for p in valid + test))
        poems += song[:args.limit]
        say(f"宋诗：{counts}；训练集共 {len(poems)} 首")
    vocab = data.vocab
    if args.title_state and not args.conditions:
        raise SystemExit("--title-state 要与 --conditions 一起用 (--title-state needs --conditions)")
    if args.init and args.title_state:
        raise SystemExit("--init 与 --title-state 不能同时用 (--init takes a plain checkpoint)")
    if args.reverse:
        if args.conditions:
            raise SystemExit("--reverse 与 --conditions 不能同时用 (--reverse takes no conditions)")
        poems = [p._replace(content=reversed_poem(p.content)) for p in poems]
        data.valid = [data.vocab.encode(reversed_poem(p.content)) for p in valid]
    if args.conditions:
        vocab = condition_vocab(data.vocab)
        seqs, kinds = training_seqs(vocab, poems, KeywordExtractor(p.content for p in poems), seed=args.seed)
        say(f"条件：{kinds}")
    else:
        seqs = [vocab.encode(p.content) for p in poems]
    seqs = [s[:args.max_len] for s in seqs]
    torch.manual_seed(args.seed)  # 各进程同样初始化（DDP 也会把 0 号进程的参数广播给其余进程）
    model = torch_poems.build_model(len(vocab), device=device, **(MODEL | args.model))
    net = TitleState(model, separators(vocab)).to(device) if args.title_state else model
    if args.every_step:  # 权重在下面由 --init 读入；不加 --train-all 时模型本身不动，只训练新加的两层
        model.requires_grad_(args.train_all)
        net = TitleEveryStep(model, vocab).to(device)
    ddp = DistributedDataParallel(BatchLoss(net))
    optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=args.learning_rate, eps=1e-7)
    schedule = torch_poems.cosine_schedule(optimizer, args.steps)
    progress = load_state(args.state, net, optimizer, schedule, device)  # 续训
    if progress is None:
        progress = dict(step=0, epoch=0, batch=0, losses=[], train_seconds=0.0, tokens=0, evals=[],
                        command="python -m scripts.train_ddp " + shlex.join(sys.argv[1:]), code=code_version(),
                        started=utc_now(), machine=machine())
        if args.init:  # 微调：从别的检查点的权重开始（词表或模型设置不同就报错）
            torch_poems.restore_weights(model, vocab, args.init)
            progress["init"] = dict(checkpoint=args.init.as_posix(), sha256=sha256(args.init))
    else:
        say(f"从第 {progress['step']} 步接着训练")

    def step(ids, lengths, sync=True) -> float:
        """训练一步，返回全局批的平均损失。sync=False 只在测速时用：不做梯度的全归约。"""
        with (contextlib.nullcontext() if sync else ddp.no_sync()):
            loss = local_loss(ddp, ids, lengths, rank, world, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP 在这里把各进程的梯度全归约（取平均），与反向传播重叠进行
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        total = loss.detach().clone()
        dist.all_reduce(total)  # 全局批的平均损失 × N，只用来记日志
        return float(total) / world

    if args.bench_steps:
        result = bench(step, global_batches(seqs, args.batch_size, 0), args.bench_steps, args.bench_rounds,
                       net, world, say)
        # 计时的几批不一定有代表性：给出整个训练集平均每步的字数，调用方用字/秒换算每步用时
        result["mean_step_tokens"] = args.batch_size * (sum(map(len, seqs)) / len(seqs) - 1)
        return result

    def train_batch(batch):
        ids, lengths = batch
        return step(ids, lengths), int((lengths - 1).sum())

    done_before = dict(step=progress["step"], train_seconds=progress["train_seconds"], tokens=progress["tokens"])
    last_save = time.monotonic()

    def after_step(steps: int, loss: float, history: dict) -> None:
        """记进度与日志；每隔 --save-every 秒（或 --save-every-steps 步）所有进程一起存续训文件。"""
        nonlocal last_save
        progress.update(step=done_before["step"] + steps, tokens=done_before["tokens"] + history["tokens"],
                        train_seconds=done_before["train_seconds"] + history["train_seconds"])
        progress["losses"].append(loss)
        say(f"第 {progress['step']} 步 损失 {loss:.4f}")
        every_steps = bool(args.save_every_steps) and progress["step"] % args.save_every_steps == 0
        if anyone(every_steps or time.monotonic() - last_save > args.save_every, device):
            save_state(args.state, net, optimizer, schedule, progress, device)
            last_save = time.monotonic()

    def validate() -> float:
        """0 号进程求验证集困惑度，广播给所有进程（大家据此一起决定停不停）。"""
        ppl = torch.zeros(1, device=device)
        if rank == 0:
            ppl[0] = math.exp(torch_poems.evaluate(model, data.valid))
            progress["evals"].append(dict(step=progress["step"], seconds=progress["train_seconds"],
                                          tokens=progress["tokens"], valid_ppl=float(ppl[0])))
            say(f"第 {progress['step']} 步 验证集困惑度 {float(ppl[0]):.1f}（训练了 {progress['train_seconds']:.0f} 秒）")
        dist.broadcast(ppl, 0)
        return float(ppl[0])

    def reached(ppl: float) -> bool:
        """第一次低于 --target-ppl：停止训练。"""
        if args.target_ppl is not None and ppl < args.target_ppl:
            progress["steps_target"] = progress["step"]
            return True
        return False

    # 循环本身与第 6、7 章共用（utils.training.run_training）：计步、计时、定期求值、到达标线就停
    run_training(train_batch, ResumableEpochs(seqs, args.batch_size, progress), args.steps - progress["step"],
                 steps_per_epoch=math.ceil(len(seqs) / args.batch_size), after_step=after_step,
                 evaluate=validate if args.eval_every else None, eval_every=args.eval_every or None,
                 stop_when=reached, progress=False,
                 max_train_seconds=args.max_minutes and 60 * args.max_minutes - progress["train_seconds"])
    save_state(args.state, net, optimizer, schedule, progress, device)
    if rank == 0:
        if args.title_state:
            title_state.save(net, vocab, args.checkpoint)
        else:
            torch_poems.save_checkpoint(net, vocab, args.checkpoint)
        say(f"完成 {progress['step']} 步，训练用时 {progress['train_seconds']:.1f} 秒，检查点 {args.checkpoint.name}")
    dist.barrier()
    return progress


def bench(step, batches, k: int, rounds: int, model, world: int, say) -> dict:
    """先热身 3 步，再用同样的 k 个全局批交替计时：照常全归约（sync）与不全归约（no_sync）。

    每轮两块，后一轮顺序反过来：照常、不、不、照常、照常、不……慢慢变化的干扰（别的程序、CPU 降频）两边各摊一半。
    相邻的一对（同一轮的两块）做的事只差全归约，seconds 里两张表按轮对齐。
    """
    for ids, lengths in batches[:3]:
        step(ids, lengths)
    timed = batches[3:3 + k]
    tokens = sum(int((lengths - 1).sum()) for _, lengths in timed)
    seconds = {"sync": [], "no_sync": []}
    for r in range(rounds):
        for sync in ((True, False) if r % 2 == 0 else (False, True)):
            dist.barrier()
            started = time.perf_counter()
            for ids, lengths in timed:
                step(ids, lengths, sync=sync)
            seconds["sync" if sync else "no_sync"].append(time.perf_counter() - started)
    result = dict(processes=world, threads=torch.get_num_threads(), steps=len(timed), tokens=tokens,
                  seconds=seconds, gradient_bytes=4 * sum(p.numel() for p in model.parameters()))
    say(f"测速：{json.dumps(result)}")
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.max_minutes and int(os.environ.get("WORLD_SIZE", 1)) > 1:  # 各进程各自计时，会停在不同的步上，全归约就卡住
        raise SystemExit("--max-minutes 只用于单进程训练 (--max-minutes needs a single process)")
    if args.every_step and not (args.conditions and args.init):
        raise SystemExit("--every-step 要与 --conditions、--init 一起用 (--every-step needs --conditions and --init)")
    if args.train_all and not args.every_step:
        raise SystemExit("--train-all 要与 --every-step 一起用 (--train-all needs --every-step)")
    configure_allocator()
    try:
        progress = train(args)
    except KeyboardInterrupt:  # Ctrl-C：退出进程组，不留下挂起的进程
        print("已中断 (interrupted)", file=sys.stderr)
        return 130
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if os.environ.get("RANK", "0") == "0":
        if args.bench_steps:
            print(json.dumps(progress))
        else:
            print(json.dumps(dict(steps=progress["step"], final_loss=progress["losses"][-1],
                                  train_seconds=progress["train_seconds"], tokens=progress["tokens"],
                                  evals=progress["evals"], steps_target=progress.get("steps_target"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
