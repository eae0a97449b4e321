"""检查锁定的依赖在每个支持的平台 × Python 版本上都解析得了（make check-platforms，CI 也跑）。

pip 的 --platform 按本机而不是目标平台求环境标记（如 sys_platform == "darwin"），所以用
`uv pip compile --python-platform … --python-version …`：它按目标平台解析，只读包的元数据，不下载、不安装。
支持范围之外的 Python（3.10、3.14）也试一下，应当解析不了——这说明 README 写的范围不多不少。
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {  # uv 的平台名 -> 说明
    "x86_64-unknown-linux-gnu": "Linux x86_64",
    "aarch64-apple-darwin": "macOS arm64",
    "x86_64-pc-windows-msvc": "Windows amd64",
}
SUPPORTED = ("3.11", "3.12", "3.13")
UNSUPPORTED = ("3.10", "3.14")
# PyTorch 2.13 的 macOS 包要求 macOS 14 及以上（uv 默认按 13 解析）
ENV = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0"}


def environment_yml_requirements(tmp: Path) -> tuple[Path, str]:
    """把 environment.yml 的 pip 部分写成一个 requirements 文件，并返回它锁定的 Python 版本。"""
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    python = re.search(r"^\s*-\s*python=(\d+\.\d+)", text, re.M).group(1)
    lines = re.findall(r"^\s{6}-\s*(\S.*)$", text, re.M)
    path = tmp / "environment-pip.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, python


def resolves(requirements: Path, platform: str, python: str) -> tuple[bool, str]:
    cmd = [shutil.which("uv") or str(Path(sys.executable).with_name("uv")), "pip", "compile", str(requirements),
           "--python-platform", platform, "--python-version", python, "--no-python-downloads",
           "--quiet", "--output-file", os.devnull]
    result = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    why = next((line.strip() for line in result.stderr.splitlines() if "cause:" in line or "Because" in line), "")
    return result.returncode == 0, why


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env_req, env_python = environment_yml_requirements(Path(tmp))
        cases = [("requirements.txt", ROOT / "requirements.txt", p, v, True)
                 for p in PLATFORMS for v in SUPPORTED]
        cases += [("requirements.txt", ROOT / "requirements.txt", p, v, False)
                  for p in PLATFORMS for v in UNSUPPORTED]
        cases += [("environment.yml", env_req, p, env_python, True) for p in PLATFORMS]
        cases += [("requirements-colab.txt", ROOT / "requirements-colab.txt", "x86_64-unknown-linux-gnu", "3.13", True)]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda c: resolves(c[1], c[2], c[3]), cases))
    failures = 0
    print(f"{'文件':<24}{'平台':<16}{'Python':<8}{'应当':<8}结果")
    for (name, _, platform, python, expected), (ok, why) in zip(cases, results):
        good = ok == expected
        failures += not good
        print(f"{name:<24}{PLATFORMS[platform]:<16}{python:<8}{'解析' if expected else '失败':<8}"
              f"{'解析成功' if ok else '解析失败'}{'' if good else '  <-- 不符合预期'}"
              f"{'' if ok or not why else '  ' + why[:120]}")
    print(f"{len(cases) - failures} 项符合预期，{failures} 项不符合")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
