"""The wheel plays: build it from the checkout, install it into a fresh virtual environment,
and from a temporary folder run ``odyssey`` on every shipped model and in every mode.

The fresh venv has no pip and no project code: the wheel goes in with this environment's pip
(``pip --python``), and the third-party dependencies (numpy, pygame, onnxruntime, av) come from
this environment through one ``.pth`` line, so the test needs no network. What the wheel
itself must carry (the package, the models, the controls) comes only from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
MODES = ("navigator", "odyssey", "faces")


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
                cwd=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("latent_odyssey-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed; returns its bin folder."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(root)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root)
    Path(site.stdout.strip(), "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)], cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bindir


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODYSSEY_") and k != "PYTHONPATH"}
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", XDG_CONFIG_HOME=str(tmp / "config"),
               ODYSSEY_CAPTURES=str(tmp / "captures"))
    return env


def test_the_wheel_holds_one_package_the_models_and_the_controls(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"latent_odyssey"}
    for name in SHIPPED:
        assert f"latent_odyssey/pretrained/{name}.onnx" in names
        assert f"latent_odyssey/pretrained/{name}.encoder.onnx" in names
    assert "latent_odyssey/assets/controls.toml" in names
    assert not [n for n in names if n.endswith((".pt", ".png"))]  # TorchScript and pictures stay out


def test_the_installed_wheel_plays_every_model_and_mode_from_any_folder(installed, tmp_path):
    env = _clean_env(tmp_path)
    odyssey = str(installed / "odyssey")
    proc = _run([odyssey, "--version"], cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("odyssey "), proc.stdout + proc.stderr
    for name in SHIPPED:
        proc = _run([odyssey, "info", name], cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "site-packages" in proc.stdout and str(REPO) not in proc.stdout  # the wheel's copy
    for mode in MODES:
        shot = tmp_path / f"{mode}.png"
        proc = _run([odyssey, "play", "--headless", "--frames", "3", "--mode", mode, "--screenshot", str(shot)],
                    cwd=tmp_path, env=env)
        assert proc.returncode == 0, (mode, proc.stdout + proc.stderr)
        assert shot.stat().st_size > 1000


def test_environment_overrides_work_for_a_wheel_install(installed, tmp_path):
    env = _clean_env(tmp_path)
    odyssey = str(installed / "odyssey")
    mine = tmp_path / "my-models"
    mine.mkdir()
    shipped = Path(_run([str(installed / "python"), "-c",
                         "from latent_odyssey.game import paths; print(paths.pretrained_dir())"],
                        cwd=tmp_path, env=env).stdout.strip())
    (mine / "my-digits.onnx").write_bytes((shipped / "mnist-2d.onnx").read_bytes())
    proc = _run([odyssey, "info", "my-digits"], cwd=tmp_path, env={**env, "ODYSSEY_MODELS": str(mine)})
    assert proc.returncode == 0 and "my-digits.onnx" in proc.stdout, proc.stdout + proc.stderr

    controls = tmp_path / "controls.toml"
    controls.write_text('[actions.quit]\nkeys = ["q"]\n')
    proc = _run([odyssey, "play", "--headless", "--frames", "2"], cwd=tmp_path,
                env={**env, "ODYSSEY_CONTROLS": str(controls)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    controls.write_text("[actions\n")
    proc = _run([odyssey, "play", "--headless", "--frames", "2"], cwd=tmp_path,
                env={**env, "ODYSSEY_CONTROLS": str(controls)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert str(controls) in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
