"""The README of a student copy: what to do, the tasks, the house rules, how to test and how grading works."""
import os

from . import markers

__all__ = ["student_readme"]


def _where(out, task):
    path = os.path.join(out, *task.file.split("/"))
    try:
        with open(path, encoding="utf-8") as f:
            regions = [r for r in markers.find_regions(f.read(), task.file) if r.task_id == task.id]
    except OSError:
        return task.file
    return ", ".join(f"`{task.file}:{r.marker + 1}`" for r in regions) or task.file


def student_readme(course, chosen, out):
    points = sum(t.points for t in chosen)
    lines = [f"# {course.title}", ""]
    if course.intro:
        lines += [course.intro.strip(), ""]
    lines += [
        f"This folder is a complete copy of minigrad, a reverse-mode autodiff engine over NumPy with PyTorch's "
        f"API, with {len(chosen)} pieces taken out for you to write ({points:g} points). Each piece is a region "
        "of the source between two comment lines, and it raises `NotImplementedError` with a hint until you "
        "write it:",
        "",
        "```python",
        "    # task 1.3: tanh backward",
        "    raise NotImplementedError(\"task 1.3: tanh backward (easy; ...). Hint: ...\")",
        "    # end task",
        "```",
        "",
        "Replace the `raise` with your code and keep the two marker lines: the grader finds your code between "
        "them.",
        "",
        "## Your tasks",
        "",
    ]
    for module in course.modules:
        tasks = [t for t in chosen if t.module == module.number]
        if not tasks:
            continue
        lines += [f"### {module.number}. {module.title}", ""]
        if module.summary:
            lines += [module.summary.strip(), ""]
        if module.tutorial:
            lines += [f"Read first: [{module.tutorial}]({module.tutorial}).", ""]
        lines += ["| task | what | difficulty | points | where |", "| --- | --- | --- | --- | --- |"]
        for t in tasks:
            lines.append(f"| {t.id} | {t.title} | {t.difficulty} | {t.points:g} | {_where(out, t)} |")
        lines.append("")
        lines += [f"- **{t.id} {t.title}**" + (f" ({t.tutorial})" if t.tutorial else "") + f": {t.hint.strip()}"
                  for t in tasks]
        lines.append("")
    lines += [
        "The hints are also in the `raise` lines of the stubs.",
        "",
        "## Rules of the house",
        "",
        "- **One rule, two executions.** A backward rule runs on plain NumPy arrays in the common case, and on "
        "minigrad Tensors when someone asks for second derivatives (`create_graph=True`). So write it with "
        "operators (`+ - * / ** @`), the methods arrays and Tensors share (`.sum(axis=, keepdims=)`, "
        "`.reshape`, `.T`, `.mT`, indexing) and the functions of `minigrad.ops.xp` (`xp.exp`, `xp.tanh`, "
        "`xp.where`, ...), which work on both. `np.tanh(t)` on a Tensor fails; `t.tanh()` on an array fails.",
        "- **A gradient has its input's shape and dtype.** An input that was broadcast gets its gradient summed "
        "back (`unbroadcast(g, like)`); constants in rules are Python floats (`2.0`, not `np.float64(2)`), so "
        "a float32 graph stays float32.",
        "- **Read the tutorial of each module first** (`tutorials/`): the tasks follow them.",
        "",
        "## Testing your work",
        "",
        "```sh",
        "python -m pip install -e '.[test]'",
        "python -m pytest tests/tasks --task 1.3     # the tests of one task (1.*, 1.1-1.4 work too)",
        "python -m pytest tests/tasks               # all of them",
        "python -m pytest tutorials                 # the chapters, once your tasks are done",
        "```",
        "",
        "A failing test says first which task failed and how, e.g. `task 1.3 (tanh backward): gradcheck "
        "failed at x=[...] (max error 0.42)`, then the numbers. Here, in your copy, tasks build on each other "
        "(every gradient runs the engine of task 1.1, many rules multiply, ...): when a test fails because another "
        "task is not done yet, it says so (`it needs task 1.1, which still raises NotImplementedError`). The "
        "grader does not mix them up (below).",
        "",
        "## How you are graded",
        "",
        "- Each task on its own: your code between its markers is put into the reference project, where every "
        "other task holds a working solution. A mistake in one task never costs you another, and code you "
        "write outside the markers is not graded: keep helpers inside your region (the imports at the top of "
        "each file are there for you).",
        "- The tests are the ones in `tests/tasks/` (the grader uses its own copy of them: changing yours changes "
        "nothing) plus hidden ones of the same kind (other inputs, edge cases, float32, second derivatives).",
        "- Each task's tests run with a time limit; a task scores the fraction of its tests that pass times its "
        "points.",
        "",
    ]
    return "\n".join(lines)
