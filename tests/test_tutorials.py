"""The tutorials as a student meets them (issue 11).

- each chapter runs as a plain script, in a fresh Python process (no pytest, no doctest, no conftest), and
  prints what the chapter shows (compared without doctest's NUMBER option);
- the figures a chapter draws are the ones committed in tutorials/figures/ ("current");
- every chapter has a figure, 3 to 5 exercises, and a solution for each in tutorials/solutions/, which runs;
- every chapter becomes a notebook (jupytext) that runs top to bottom in a fresh kernel (nbclient).

pytest also runs the chapters as doctests (setup.cfg's --doctest-glob), in this process.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "tutorials")
_spec = importlib.util.spec_from_file_location("tutorial_tools", os.path.join(TUTORIALS, "tools", "chapters.py"))
tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tools)

CHAPTERS = tools.chapters()
NAMES = [os.path.basename(p) for p in CHAPTERS]
SOLUTIONS = sorted(f for f in os.listdir(os.path.join(TUTORIALS, "solutions")) if f.endswith(".py") and not f.startswith("_"))
_RUNS = {}


def _plain_run(path, tmp_path_factory):
    """One plain run per chapter, shared by the tests that read it."""
    if path not in _RUNS:
        figures = tmp_path_factory.mktemp("figures-" + os.path.basename(path)[:2])
        _RUNS[path] = tools.run(path, str(figures))
    return _RUNS[path]


def _text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_the_chapters_are_numbered_in_order():
    assert [n[:2] for n in NAMES] == [f"{i:02d}" for i in range(1, len(NAMES) + 1)]
    readme = _text(os.path.join(os.path.dirname(__file__), "..", "README.md"))
    assert [name for name in NAMES if f"](tutorials/{name})" not in readme] == [], "chapters the README does not list"


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_chapter_runs_as_a_plain_script(path, tmp_path_factory):
    failures, results, _ = _plain_run(path, tmp_path_factory)
    assert results, "no examples found"
    assert not failures, "\n" + tools.format_failures(path, failures)


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_first_block_sets_what_outputs_depend_on(path):
    first = next(body for kind, body in tools.blocks(_text(path)) if kind == "code")
    assert "mg.manual_seed(" in first and "np.set_printoptions(" in first and "MINIGRAD_FIGURES" in first


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_number_option_only_where_marked(path):
    """NUMBER (compare floats to the precision written) only where a last digit varies with the platform, and
    the chapter says so next to it."""
    text = _text(path)
    for m in re.finditer(r"doctest: \+NUMBER", text):
        around = text[max(0, m.start() - 1500):m.end() + 1500]
        assert "last digit" in around, f"{os.path.basename(path)}: +NUMBER without saying why"


# ---- figures --------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _creator(svg):
    m = re.search(r"Matplotlib v([\w.]+)", svg)
    return m.group(1) if m else None


def _figure_difference(new, old):
    """None when the regenerated figure `new` is the committed `old`: the same bytes, or (when a float's last
    digits differ, e.g. another BLAS) the same text with every number within 0.01 (absolute) or 1e-4
    (relative). A string saying what differs otherwise."""
    if new == old:
        return None
    a, b = _NUMBER.split(new), _NUMBER.split(old)
    if a != b:
        return "the drawing differs (not only in numbers)"
    na, nb = [float(x) for x in _NUMBER.findall(new)], [float(x) for x in _NUMBER.findall(old)]
    worst = max((abs(x - y) for x, y in zip(na, nb) if abs(x - y) > max(0.01, 1e-4 * abs(y))), default=None)
    return None if worst is None else f"numbers differ by up to {worst:g}"


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_figures_are_current(path, tmp_path_factory):
    """The chapter's code redraws its figures; the committed ones in tutorials/figures/ must be those (run
    `make figures` after changing a chapter). matplotlib SVGs are compared byte for byte when drawn by the
    matplotlib version that drew the committed ones; otherwise only their text (titles, labels, ticks)."""
    _, _, figures = _plain_run(path, tmp_path_factory)
    made = sorted(os.listdir(figures))
    linked = sorted(set(re.findall(r"\]\(figures/([^)]+)\)", _text(path))))
    assert made, "the chapter drew no figure"
    assert made == linked, f"drawn {made}, shown in the chapter {linked}"
    stale = []
    for name in made:
        committed = os.path.join(TUTORIALS, "figures", name)
        if not os.path.exists(committed):
            stale.append(f"{name}: not committed")
            continue
        new, old = _text(os.path.join(figures, name)), _text(committed)
        if _creator(old) and _creator(new) != _creator(old):
            text = lambda svg: re.findall(r">([^<>]+)</text>", svg)  # noqa: E731
            if text(new) != text(old):
                stale.append(f"{name}: its text differs (drawn with matplotlib {_creator(new)}, "
                             f"committed with {_creator(old)})")
            continue
        why = _figure_difference(new, old)
        if why:
            stale.append(f"{name}: {why}")
    assert not stale, "figures not current (run `make figures`):\n" + "\n".join(stale)


def test_every_committed_figure_belongs_to_a_chapter():
    linked = {name for p in CHAPTERS for name in re.findall(r"\]\(figures/([^)]+)\)", _text(p))}
    committed = {f for f in os.listdir(os.path.join(TUTORIALS, "figures")) if not f.startswith(".")}
    assert committed == linked


# ---- exercises ------------------------------------------------------------------------------------------
def _exercises(path):
    text = _text(path)
    assert "\n## Exercises\n" in text, "no Exercises section"
    section = text.split("\n## Exercises\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\d+\. \*\*(.+?)\*\*.*?\(solution: \[solutions/([\w.-]+)\]", section, flags=re.M | re.S)


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_each_chapter_ends_with_three_to_five_graded_exercises(path):
    found = _exercises(path)
    assert 3 <= len(found) <= 5, found
    levels = [title.split(")")[0] for title, _ in found]
    assert all(level.startswith("(") for level in levels), "each exercise says its level: (warm-up), ..."
    for _, solution in found:
        assert os.path.exists(os.path.join(TUTORIALS, "solutions", solution)), solution


def test_every_solution_belongs_to_an_exercise():
    linked = sorted(s for p in CHAPTERS for _, s in _exercises(p))
    assert linked == SOLUTIONS


@pytest.mark.parametrize("solution", SOLUTIONS)
def test_solution_runs(solution):
    """A solution is a script that checks itself (asserts); it runs in a fresh process as a student would."""
    proc = subprocess.run([sys.executable, os.path.join(TUTORIALS, "solutions", solution)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# ---- notebooks ------------------------------------------------------------------------------------------
def test_notebooks_keep_every_example(tmp_path):
    pytest.importorskip("jupytext")
    import nbformat
    for path in CHAPTERS:
        nb = nbformat.read(tools.notebook(path, str(tmp_path)), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for ex in tools.examples(_text(path)):
            assert ex.source.rstrip("\n") in code
        assert ">>>" not in code
        raising = [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])]
        assert len(raising) == sum(ex.exc_msg is not None for ex in tools.examples(_text(path)))


@pytest.mark.parametrize("path", CHAPTERS, ids=NAMES)
def test_notebook_runs_in_a_fresh_kernel(path, tmp_path):
    for module in ("jupytext", "nbclient", "ipykernel"):
        pytest.importorskip(module, reason=f"{module} is in the test extra: pip install -e '.[test]'")
    nb = tools.execute_notebook(tools.notebook(path, str(tmp_path)))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" and "raises-exception" not in c.metadata.get("tags", [])]
    assert not errors
