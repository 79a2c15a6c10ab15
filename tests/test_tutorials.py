"""Every tutorial under docs/tutorials/ runs as a notebook, and its checks hold.

A tutorial is a jupytext "percent" script (``NN_name.py``): diffable text that
reads as a notebook. Each one is converted with jupytext and executed cell by
cell by nbclient in a real Jupyter kernel (this venv's own Python, through the
``python3`` kernel spec that ipykernel provides), in a fresh temporary folder so
nothing it writes lands in the repository. Its key numbers are checked by the
``assert`` cells the learner reads too, so a tutorial whose numbers stop being
true fails here, not just one that crashes. These sources are not Markdown, so
tests/test_docs_blocks.py does not run them a second time.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
NAME = re.compile(r"^\d\d_\w+\.py$")


def tutorials() -> list[Path]:
    return sorted(p for p in TUTORIALS.glob("*.py") if NAME.match(p.name))


def _notebook_tools():
    try:
        import jupytext
        import nbclient
        from jupyter_client.kernelspec import KernelSpecManager
    except ImportError as err:  # pragma: no cover - the test extra installs them
        pytest.skip(f"notebook tools missing ({err.name}); pip install -e '.[test]'")
    return jupytext, nbclient, KernelSpecManager


def execute(path: Path, workdir: Path):
    """Run the tutorial at ``path`` as a notebook in ``workdir``; return the executed notebook."""
    jupytext, nbclient, KernelSpecManager = _notebook_tools()
    import chainrule

    # The kernel is a fresh process: it must import the chainrule under test (the
    # source tree this test imported), plot without a display (matplotlib's inline
    # backend: Agg images sent as outputs), and find its kernel
    # spec in this interpreter's prefix, where ipykernel installs it.
    source = str(Path(chainrule.__file__).resolve().parent.parent)
    env = {"PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        specs = KernelSpecManager()
        specs.kernel_dirs = [str(Path(sys.prefix) / "share" / "jupyter" / "kernels"),
                             *specs.kernel_dirs]
        notebook = jupytext.read(path)
        client = nbclient.NotebookClient(
            notebook, timeout=120, kernel_name="python3",
            resources={"metadata": {"path": str(workdir)}},
            kernel_manager_class="jupyter_client.manager.KernelManager")
        client.km = client.kernel_manager_class(kernel_name="python3", kernel_spec_manager=specs)
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def test_tutorials_are_found():
    names = [p.name for p in tutorials()]
    assert "01_one_function_four_ways.py" in names
    assert len(names) == len(set(n[:2] for n in names)), f"two tutorials share a number: {names}"


@pytest.mark.parametrize("path", tutorials(), ids=lambda p: p.stem)
def test_tutorial_runs_and_checks_its_numbers(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    asserts = len(re.findall(r"^\s*assert\b", text, re.MULTILINE))
    assert asserts >= 3, f"{path.name}: a tutorial checks its key numbers with assert cells"
    assert "savefig(" not in text or "tmp" in text, f"{path.name}: never write output to the repo"

    before = _repository_files()
    notebook = execute(path, tmp_path)
    created = _repository_files() - before
    assert not created, f"{path.name} wrote into the repository: {sorted(map(str, created))}"

    outputs = [out for cell in notebook.cells if cell.cell_type == "code"
               for out in cell.get("outputs", [])]
    errors = [out for out in outputs if out.get("output_type") == "error"]
    assert not errors
    if "plt.show()" in text:  # its figures are made by the code it shows
        images = [out for out in outputs if "image/png" in out.get("data", {})]
        assert images, f"{path.name}: plt.show() displayed no figure"


def test_a_false_check_fails_the_notebook(tmp_path):
    """The harness really runs the cells: a wrong number in a tutorial is an error here."""
    _, nbclient, _ = _notebook_tools()
    probe = tmp_path / "99_probe.py"
    probe.write_text("# %%\nimport sys\nimport chainrule as cr\nprint(sys.executable)\n\n# %%\n"
                     "assert cr.grad(lambda x: x**2)(3.0) == 7.0, 'wrong on purpose'\n")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="wrong on purpose"):
        execute(probe, tmp_path)


def test_the_kernel_is_this_interpreter(tmp_path):
    """The notebooks run in this venv's Python (its python3 kernel spec), not another one."""
    probe = tmp_path / "98_probe.py"
    probe.write_text("# %%\nimport sys\nprint(sys.executable)\n")
    notebook = execute(probe, tmp_path)
    printed = notebook.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()


# git's own store (other worktrees commit into it), the virtual environment and caches
# change under a running suite without any tutorial writing there
_NOT_THE_PROJECT = {".git", ".venv", ".pytest_cache", "__pycache__", ".hypothesis", ".ruff_cache"}


def _repository_files() -> set[str]:
    found = set()
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in _NOT_THE_PROJECT]
        found.update(os.path.join(folder, name) for name in files)
    return found
