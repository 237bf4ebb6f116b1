"""The layout: `platform/` stays a plain folder (a package there shadows the standard library), and
the import contract in pyproject.toml holds, and fails when broken."""

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_portal_and_orchestration_come_from_the_platform_folder():
    import orchestration
    import portal

    assert Path(orchestration.__file__).parent == REPO_ROOT / "platform" / "orchestration"
    assert Path(portal.__file__).parent == REPO_ROOT / "platform" / "portal"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    # The linter reads the contracts from pyproject.toml in its working folder and finds the
    # packages on the path, as `.ci/run` runs it.
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
         "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": f"{root / 'platform'}:{root}", "PATH": "/usr/bin:/bin"},
    )


def test_the_import_contract_is_kept():
    result = _lint_imports(REPO_ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def _copy_of_the_code(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "copy"
    ignore = shutil.ignore_patterns("__pycache__", "templates", "static", "migrations", "*.html", "*.css", "*.js")
    for folder in ("platform", "shared", "tenants", "ops"):
        shutil.copytree(REPO_ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("module", "breach", "reported"), [
    pytest.param("shared/clients/selectors.py", "\nfrom tenants.pupils.models import Pupil  # noqa: E402,F401\n",
                 ["shared is not allowed to import tenants", "shared.clients.selectors -> tenants.pupils.models"],
                 id="a public app importing a school app"),
    pytest.param("shared/schools/selectors.py",
                 "\n\ndef _contract():\n    from shared.clients.selectors import current_contract  # noqa: F401\n",
                 ["No cycles are allowed in shared.", ".schools -> .clients"],
                 id="a cycle hidden inside a function"),
    pytest.param("tenants/pupils/selectors.py", "\nfrom shared.schools.models import School  # noqa: E402,F401\n",
                 ["tenants is not allowed to import shared.schools.models"],
                 id="a school app reading a public model"),
])
def test_the_import_contract_fails_on_a_breach(tmp_path, module, breach, reported):
    root = _copy_of_the_code(tmp_path)
    with open(root / module, "a") as source:
        source.write(breach)

    result = _lint_imports(root)

    assert result.returncode == 1
    for message in reported:
        assert message in result.stdout
