"""Run the chapters as a student would, draw their figures, and turn them into notebooks.

    python tutorials/tools/chapters.py run [CHAPTER.md ...]    # each chapter as a plain script, outputs compared
    python tutorials/tools/chapters.py figures [CHAPTER.md ...] # the same, saving figures to tutorials/figures/
    python tutorials/tools/chapters.py notebooks [--out DIR]    # one notebook per chapter (jupytext)

`make figures` and `make notebooks` call the last two; tests/test_tutorials.py uses all three.

A *plain run* is what a student does with a chapter: a fresh Python process (no pytest, no conftest, no
doctest), every `>>>` example executed in order in one namespace, compiled in 'single' mode as the
interactive prompt does (an expression statement prints its repr), its output compared with the text the
chapter shows under it. The comparison is doctest's, with ELLIPSIS and NORMALIZE_WHITESPACE only: no NUMBER,
so a printed float must match to its last digit, unless an example says otherwise (`# doctest: +NUMBER`,
used only where a float's last digit varies with the platform's math library, and said so in the text).
A chapter saves its figures to the folder in the environment variable MINIGRAD_FIGURES (else a temporary
one); `figures` points it at tutorials/figures.
"""
import contextlib
import doctest
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIALS = os.path.dirname(HERE)
ROOT = os.path.dirname(TUTORIALS)
FIGURES = os.path.join(TUTORIALS, "figures")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
CHAPTER = re.compile(r"^\d\d-.*\.md$")


def chapters():
    """The chapter files, in order."""
    return sorted(os.path.join(TUTORIALS, f) for f in os.listdir(TUTORIALS) if CHAPTER.match(f))


def blocks(text):
    """The chapter as a list of ('prose', text) and ('code', text) pieces (```python fences)."""
    out, pos = [], 0
    for m in re.finditer(r"^```python\n(.*?)^```[ \t]*$\n?", text, flags=re.S | re.M):
        if m.start() > pos:
            out.append(("prose", text[pos:m.start()]))
        out.append(("code", m.group(1)))
        pos = m.end()
    if pos < len(text):
        out.append(("prose", text[pos:]))
    return out


def examples(text, name="chapter"):
    """doctest's Examples of every code block, with their line numbers in the chapter."""
    parser = doctest.DocTestParser()
    return parser.get_examples(text, name)


# ---- the plain run (in the child process) ------------------------------------------------------------
def _execute(path):
    """Run the chapter's examples in this process, as a fresh interactive session would, and return the
    results: one dict per example with its line, source, wanted and got output."""
    text = open(path, encoding="utf-8").read()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    results = []
    for ex in examples(text, os.path.basename(path)):
        out = io.StringIO()
        exc = None
        with contextlib.redirect_stdout(out):
            try:
                code = compile(ex.source, f"<{os.path.basename(path)}:{ex.lineno + 1}>", "single")
                exec(code, namespace)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # noqa: BLE001  (the chapter may expect it)
                exc = traceback.format_exception_only(type(e), e)[-1]  # what doctest compares
        results.append({"line": ex.lineno + 1, "source": ex.source, "want": ex.want, "got": out.getvalue(),
                        "exc": exc, "exc_msg": ex.exc_msg, "options": {str(k): v for k, v in ex.options.items()}})
    return results


def _check(result):
    """None when the output matches what the chapter shows, else a report of the difference."""
    checker = doctest.OutputChecker()
    flags = FLAGS
    for flag, on in result["options"].items():
        flag = int(flag)
        flags = flags | flag if on else flags & ~flag
    if result["exc"] is not None:
        if result["exc_msg"] is None:
            return f"raised, but the chapter shows no exception:\n{result['got']}{result['exc']}"
        # as doctest: compare the exception's type and message ("module.ExcType: message\n")
        if checker.check_output(result["exc_msg"], result["exc"], flags):
            return None
        return f"expected the exception\n{result['exc_msg']}got\n{result['exc']}"
    if result["exc_msg"] is not None:
        return f"expected the exception\n{result['exc_msg']}but nothing was raised; output:\n{result['got']}"
    if checker.check_output(result["want"], result["got"], flags):
        return None
    return f"expected:\n{result['want']}got:\n{result['got']}"


def run(path, figures=None, timeout=900):
    """Run chapter `path` as a plain script in a fresh Python process (cwd: a temporary folder). Returns
    (failures, results, figures_dir): failures is a list of (line, source, report)."""
    figures = figures or tempfile.mkdtemp(prefix="minigrad-figures-")
    env = dict(os.environ, MINIGRAD_FIGURES=os.path.abspath(figures), PYTHONHASHSEED="0")
    env.pop("PYTEST_CURRENT_TEST", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else ROOT
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "_execute", os.path.abspath(path)],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"running {os.path.basename(path)} as a plain script crashed:\n{proc.stderr[-4000:]}")
    results = json.loads(proc.stdout.rsplit("\n@@RESULTS@@\n", 1)[1])
    failures = [(r["line"], r["source"], report) for r in results if (report := _check(r)) is not None]
    return failures, results, figures


def format_failures(path, failures):
    lines = []
    for line, source, report in failures:
        lines.append(f"{os.path.basename(path)}, line {line}:\n    >>> " + source.rstrip().replace("\n", "\n    ... "))
        lines.append("    " + report.rstrip().replace("\n", "\n    "))
    return "\n".join(lines)


# ---- notebooks ----------------------------------------------------------------------------------------
def to_jupytext_markdown(text, figures_prefix="../figures/"):
    """The chapter as jupytext Markdown: prose stays, each code block becomes code cells without prompts or
    outputs (a new cell after every example that shows an output, so the notebook shows each one; an example
    that raises on purpose gets its own cell, tagged raises-exception so the notebook runs on)."""
    out = []
    for kind, body in blocks(text):
        if kind == "prose":
            out.append(body.replace("](figures/", f"]({figures_prefix}"))
            continue
        cells, current = [], []
        for ex in doctest.DocTestParser().get_examples(body):
            if ex.exc_msg is not None:
                if current:
                    cells.append(("", current))
                cells.append(('tags=["raises-exception"]', [ex.source]))
                current = []
                continue
            current.append(ex.source)
            if ex.want:
                cells.append(("", current))
                current = []
        if current:
            cells.append(("", current))
        for meta, sources in cells:
            code = "".join(sources).rstrip("\n")
            out.append(f"```python{' ' + meta if meta else ''}\n{code}\n```\n\n")
    return "".join(out)


def notebook(path, out_dir):
    """Write the chapter's notebook to out_dir (jupytext); returns its path."""
    import jupytext
    text = open(path, encoding="utf-8").read()
    nb = jupytext.reads(to_jupytext_markdown(text), fmt="md")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    stem = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, stem + ".ipynb")
    jupytext.write(nb, target, fmt="ipynb")
    return target


def execute_notebook(path, timeout=900):
    """Run a notebook top to bottom in a fresh kernel (nbclient); raises at the first cell that fails."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as cwd:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    return nb


def main(argv):
    if argv and argv[0] == "_execute":
        results = _execute(argv[1])
        sys.stdout.write("\n@@RESULTS@@\n" + json.dumps(results))
        return 0
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command == "notebooks":
        out_dir = os.path.join(TUTORIALS, "notebooks")
        if rest[:1] == ["--out"]:
            out_dir, rest = rest[1], rest[2:]
        for path in rest or chapters():
            print(notebook(path, out_dir))
        return 0
    if command not in ("run", "figures"):
        print(__doc__)
        return 2
    status = 0
    for path in rest or chapters():
        failures, results, figures = run(path, FIGURES if command == "figures" else None)
        print(f"{os.path.basename(path)}: {len(results)} examples, {len(failures)} differ"
              + (f"; figures in {os.path.relpath(figures, ROOT)}" if command == "figures" else ""))
        if failures:
            print(format_failures(path, failures))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
