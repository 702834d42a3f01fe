"""Course mode (minigrad.course): markers, the student copy, the grader, and the properties the issue asks for.

- the untouched project passes 100% of every task;
- a built student copy fails exactly the tasks removed and passes the rest;
- filling the removed regions back from the solutions makes the copy pass 100%, graded as it is (--whole);
- deliberately wrong solutions (tests/course_fixtures/mutants.py) each fail their task with a first message that
  names it; a student's infinite loop, exception at import, sys.exit, syntax error or killed worker costs that
  task only;
- nothing of a removed solution is left in the copy (every removed line is grepped for).

The grading tests run the real grader (a worker process, one child per task), so they take a while.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.course import CourseError, build, grade, load_course, project_files, scan
from minigrad.course import markers
from minigrad.course.spec import Course, Module, Task

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent / "course_fixtures"))
from mutants import HOSTILE, MUTANTS  # noqa: E402

COURSE = load_course()
JOBS = max(2, os.cpu_count() or 2)


# ---- helpers -------------------------------------------------------------------------------------------------------
def regions_of(root, task):
    text = (Path(root) / task.file).read_text(encoding="utf-8")
    return text, [r for r in markers.find_regions(text, task.file) if r.task_id == task.id]


def reference_bodies(task):
    text, regions = regions_of(ROOT, task)
    lines = text.splitlines(keepends=True)
    return ["".join(r.lines(lines)) for r in regions]


def put(student, task, bodies):
    """Write `bodies` (one text per region) between the task's markers in the student's copy."""
    text, regions = regions_of(student, task)
    assert len(regions) == len(bodies), f"task {task.id}: {len(regions)} regions in the copy, {len(bodies)} bodies"
    new = markers.replace_regions(text, task.file, {r: b.splitlines(keepends=True) for r, b in zip(regions, bodies)})
    (Path(student) / task.file).write_text(new, encoding="utf-8")


def mutate(bodies, old, new):
    joined = "\0".join(bodies)
    assert joined.count(old) >= 1, f"the mutant's text {old!r} is not in the region any more; update mutants.py"
    return joined.replace(old, new, 1).split("\0")


def copy_project(dst):
    """The instructor's project (what `course build` reads) copied to dst, build artifacts left out."""
    keep = Course("copy", "copy", [Module(1, "m")], [], exclude=(".git/", "__pycache__/", "*.pyc", ".venv/",
                                                                 ".pytest_cache/", ".hypothesis/", "*.egg-info/",
                                                                 ".ruff_cache/", "benchmarks/"))
    for rel in project_files(ROOT, keep):
        target = Path(dst) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, target)
    return Path(dst)


def run_grade(student, **kwargs):
    kwargs.setdefault("jobs", JOBS)
    kwargs.setdefault("results", None)
    return grade(COURSE, str(student), solution=str(ROOT), **kwargs)


@pytest.fixture(scope="module")
def copy_partial(tmp_path_factory):
    """The student copy of the issue's example: --tasks 1.1-1.6,2.*"""
    out = tmp_path_factory.mktemp("course") / "student"
    report = build(COURSE, str(ROOT), str(out), tasks="1.1-1.6,2.*")
    return out, report


@pytest.fixture(scope="module")
def copy_all(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "all"
    report = build(COURSE, str(ROOT), str(out), tasks="all")
    return out, report


# ---- the course ----------------------------------------------------------------------------------------------------
def test_the_default_course_has_modules_tasks_hints_and_tests():
    assert len(COURSE.modules) >= 4 and len(COURSE.tasks) >= 20
    for t in COURSE.tasks:
        assert t.hint.strip() and t.difficulty in ("easy", "medium", "hard") and t.points > 0
    text = {p: Path(p).read_text() for p in COURSE.test_files() + COURSE.test_files(hidden=True)}
    for t in COURSE.tasks:
        mark = rf'@task\("{re.escape(t.id)}"\)'
        visible = sum(len(re.findall(mark, s)) for p, s in text.items() if "hidden" not in p)
        hidden = sum(len(re.findall(mark, s)) for p, s in text.items() if "hidden" in p)
        assert visible >= 2 and hidden >= 1, f"task {t.id}: {visible} visible and {hidden} hidden tests"
        assert len(MUTANTS[t.id]) >= 2, f"task {t.id}: fewer than two wrong solutions in the mutation test"
    found = scan(str(ROOT), COURSE)
    assert set(found) == {t.id for t in COURSE.tasks}


def test_task_selection():
    ids = [t.id for t in COURSE.select("1.1-1.6,2.*")]
    assert ids == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"] + [t.id for t in COURSE.module_tasks(2)]
    assert [t.id for t in COURSE.select("3")] == [t.id for t in COURSE.module_tasks(3)]
    assert len(COURSE.select("all")) == len(COURSE.tasks)
    for bad, said in (("1.99", "no task 1.99"), ("9.*", "matches no task"), ("1.4-1.2", "backwards"),
                      ("7", "no module")):
        with pytest.raises(CourseError, match=re.escape(said)):
            COURSE.select(bad)


@pytest.mark.parametrize("text, said", [
    ("def f():\n    # task 1.1: a\n    x = 1\n", "never closed"),
    ("def f():\n    # end task\n", "without a `# task"),
    ("def f():\n    # task 1.1: a\n    # task 1.2: b\n    x = 1\n    # end task\n", "starts inside task 1.1"),
    ("def f():\n    # task 1.1: a\n\n    # end task\n", "empty"),
    ("def f():\n    # task 1.1 a\n    x = 1\n    # end task\n", "must read"),
    ("def f():\n    # Task 1.1: a\n    x = 1\n    # end task\n", "must read"),
])
def test_malformed_markers_are_errors_that_name_the_line(text, said):
    with pytest.raises(CourseError, match=re.escape(said)):
        markers.find_regions(text, "m.py")


def test_stubs_fit_function_bodies_and_lambda_lines():
    task = Task("1.1", "a", "m.py", hint="do it", difficulty="easy")
    text = ("class A:\n    # task 1.1: a\n    f = lambda g, y=2: g * y\n    # end task\n\n"
            "def h(x):\n    # task 1.1: a\n    return x\n    # end task\n")
    regions = markers.find_regions(text, "m.py")
    new = markers.replace_regions(text, "m.py", {r: markers.stub_lines(task, r, text) for r in regions})
    namespace = {}
    exec(compile(new, "m.py", "exec"), namespace)
    for call in (lambda: namespace["A"].f(1), lambda: namespace["h"](1)):
        with pytest.raises(NotImplementedError, match=r"task 1\.1: a \(easy\)\. Hint: do it"):
            call()
    bad = "class B:\n    # task 1.1: a\n    x = 3\n    # end task\n"
    with pytest.raises(CourseError, match="not inside a function body"):
        markers.stub_lines(task, markers.find_regions(bad, "m.py")[0], bad)


def test_a_missing_marker_is_a_clear_error(tmp_path):
    project = copy_project(tmp_path / "project")
    path = project / "minigrad" / "ste.py"
    text = path.read_text()  # someone reshaped the file and dropped task 3.5's two marker lines
    start = text.index("        # task 3.5: tanh surrogate\n")
    end = text.index("        # end task\n", start)
    path.write_text(text[:start] + text[start:end].split("\n", 1)[1] + text[end + len("        # end task\n"):])
    with pytest.raises(CourseError, match=r"task 3\.5 \(tanh surrogate\): no `# task 3\.5: tanh surrogate` marker in "
                                          r"minigrad/ste\.py"):
        scan(str(project), COURSE)


# ---- the student copy ----------------------------------------------------------------------------------------------
def test_the_student_copy(copy_partial):
    out, report = copy_partial
    assert [t.id for t in report.tasks] == [t.id for t in COURSE.select("1.1-1.6,2.*")]
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert not any(f.endswith((".pyc", ".pyo")) or "__pycache__" in f or f.startswith(".git/") for f in files)
    assert not any(f.startswith(("minigrad/course", "benchmarks", ".ci", "minigrad/interop/torch_")) for f in files)
    assert {"README.md", "assignment.json", "setup.cfg", "conftest.py", "tests/tasks/_kit.py",
            "tutorials/01-autograd-from-scratch.md"} <= files
    assert {f for f in files if f.startswith("tests/")} == {f"tests/tasks/{os.path.basename(p)}"
                                                             for p in COURSE.test_files()} | {"tests/tasks/_kit.py"}
    manifest = json.loads((out / "assignment.json").read_text())
    assert manifest["assigned"] == [t.id for t in report.tasks]
    readme = (out / "README.md").read_text()
    for t in report.tasks:
        text, regions = regions_of(out, t)
        stub = "".join("".join(r.lines(text.splitlines(keepends=True))) for r in regions)
        assert "raise NotImplementedError(" in stub and f"task {t.id}: {t.title}" in stub
        assert re.sub(r'"\s+"', "", stub).count(t.hint.split(".")[0][:40]) >= 1
        assert f"| {t.id} | {t.title} |" in readme
    for t in COURSE.tasks:
        if t not in report.tasks:
            assert regions_of(out, t)[1] and reference_bodies(t) == [
                "".join(r.lines(regions_of(out, t)[0].splitlines(keepends=True))) for r in regions_of(out, t)[1]]


def test_nothing_of_a_removed_solution_is_left(copy_all):
    """grep the copy for every removed line: it may only appear where the same code stays in the project anyway."""
    out, report = copy_all
    kept = []  # the project's code outside every region (what a student sees regardless)
    for rel in project_files(ROOT, COURSE):
        if not rel.endswith(".py"):
            continue
        text = (ROOT / rel).read_text(encoding="utf-8")
        inside = set()
        for r in markers.find_regions(text, rel):
            inside.update(range(r.start, r.end))
        kept.append("".join(line for i, line in enumerate(text.splitlines(keepends=True)) if i not in inside))
    kept = "".join(kept)
    removed = {line.strip() for t in COURSE.tasks for body in reference_bodies(t) for line in body.splitlines()
               if line.strip()}
    assert len(removed) > 100
    grep = subprocess.run(["grep", "-rIFn", "-f", "-", str(out)], input="\n".join(sorted(removed)), text=True,
                          capture_output=True)
    for hit in grep.stdout.splitlines():
        line = hit.split(":", 2)[2]
        leaked = [r for r in removed if r in line and r not in kept]
        assert not leaked, f"removed solution text left in the copy: {hit}"


def test_a_leak_stops_the_build(tmp_path):
    project = copy_project(tmp_path / "project")
    tutorial = project / "tutorials" / "02-testing-gradient-rules.md"
    tutorial.write_text(tutorial.read_text() + "\n    num[idx] = (plus - minus) / (2 * eps)\n")
    with pytest.raises(CourseError, match=r"tutorials/02-testing-gradient-rules\.md:\d+: 'num\[idx\] = "):
        build(COURSE, str(project), str(tmp_path / "out"), tasks="2.1")


def test_a_copy_as_a_fresh_repository_has_no_history(tmp_path):
    out = tmp_path / "repo"
    build(COURSE, str(ROOT), str(out), tasks="1.3", git=True)
    log = subprocess.run(["git", "-C", str(out), "log", "--oneline"], capture_output=True, text=True, check=True)
    status = subprocess.run(["git", "-C", str(out), "status", "--porcelain"], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1 and status.stdout == ""
    shown = subprocess.run(["git", "-C", str(out), "log", "-p", "--all"], capture_output=True, text=True, check=True)
    assert "vjp = lambda g, y: g * (1 - y * y)" not in shown.stdout


def test_build_refuses_to_overwrite(copy_partial, tmp_path):
    (tmp_path / "x").write_text("mine")
    with pytest.raises(CourseError, match="not empty"):
        build(COURSE, str(ROOT), str(tmp_path), tasks="1.1")
    out, _ = copy_partial
    with pytest.raises(CourseError, match="--force"):
        build(COURSE, str(ROOT), str(out), tasks="1.1")


# ---- grading -------------------------------------------------------------------------------------------------------
def test_the_untouched_project_passes_every_task(tmp_path):
    report = run_grade(ROOT, results=str(tmp_path / "results.json"))
    failed = {r.task.id: r.summary for r in report.results if r.score != r.max_score}
    assert not failed, failed
    assert len(report.results) == len(COURSE.tasks) and all(r.total >= 3 for r in report.results)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == sum(t.points for t in COURSE.tasks)
    assert len(results["tests"]) == len(COURSE.tasks)
    for entry, task in zip(results["tests"], COURSE.tasks):
        assert {"name", "score", "max_score", "output"} <= set(entry)
        assert entry["number"] == task.id and entry["status"] == "passed" and entry["score"] == task.points
    print(f"\nthe untouched project: {len(report.results)} tasks, "
          f"{sum(r.total for r in report.results)} tests, graded in {report.seconds:.1f} s")


def test_a_copy_fails_exactly_the_removed_tasks(copy_partial):
    out, build_report = copy_partial
    report = run_grade(out, tasks="all")
    removed = {t.id for t in build_report.tasks}
    for r in report.results:
        if r.task.id in removed:
            assert r.score == 0 and r.passed == 0, (r.task.id, r.output)
            assert r.summary.startswith(f"task {r.task.id} ({r.task.title}): not written yet"), r.summary
        else:
            assert r.score == r.max_score, (r.task.id, r.output)
    print(f"\nbuild {build_report.seconds:.1f} s; grading {len(report.results)} tasks of the copy: "
          f"{report.seconds:.1f} s")


def test_filling_the_regions_back_passes_everything_graded_as_is(copy_all, tmp_path):
    out, _ = copy_all
    student = tmp_path / "filled"
    shutil.copytree(out, student)
    for task in COURSE.tasks:
        put(student, task, reference_bodies(task))
    report = run_grade(student, whole=True, results=str(tmp_path / "r.json"))
    failed = {r.task.id: r.summary for r in report.results if r.score != r.max_score}
    assert not failed, failed
    assert json.loads((tmp_path / "r.json").read_text())["score"] == sum(t.points for t in COURSE.tasks)


@pytest.mark.parametrize("round_", range(max(len(m) for m in MUTANTS.values())))
def test_wrong_solutions_fail_their_task_with_a_message_that_names_it(copy_all, tmp_path, round_):
    out, _ = copy_all
    student = tmp_path / "mutated"
    shutil.copytree(out, student)
    mutated = {}
    for task in COURSE.tasks:
        bodies = reference_bodies(task)
        if round_ < len(MUTANTS[task.id]):
            what, old, new, phrase = MUTANTS[task.id][round_]
            bodies = mutate(bodies, old, new)
            mutated[task.id] = (what, phrase)
        put(student, task, bodies)
    report = run_grade(student, tasks=",".join(mutated))
    for r in report.results:
        what, phrase = mutated[r.task.id]
        assert r.score < r.max_score, f"task {r.task.id}: the wrong solution '{what}' passed every test"
        assert r.summary.startswith(f"task {r.task.id} ({r.task.title}): "), (what, r.summary)
        if phrase:
            assert phrase in r.output, (r.task.id, what, r.output)


def test_a_student_cannot_break_the_grader(copy_all, tmp_path):
    out, _ = copy_all
    student = tmp_path / "hostile"
    shutil.copytree(out, student)
    for task in COURSE.tasks:
        put(student, task, [HOSTILE[task.id][1]] if task.id in HOSTILE else reference_bodies(task))
    clean = ["2.4", "3.2", "4.6"]
    report = run_grade(student, tasks=",".join(sorted(HOSTILE) + clean), timeout=40)
    by_id = report.by_id()
    for task_id, (what, _, phrase) in HOSTILE.items():
        r = by_id[task_id]
        assert r.score == 0, (task_id, what, r.output)
        assert r.summary.startswith(f"task {task_id} (") and phrase in r.output, (task_id, what, r.output)
    for task_id in clean:
        assert by_id[task_id].score == by_id[task_id].max_score, by_id[task_id].output


def test_the_other_ways_to_run_a_task(copy_partial):
    """A fresh import per task instead of patching the shared one, and no fork (Windows), grade the same; --whole
    grades the folder as it is, where every task needs the engine (task 1.1, removed in this copy)."""
    out, _ = copy_partial
    for kwargs in (dict(mode="import"), dict(fork=False)):
        report = run_grade(out, tasks="1.3,3.2", **kwargs)
        got = {r.task.id: r.score for r in report.results}
        assert got == {"1.3": 0.0, "3.2": 1.0}, (kwargs, {r.task.id: r.output for r in report.results})
    whole = run_grade(out, tasks="1.3,3.2", whole=True).by_id()
    assert whole["1.3"].score == 0 and whole["3.2"].score < 1, whole["3.2"].output
    assert "it needs task 1.1, which still raises NotImplementedError" in whole["3.2"].output


def test_the_student_runs_the_tests_of_a_task(copy_partial, tmp_path):
    out, _ = copy_partial
    env = dict(os.environ, PYTHONPATH=str(out), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--task"]  # testpaths: tests/tasks
    failing = subprocess.run(cmd + ["1.1"], cwd=out, env=env, capture_output=True, text=True)
    assert failing.returncode == 1 and "task 1.1 (topological order): not written yet" in failing.stdout, failing.stdout
    needs = subprocess.run(cmd + ["1.3"], cwd=out, env=env, capture_output=True, text=True)  # done alone, 1.3 needs 1.1
    assert "task 1.3 (tanh backward): it needs task 1.1, which still raises NotImplementedError" in needs.stdout
    filled = tmp_path / "filled"
    shutil.copytree(out, filled)
    for task in COURSE.select("1.1-1.3"):  # tanh's second derivative multiplies: 1.2
        put(filled, task, reference_bodies(task))
    passing = subprocess.run(cmd + ["1.3", "--task", "1.1"], cwd=filled, env=dict(env, PYTHONPATH=str(filled)),
                             capture_output=True, text=True)
    assert passing.returncode == 0 and "[100%]" in passing.stdout, passing.stdout
    assert not list(out.rglob("__pycache__"))  # the copy stays as built


def test_the_command_line(copy_partial, tmp_path):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    listed = subprocess.run([sys.executable, "-m", "minigrad", "course", "list"], capture_output=True, text=True,
                            env=env, cwd=ROOT)
    assert listed.returncode == 0 and "27 tasks" in listed.stdout and "1.3   tanh backward" in listed.stdout
    refused = subprocess.run([sys.executable, "-m", "minigrad", "course", "build", str(tmp_path), "--tasks", "1.99"],
                             capture_output=True, text=True, env=env, cwd=ROOT)
    assert refused.returncode == 1 and "no task 1.99" in refused.stderr
    not_a_checkout = subprocess.run([sys.executable, "-m", "minigrad", "course", "list", "--source", str(tmp_path)],
                                    capture_output=True, text=True, env=env, cwd=ROOT)
    assert not_a_checkout.returncode == 1 and "is not a source checkout of minigrad" in not_a_checkout.stderr
    out, _ = copy_partial
    graded = subprocess.run([sys.executable, "-m", "minigrad", "course", "grade", str(out), "--tasks", "3.3",
                             "--results", str(tmp_path / "results.json")], capture_output=True, text=True, env=env,
                            cwd=ROOT)
    assert graded.returncode == 0 and "total 1/1 (100%)" in graded.stdout, graded.stdout + graded.stderr
    student = subprocess.run([sys.executable, "-m", "minigrad", "course", "list"], capture_output=True, text=True,
                             env=dict(env, PYTHONPATH=str(out)), cwd=out)
    assert student.returncode == 2 and "no course tools" in student.stderr
