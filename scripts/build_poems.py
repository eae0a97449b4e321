"""构建 data/poems.txt：从 npm 包 chinese-poetry 2.0.1 的《全唐诗》得到五言、七言诗语料。

步骤：npm pack 下载压缩包 -> 校验 sha512 -> 读取 dist/quantangshi/poet.tang.*.json
-> OpenCC t2s 转为简体 -> 只保留每句都是 5 字或都是 7 字的诗 -> 按内容去重
-> 按源文件顺序写出 `标题:内容` 行。两次运行得到逐字节相同的文件。

--song 用同一个包里的宋诗（poet.song.*.json）、同样的步骤，再去掉与 poems.txt 里某首唐诗内容相同的，
写到 .cache/poems_song.txt（约 40 MB，不进 git；只有训练第 12 章的大模型时才用，见 data/README.md）。

用法：python -m scripts.build_poems          （在仓库根目录运行，或 make data）
      python -m scripts.build_poems --song   （宋诗）
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import tarfile
from pathlib import Path

from utils.data import FORMS, is_regular_poem, load_poems, poem_form
from utils.settings import CACHE_DIR, POEMS_PATH, SONG_POEMS_PATH

PACKAGE = "chinese-poetry@2.0.1"
TARBALL = "chinese-poetry-2.0.1.tgz"
# npm registry 记录的 integrity（sha512，base64）
INTEGRITY = "sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
# .cache/poems_song.txt 的 sha256（data/README.md 记着同一个数；训练前 train_ddp --song 核对）
SONG_SHA256 = "f9e7bb7796ab61c5148b171626d719174e0fe5ed0ca2f6c3f8ea030402bdffd1"
MEMBER = {dynasty: re.compile(rf"^package/dist/quantangshi/poet\.{dynasty}\.(\d+)\.json$")
          for dynasty in ("tang", "song")}


def fetch(path: Path, command: list[str], digest, expected: str) -> Path:
    """运行 command 把文件下载到 path（已下载则复用），再用 digest(字节) 校验。"""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        print(f"下载 {path.name} ...", flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    got = digest(path.read_bytes())
    if got != expected:
        path.unlink()
        raise SystemExit(f"校验失败（integrity mismatch）：{path} 的 {got} 与记录的 {expected} 不同，已删除，请重试。")
    return path


def npm_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch_tarball(cache: Path) -> Path:
    """用 npm pack 下载 chinese-poetry（已下载则复用），并校验完整性。"""
    command = ["npm", "pack", "--loglevel=error", PACKAGE, "--pack-destination", str(cache)]
    return fetch(cache / TARBALL, command, npm_integrity, INTEGRITY)


def read_poems(tarball: Path, dynasty: str = "tang"):
    """按文件编号顺序逐首产出 (标题, 内容)，均为繁体。dynasty 是 tang 或 song。"""
    with tarfile.open(tarball, "r:gz") as tar:
        members = [(int(m.group(1)), info) for info in tar.getmembers()
                   if (m := MEMBER[dynasty].match(info.name))]
        for _, info in sorted(members, key=lambda pair: pair[0]):
            for poem in json.load(tar.extractfile(info)):
                yield poem.get("title", ""), "".join(poem.get("paragraphs", []))


def clean_title(title: str) -> str:
    # 冒号是标题与内容的分隔符，标题里的半角冒号换成全角；连续空白并成一个空格
    title = " ".join(title.split()).replace(":", "：")
    return title or "无题"


def build(tarball: Path, dynasty: str = "tang", exclude: frozenset[str] = frozenset()) -> list[str]:
    """简体的 `标题:内容` 行；内容在 exclude 里的（宋诗里与某首唐诗相同的）不收。"""
    import opencc

    t2s = opencc.OpenCC("t2s")
    seen, lines = set(exclude), []
    for title, content in read_poems(tarball, dynasty):
        content = t2s.convert("".join(content.split()))
        if not is_regular_poem(content) or content in seen:
            continue
        seen.add(content)
        lines.append(f"{clean_title(t2s.convert(title))}:{content}")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--song", action="store_true", help="宋诗，写到 .cache/poems_song.txt")
    args = parser.parse_args(argv)
    if args.song:
        path = SONG_POEMS_PATH
        lines = build(fetch_tarball(CACHE_DIR), "song", frozenset(p.content for p in load_poems()))
    else:
        path, lines = POEMS_PATH, build(fetch_tarball(CACHE_DIR))
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    counts = {form: 0 for form in FORMS}
    for line in lines:
        counts[poem_form(line.split(":", 1)[1])] += 1
    print(f"写出 {path.name}：{len(lines)} 首，{len(text.encode('utf-8'))} 字节")
    for form, n in counts.items():
        print(f"  {form}: {n}")
    print("sha256:", hashlib.sha256(text.encode("utf-8")).hexdigest())


if __name__ == "__main__":
    main()
