"""`platform/` must stay a plain folder: a package there shadows the standard library."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_platform_folder_is_not_a_package():
    assert (REPO_ROOT / "platform").is_dir()
    assert not (REPO_ROOT / "platform" / "__init__.py").exists()


def test_stdlib_platform_and_uuid_import_from_the_repo_root():
    result = subprocess.run(
        [sys.executable, "-c", "import uuid, platform; print(platform.system()); uuid.uuid4()"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Linux"


def test_config_and_console_come_from_the_platform_folder():
    import config
    import console

    assert Path(config.__file__).parent == REPO_ROOT / "platform" / "config"
    assert Path(console.__file__).parent == REPO_ROOT / "platform" / "console"
