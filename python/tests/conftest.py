"""Shared fixtures: the default model written by the bundled program (`polyhead demo`), the
program's own outputs for it (`polyhead run --dump`), and the fetched data (scripts/fetch_data.sh).
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import polyhead

REPO = Path(__file__).resolve().parents[2]


def run_program(*args):
    """Runs the bundled polyhead program; fails the test with its stderr if it fails."""
    process = subprocess.run([polyhead.cli_path(), *map(str, args)], capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
    return process


def read_dump(folder):
    """{task: {output: array}} from the DIR/outputs.json and .f32 files of `run --dump DIR`."""
    folder = Path(folder)
    listing = json.loads((folder / "outputs.json").read_text())
    dump = {}
    for o in listing["outputs"]:
        assert o["type"] == "f32"
        values = np.fromfile(folder / o["file"], dtype="<f4").reshape(o["shape"])
        dump.setdefault(o["task"], {})[o["output"]] = values
    return dump


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """DIR of `polyhead demo --out DIR`: mobilenet_multitask.phm and its input image.f32."""
    folder = tmp_path_factory.mktemp("demo")
    run_program("demo", "--out", folder)
    return folder


@pytest.fixture(scope="session")
def demo_model_path(demo_dir):
    return demo_dir / "mobilenet_multitask.phm"


@pytest.fixture(scope="session")
def demo_model(demo_model_path):
    return polyhead.Model(demo_model_path)


@pytest.fixture(scope="session")
def demo_image(demo_dir, demo_model):
    """The demo's input, already normalised, in the shape of the model's input."""
    return np.fromfile(demo_dir / "image.f32", dtype="<f4").reshape(demo_model.inputs[0].shape)


@pytest.fixture(scope="session")
def cli_dump(demo_dir, demo_model_path, tmp_path_factory):
    """The program's outputs for the demo input: dump(tasks=None) runs `polyhead run --dump`."""
    made = {}

    def dump(tasks=None):
        key = tuple(tasks or ())
        if key not in made:
            folder = tmp_path_factory.mktemp("dump")
            args = ["run", demo_model_path, "--input", f"image={demo_dir / 'image.f32'}",
                    "--dump", folder]
            if tasks:
                args += ["--tasks", ",".join(tasks)]
            run_program(*args)
            made[key] = read_dump(folder)
        return made[key]

    return dump


@pytest.fixture(scope="session")
def data_dir():
    """build/data ($POLYHEAD_DATA_DIR), or a skip when the data was not fetched."""
    folder = Path(os.environ.get("POLYHEAD_DATA_DIR", REPO / "build" / "data"))
    if not (folder / "face_detection_short_range.tflite").exists():
        pytest.skip(f"no MediaPipe face detector in {folder} (scripts/fetch_data.sh fetches it)")
    return folder


@pytest.fixture(scope="session")
def face_model_path(data_dir, tmp_path_factory):
    """The MediaPipe face detector converted with its preset."""
    out = tmp_path_factory.mktemp("face") / "face.phm"
    polyhead.convert(data_dir / "face_detection_short_range.tflite", out,
                     preset="mediapipe-face-detection-short")
    return out
