
import pytest
from typer.testing import CliRunner

from backprop_tutor.cli import app


@pytest.fixture(autouse=True)
def _wide_plain_terminal(monkeypatch, tmp_path):
    """Wide, colourless output so that assertions read the text a person sees; progress files in a
    temporary folder, never in the real home."""
    monkeypatch.setenv("BACKPROP_TUTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("BACKPROP_TUTOR_DEBUG", raising=False)


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args, **kwargs):
        return runner.invoke(app, [str(a) for a in args], **kwargs)

    return invoke


@pytest.fixture
def write_lesson(tmp_path):
    """Write a lesson file from TOML text; returns its path."""
    def write(text, name="lesson.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


