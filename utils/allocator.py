"""CPU 训练时的内存分配：让 glibc 留住释放掉的大块内存，下一步直接重用，而不是每一步都还给操作系统再要回来。

在 CPU 上训练时，PyTorch 与 TensorFlow 每一步都要分配、释放许多几 MB 到几十 MB 的临时张量
（每个时间步的门、反向传播的梯度）。glibc 的 malloc 默认把大块（起初大于 128 KB，之后随用随调）
直接用 mmap 向操作系统要，free 时立即还回去；下一步再要时，每一页（4 KB）第一次写入都是一次缺页中断，
由内核清零。keep_freed_memory() 用 mallopt(3) 调三个参数：不超过 MMAP_THRESHOLD 的块都从堆里分配，
释放后留在堆里重用；堆顶空闲的内存不到 TRIM_THRESHOLD 时不还给操作系统；堆不够时一次多要 TOP_PAD，
少调几次 brk（同一进程里先训练过 TensorFlow 时，只调前两个不够，第 8 章第 8.1 节）。代价是进程多占一些内存。
效果由 scripts/bench_malloc.py 测量（make bench-malloc；第 8 章第 8.1 节，表在 README）。

只在用 glibc 的 Linux 上生效（Colab 也是）；macOS、Windows 与 musl 的分配器不同，这里什么也不做。
utils.settings.configure_allocator() 调用它（环境变量 COURSE_KEEP_FREED_MEMORY=0 时不调）：各章第一个单元、make poem
和 scripts/ 里的训练脚本开始时都调用一次，所以用的是同样的设置。导入模块不会调用它。
"""
from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3   # <malloc.h> 里 mallopt 的选项编号
MMAP_THRESHOLD = 256 << 20                     # 256 MB：比写诗模型一步里最大的临时张量还大
TRIM_THRESHOLD = 1 << 30                       # 堆顶空闲超过 1 GB 才还给操作系统
TOP_PAD = 256 << 20                            # 堆要长大时一次多要 256 MB（只占地址，写到才占内存）


def keep_freed_memory() -> bool:
    """调高 glibc 的 mmap 与 trim 阈值和 top pad；返回是否生效（不是 glibc 时为 False）。"""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # 不是 glibc（例如 Alpine 的 musl）
        return False
    return all(mallopt(option, value) == 1
               for option, value in ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                                     (M_TOP_PAD, TOP_PAD)))
