"""README.md's examples are tests: the runnable ones run, in order, the rest are parsed.

How blocks are marked: tests/support/readme_examples.py. The run reproduces a reader who follows
the README top to bottom in one terminal, from the repository root:

- the `server` block (`./scripts/serve.sh`) is started as written, on a free loopback port, with
  a model cache of its own (MODEL_CACHE_DIR), and must become ready;
- `run` blocks execute in order: shell with `bash -euo pipefail` (`curl` gets `--fail-with-body`
  so an HTTP error fails the block), Python with this interpreter; environment lines of earlier
  shell blocks (`. .venv/bin/activate`, `export ...`) stay in effect, as in one terminal;
- the README's placeholders are real files: `photo.jpg` is the sample upscaled to a photo-sized
  JPEG (more than 1.2 MB, too big for a command line), `yolov8n.onnx` the bundled detector;
- ports 9001 and 9002 become free ports; nothing touches ~/.cache or ~/.local/state.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from readme_examples import Example, read_examples
from server_harness import free_port

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
EXAMPLES = read_examples(README)
#: the packages', bench's, docker's ... READMEs: parsed only, like README.md's parse-only blocks
OTHER_READMES = sorted(
    path
    for top in REPO.iterdir()
    if top.is_dir() and not top.name.startswith(".")  # not .venv, .work, .git
    for path in top.rglob("README.md")
    if "node_modules" not in path.parts
)
ALL_EXAMPLES = EXAMPLES + [
    example for path in OTHER_READMES for example in read_examples(path, str(path.relative_to(REPO)))
]
SAMPLE = REPO / "assets" / "images" / "shapes-sample.jpg"
BUNDLED_MODEL = REPO / "assets" / "models" / "shapes-det-yolov8.onnx"
#: what a terminal keeps from one command to the next
ENVIRONMENT_LINE = re.compile(r"^\s*(\.|source|export)\s")
PHOTO_MIN_BYTES = 1_200_000
BLOCK_TIMEOUT = 300
SERVER_START_TIMEOUT = 300  # serve.sh runs ./scripts/setup.sh (pip) before serving


def _of(kind: str, language: str | None = None) -> list[Example]:
    return [e for e in EXAMPLES if e.kind == kind and (language is None or e.language == language)]


# --- every example parses -----------------------------------------------------------------------


@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=lambda e: f"{e.source}:{e.line}-{e.kind}")
def test_every_example_parses(example: Example):
    if example.language == "python":
        compile(example.code, example.where, "exec")
    else:
        checked = subprocess.run(["bash", "-n"], input=example.code, text=True, capture_output=True)
        assert checked.returncode == 0, f"{example.where}: {checked.stderr}"


def test_the_readme_has_runnable_examples_of_each_kind_and_no_image_on_a_command_line():
    assert len(_of("server")) == 1 and _of("run", "shell") and _of("run", "python") and _of("install")
    for example in ALL_EXAMPLES:
        # `$(base64 photo.jpg)` puts the whole image in argv: "Argument list too long" on real photos
        assert "$(base64" not in example.code, f"{example.where}: send the image on stdin or with @file"


# --- install lines give exactly what the snippets import ---------------------------------------


def _workspace() -> dict[str, tuple[Path, dict]]:
    """Our distributions by canonical name: their directory and pyproject."""
    found = {}
    for pyproject in REPO.glob("packages/*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[canonicalize_name(project["name"])] = (pyproject.parent, project)
    return found


def _install_requirements(example: Example) -> list[Requirement]:
    """The requirements named by the `pip install` lines of an install block."""
    workspace = {directory.resolve(): name for name, (directory, _) in _workspace().items()}
    wanted = []
    for line in example.code.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[:2] == ["pip", "install"], f"{example.where}: not a pip install line: {line}"
        for word in (w for w in words[2:] if not w.startswith("-")):
            path, _, extras = word.partition("[")
            if path.startswith(("./", "/")):
                directory = (REPO / path).resolve()
                assert directory in workspace, f"{example.where}: {path} is not a package of this repository"
                wanted.append(Requirement(f"{workspace[directory]}{'[' + extras if extras else ''}"))
            else:
                wanted.append(Requirement(word))
    return wanted


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution pip would install for these requirements (from the installed metadata)."""
    seen: set[str] = set()
    pending = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        for dependency in importlib.metadata.requires(requirement.name) or []:
            dependency = Requirement(dependency)
            environment = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in environment):
                pending.append((dependency, frozenset(dependency.extras)))
    return {key for key in seen if "[" not in key}


def _providers(module: str) -> set[str]:
    """The distributions that provide a top-level module (ours by their src/ layout)."""
    ours = {
        canonicalize_name(name)
        for name, (directory, _) in _workspace().items()
        if (directory / "src" / module).is_dir()
    }
    theirs = importlib.metadata.packages_distributions().get(module, [])
    return ours | {canonicalize_name(name) for name in theirs}


def _imports(example: Example) -> set[str]:
    tree = ast.parse(example.code)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names)


def test_install_blocks_name_packages_and_extras_that_exist():
    workspace = _workspace()
    for example in _of("install"):
        for requirement in _install_requirements(example):
            name = canonicalize_name(requirement.name)
            if name in workspace:
                declared = workspace[name][1].get("optional-dependencies", {})
                unknown = requirement.extras - set(declared)
                assert not unknown, f"{example.where}: {name} has no extra {sorted(unknown)}"


@pytest.mark.parametrize("example", _of("run", "python"), ids=lambda e: f"line{e.line}")
def test_the_install_block_before_a_snippet_installs_what_it_imports(example: Example):
    before = [install for install in _of("install") if install.line < example.line]
    assert before, f"{example.where}: no install block comes before it"
    installed = _closure(_install_requirements(before[-1]))
    for module in _imports(example):
        assert _providers(module) & installed, (
            f"{example.where} imports {module}, which {before[-1].where} does not install"
        )


# --- the runnable examples run, top to bottom ----------------------------------------------------


def _photo(path: Path) -> Path:
    """The sample upscaled 5x with a little noise: a photo-sized JPEG of more than 1.2 MB."""
    sample = cv2.imread(str(SAMPLE))
    big = cv2.resize(sample, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(0).integers(-6, 7, big.shape, dtype=np.int16)
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert path.stat().st_size > PHOTO_MIN_BYTES, path.stat().st_size
    return path


def test_the_test_photo_is_too_big_for_the_old_command_line_form(tmp_path):
    """What the README's stdin and @file forms avoid: the photo as one argument fails to start."""
    photo = _photo(tmp_path / "photo.jpg")
    old_form = subprocess.run(
        ["bash", "-c", f'/bin/echo "$(base64 -w0 {photo})" > /dev/null'], capture_output=True, text=True
    )
    assert old_form.returncode != 0 and "Argument list too long" in old_form.stderr, old_form.stderr


def _localised(code: str, ports: dict[str, int]) -> str:
    for documented, port in ports.items():
        code = re.sub(rf"\blocalhost:{documented}\b", f"127.0.0.1:{port}", code)
        code = re.sub(rf"--port {documented}\b", f"--port {port}", code)
    return code


def _run_shell(example: Example, code: str, kept: list[str], cwd: Path, env: dict) -> None:
    code = re.sub(r"\bcurl -s\b", "curl -s --fail-with-body", code)
    script = "set -euo pipefail\n" + "\n".join(kept) + "\n" + code
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT
    )
    assert done.returncode == 0, (
        f"{example.where} failed ({done.returncode}):\n{code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def _run_python(example: Example, code: str, cwd: Path, env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT
    )
    assert done.returncode == 0, (
        f"{example.where} failed:\n{code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def _start_main_job(example: Example, env: dict, log_path: Path) -> subprocess.Popen:
    command = shlex.split(example.code, comments=True)
    assert command == ["./scripts/serve.sh"], f"{example.where}: the server block is {command}"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{env['PORT']}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"{example.where} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/readiness", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop(process)
    raise AssertionError(
        f"{example.where} was not ready within {SERVER_START_TIMEOUT}s:\n{log_path.read_text()[-3000:]}"
    )


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _reader_directory(tmp_path: Path) -> Path:
    """A copy of the repository root as a reader sees it, plus the placeholders' real files."""
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    for name in ("assets", "packages", "scripts", "bench", ".venv", "README.md"):
        (cwd / name).symlink_to(REPO / name)
    _photo(cwd / "photo.jpg")
    shutil.copyfile(BUNDLED_MODEL, cwd / "yolov8n.onnx")
    return cwd


@pytest.mark.slow
def test_the_runnable_examples_run_in_order_against_the_main_job(tmp_path):
    cwd = _reader_directory(tmp_path)
    ports = {"9001": free_port(), "9002": free_port()}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("API_KEY", "VISIONHOST_API_KEYS", "MODEL_CACHE_DIR", "PORT", "HOST", "VIRTUAL_ENV")
    }
    venv_bin = str(REPO / ".venv" / "bin")
    # activating the virtual environment is the README's job
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env.update(
        {
            "MODEL_CACHE_DIR": str(tmp_path / "model-cache"),
            "VISIONHOST_STATE_DIR": str(tmp_path / "state"),
            "OFFLINE_MODE": "true",  # no example needs the network
            "INTRA_OP_THREADS": "1",
        }
    )
    (server_block,) = _of("server")
    main_job = _start_main_job(
        server_block, {**env, "HOST": "127.0.0.1", "PORT": str(ports["9001"])}, tmp_path / "serve.log"
    )
    kept: list[str] = []
    try:
        for example in _of("run"):
            code = _localised(example.code, ports)
            if example.language == "shell":
                _run_shell(example, code, kept, cwd, env)
                kept += [line for line in code.splitlines() if ENVIRONMENT_LINE.match(line)]
            else:
                python_env = {**env, "PATH": os.pathsep.join([venv_bin, env["PATH"]])}
                _run_python(example, code, cwd, python_env)
    finally:
        subprocess.run(
            ["bash", "-c", "\n".join(kept) + "\ninference server stop"],
            cwd=cwd,
            env=env,
            capture_output=True,
            timeout=60,
        )
        _stop(main_job)
    # the photo-sized JPEG went through format=image and came back drawn, at its own size
    drawn = cv2.imread(str(cwd / "drawn.jpg"))
    photo = cv2.imread(str(cwd / "photo.jpg"))
    assert drawn is not None and drawn.shape == photo.shape
    assert kept, "no README block activates the virtual environment"


# --- the routes README.md names exist, with the methods it names ---------------------------------

ROUTE_MENTION = re.compile(r"`(GET|POST|PUT|DELETE) (/[^`\s]*)`")


def _mentioned_routes() -> list[tuple[str, str, bool]]:
    """(method, concrete path, whether README wrote a placeholder) for each "`METHOD /path`" in
    README.md; `a|b` alternatives expanded, `{placeholders}` filled in."""
    found = []
    for method, path in ROUTE_MENTION.findall(README.read_text(encoding="utf-8")):
        head, _, last = path.rpartition("/")
        for alternative in last.split("|"):
            written = f"{head}/{alternative}"
            found.append((method, re.sub(r"\{[^}]*\}", "x", written), "{" in written))
    return found


def test_routes_named_with_a_method_exist_with_that_method():
    from inference_server.app import create_app
    from inference_server.settings import ServerSettings

    mentioned = _mentioned_routes()
    assert ("GET", "/model/cache", False) in mentioned
    app = create_app(ServerSettings.from_env({"MODEL_CACHE_DIR": "/nonexistent", "OFFLINE_MODE": "true"}))
    served = []  # (pattern, only placeholders, methods), from the server's own OpenAPI document
    for template, operations in app.openapi()["paths"].items():
        segments = template.strip("/").split("/")
        pattern = "/" + "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
        only_placeholders = all(s.startswith("{") for s in segments)
        served.append((pattern, only_placeholders, {method.upper() for method in operations}))
    for method, path, placeholder in mentioned:
        # a fixed path like /model/cache must not count as found through the legacy /{project}/{version}
        methods = set().union(*[
            found for pattern, generic, found in served
            if re.fullmatch(pattern, path) and (placeholder or not generic)
        ])
        assert method in methods, f"README.md names `{method} {path}`; the server answers it with {methods}"
