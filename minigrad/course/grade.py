"""`python -m minigrad course grade STUDENT_DIR`: each task's tests in a child process, a score table and
`results.json` in Gradescope's autograder format.

Each task is graded on its own: the student's code between that task's markers is spliced into the
reference project (the instructor's, where every other region holds its solution), so a mistake in one task
never costs another, and code outside the markers cannot change a grade. The task's tests are the visible
ones the student has and the course's hidden ones. They run in a child of a worker process (`_worker.py`)
that imported NumPy, pytest, Hypothesis and the reference minigrad once; a child that loops forever is
killed at the time limit, and a child that exits, crashes or kills its worker costs its own task only.
`--whole` grades the student's folder as it is instead (tasks then depend on each other).
"""
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from . import markers
from .build import MANIFEST, KIT, scan
from .spec import CourseError

__all__ = ["grade", "GradeReport", "TaskResult", "reference_root"]

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")


def reference_root():
    """The project this minigrad was imported from (the folder that holds the minigrad package)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclasses.dataclass
class TaskResult:
    task: object
    score: float
    max_score: float
    passed: int
    total: int
    summary: str          # the first failure's first line ('' when every test passed)
    output: str           # what the student reads
    seconds: float
    how: str = ""

    @property
    def status(self):
        return "passed" if self.total and self.passed == self.total else "failed"


@dataclasses.dataclass
class GradeReport:
    results: list
    seconds: float
    results_path: str = None

    @property
    def score(self):
        return round(sum(r.score for r in self.results), 4)

    @property
    def max_score(self):
        return sum(r.max_score for r in self.results)

    def by_id(self):
        return {r.task.id: r for r in self.results}

    def table(self):
        rows = [("task", "title", "difficulty", "tests", "score")]
        for r in self.results:
            rows.append((r.task.id, r.task.title, r.task.difficulty, f"{r.passed}/{r.total}",
                         f"{r.score:g}/{r.max_score:g}"))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                 for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        pct = 100 * self.score / self.max_score if self.max_score else 0.0
        lines.append("  ".join("-" * w for w in widths))
        lines.append(f"total {self.score:g}/{self.max_score:g} ({pct:.0f}%), {len(self.results)} tasks graded in "
                     f"{self.seconds:.1f} s")
        failed = [r for r in self.results if r.summary]
        if failed:
            lines += ["", "first failure of each task that lost points:"] + [f"  {r.summary}" for r in failed]
        return "\n".join(lines)

    def gradescope(self):
        """Gradescope's results.json: one test entry per task (name, number, score, max_score, status, output)."""
        tests = []
        for r in self.results:
            tests.append({"name": f"task {r.task.id}: {r.task.title}", "number": r.task.id, "score": r.score,
                          "max_score": r.max_score, "status": r.status, "output": r.output,
                          "tags": [f"module {r.task.module}", r.task.difficulty], "visibility": "visible",
                          "extra_data": {"tests": r.total, "passed": r.passed, "seconds": round(r.seconds, 3)}})
        return {"score": self.score, "execution_time": round(self.seconds, 3), "output": self.table(),
                "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


# ---- splicing a student's region into the reference --------------------------------------------------
def _read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _module_name(path):
    parts = path[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def splice(task, reference, student, ref_regions):
    """The job's splices (one per file: the reference file with this task's regions taken from the student's
    file) and the line map, or a message saying why the student's regions cannot be found."""
    path = os.path.join(student, *task.file.split("/"))
    if not os.path.isfile(path):
        return None, f"{task.file} is missing from the submission"
    text = _read(path)
    try:
        mine = [r for r in markers.find_regions(text, task.file) if r.task_id == task.id]
    except CourseError as e:
        return None, f"the task markers in {task.file} are broken ({e}); the grader finds your code between them"
    if not mine:
        return None, (f"the markers `# task {task.id}: {task.title}` and `# end task` are missing from {task.file}; "
                      "put them back around your code (the grader takes your code from between them)")
    if len(mine) != len(ref_regions):
        return None, (f"{task.file} has {len(mine)} regions marked for task {task.id}, the assignment "
                      f"{len(ref_regions)}; restore the markers as they were")
    ref_text = _read(os.path.join(reference, *task.file.split("/")))
    lines, student_lines = ref_text.splitlines(keepends=True), text.splitlines(keepends=True)
    out, regions, i = [], [], 0
    for ref, own in zip(sorted(ref_regions, key=lambda r: r.marker), mine):
        out += lines[i:ref.start]
        body = student_lines[own.start:own.end]
        if body and not body[-1].endswith("\n"):
            body[-1] += "\n"
        regions.append([len(out) + 1, len(body), own.start + 1])
        out += body
        i = ref.end
    out += lines[i:]
    virtual = f"{os.path.join(reference, *task.file.split('/'))} [task {task.id}]"
    real = os.path.join(reference, *task.file.split("/"))
    return {"module": _module_name(task.file), "path": task.file, "real": real, "virtual": virtual,
            "text": "".join(out), "regions": regions}, None


_TASK_MARK = re.compile(r"""\btask\(\s*["']([0-9.]+)["']""")


def _task_mentions(paths):
    """{test file: the task ids it marks}: each task's run collects only the files that hold its tests."""
    return {p: set(_TASK_MARK.findall(_read(p))) for p in paths}


# ---- running the worker -----------------------------------------------------------------------------------
def _run_round(config, tmp, jobs_in_round, parallel, timeout, log):
    """One worker process over some jobs; returns (ids started without a result, worker exit code, stderr)."""
    cfg = dict(config, tasks=jobs_in_round, jobs=parallel)
    path = os.path.join(tmp, f"config-{len(os.listdir(tmp))}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", HYPOTHESIS_STORAGE_DIRECTORY=os.path.join(tmp, "hypothesis"))
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen([sys.executable, WORKER, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env, cwd=tmp, text=True, start_new_session=True)
    started, done, err = [], set(), []

    def read_out():
        for line in proc.stdout:
            word, _, tid = line.strip().partition(" ")
            if word == "start":
                started.append(tid)
            elif word == "done":
                done.add(tid)
                if log:
                    log(f"  graded task {tid}")

    def read_err():
        err.append(proc.stderr.read())

    readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for t in readers:
        t.start()
    limit = 60 + math.ceil(len(jobs_in_round) / parallel) * (timeout + 10)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:  # the worker itself hangs (stopped by a task?): end it and its children
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            proc.kill()
        proc.wait()
    for t in readers:
        t.join(timeout=5)
    lost = [tid for tid in started if not os.path.exists(os.path.join(tmp, f"result-{tid}.json"))]
    return lost, proc.returncode, "".join(err)


def _run_all(config, tmp, jobs, parallel, timeout, log):
    """Run every job. When a worker dies, the jobs it was running are run again alone (one worker each): the
    one that takes its worker down again is charged for it; the jobs it never started run in a new worker."""
    todo, first = list(jobs), True
    while todo:
        lost, code, err = _run_round(config, tmp, todo, parallel, timeout, log)
        done = [j for j in todo if os.path.exists(j["result"])]
        if first and not done and not lost and code:
            raise CourseError(f"the grader's worker failed before grading anything (exit status {code}); is the "
                              f"reference project importable?\n{err[-3000:]}")
        first = False
        for job in [j for j in todo if j["id"] in lost]:
            _run_round(config, tmp, [job], 1, timeout, log)
            if not os.path.exists(job["result"]):
                _write_lost(job, code)
        left = [j for j in todo if not os.path.exists(j["result"])]
        if len(left) == len(todo):  # no progress at all: give up on these rather than loop
            for job in left:
                _write_lost(job, code)
            left = []
        todo = left


def _write_lost(job, code):
    why = ("the tests stopped the grader's worker process itself (exit status "
           f"{code}): the code killed its parent process or the whole process group")
    with open(job["result"], "w", encoding="utf-8") as f:
        json.dump({"id": job["id"], "tests": [], "errors": [{"name": "worker", "summary": why, "message": why}],
                   "seconds": 0.0, "crashed": True}, f)


# ---- scores -------------------------------------------------------------------------------------------------
def _score(task, result, hidden_names):
    tests, errors = result.get("tests", []), result.get("errors", [])
    label = task.label
    total = len(tests) + len(errors)
    passed = sum(t["outcome"] == "passed" for t in tests)
    seconds = float(result.get("seconds", 0.0))
    if total == 0:
        summary = f"{label}: no test of the course checks this task (a course without tests for it?)"
        return TaskResult(task, 0.0, task.points, 0, 0, summary, summary, seconds, result.get("how", ""))

    def name(entry):
        base = entry["name"].split("::")[0]
        return "a hidden test" if base in hidden_names else entry["name"]

    def said(entry):
        s = entry.get("summary") or "failed"
        return s if s.startswith(f"task {task.id}") else f"{label}: {s}"

    bad = [e for e in errors] + [t for t in tests if t["outcome"] != "passed"]
    score = round(task.points * passed / total, 4)
    if not bad:
        return TaskResult(task, score, task.points, passed, total, "", f"all {total} tests passed", seconds,
                          result.get("how", ""))
    first = bad[0]
    lines = [said(first)]
    message = (first.get("message") or "").strip()
    if message:
        details = message.splitlines()
        if details and details[0].strip() == said(first).strip():
            details = details[1:]
        lines += details[:25]
    lines += ["", f"{len(bad)} of {total} tests failed:"]
    lines += [f"  {name(e)}: {said(e)}" for e in bad]
    return TaskResult(task, score, task.points, passed, total, said(first), "\n".join(lines), seconds,
                      result.get("how", ""))


# ---- the command ---------------------------------------------------------------------------------------------
def grade(course, student, solution=None, tasks=None, timeout=60.0, jobs=None, results="results.json", whole=False,
          hidden=True, mode="patch", memory_mb=4096, fork=True, log=None):
    """Grade the student copy in `student` against the reference project `solution` (default: the project this
    minigrad comes from); returns a GradeReport and writes `results` (None: no file)."""
    start = time.perf_counter()
    student = os.path.abspath(student)
    solution = os.path.abspath(solution or reference_root())
    if not os.path.isdir(os.path.join(student, "minigrad")):
        raise CourseError(f"{student} holds no minigrad package; give the folder of a student copy")
    assigned = None
    manifest_path = os.path.join(student, MANIFEST)
    if os.path.isfile(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("name") != course.name:
            raise CourseError(f"{student} was built from course {manifest.get('name')!r}, not {course.name!r}; pass "
                              "its course file with --course")
        assigned = manifest.get("assigned")
    chosen = course.select(tasks) if tasks else (course.select(",".join(assigned)) if assigned else course.tasks)
    ref_regions = scan(solution, course)
    tmp = tempfile.mkdtemp(prefix="minigrad-grade-")
    try:
        kit_dir = os.path.join(tmp, "kit")
        os.makedirs(kit_dir)
        shutil.copyfile(KIT, os.path.join(kit_dir, "_kit.py"))
        with open(os.path.join(tmp, "tasks.json"), "w", encoding="utf-8") as f:
            json.dump(course.to_json(), f)
        with open(os.path.join(tmp, "pytest.ini"), "w", encoding="utf-8") as f:
            f.write("[pytest]\n")
        visible, secret = course.test_files(), course.test_files(hidden=True) if hidden else []
        hidden_names = {os.path.basename(p) for p in secret}
        mentions = _task_mentions(visible + secret)
        jobs_list, early, linemap = [], {}, {}
        for task in chosen:
            files = [p for p in visible + secret if task.id in mentions[p]] or visible + secret
            job = {"id": task.id, "tests": files, "result": os.path.join(tmp, f"result-{task.id}.json"),
                   "log": os.path.join(tmp, f"log-{task.id}.txt"), "splices": []}
            if not whole:
                spliced, problem = splice(task, solution, student, ref_regions[task.id])
                if problem:
                    early[task.id] = {"id": task.id, "tests": [], "errors": [{"name": "markers", "summary":
                                      f"{task.label}: {problem}", "message": problem}], "seconds": 0.0}
                    continue
                job["splices"] = [spliced]
                linemap[spliced["virtual"]] = spliced["regions"]
            jobs_list.append(job)
        with open(os.path.join(tmp, "linemap.json"), "w", encoding="utf-8") as f:
            json.dump(linemap, f)
        config = {"mode": "whole" if whole else mode, "root": student if whole else solution, "kit_dir": kit_dir,
                  "tmp": tmp, "timeout": timeout, "memory_mb": memory_mb, "fork": fork,
                  "env": {"MINIGRAD_COURSE_TASKS": os.path.join(tmp, "tasks.json"),
                          "MINIGRAD_COURSE_LINEMAP": os.path.join(tmp, "linemap.json")}}
        parallel = max(1, jobs or os.cpu_count() or 1)
        if jobs_list:
            _run_all(config, tmp, jobs_list, parallel, timeout, log)
        results_list = []
        for task in chosen:
            if task.id in early:
                result = early[task.id]
            else:
                with open(os.path.join(tmp, f"result-{task.id}.json"), encoding="utf-8") as f:
                    result = json.load(f)
            results_list.append(_score(task, result, hidden_names))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = GradeReport(results_list, time.perf_counter() - start)
    if results:
        report.results_path = os.path.abspath(results)
        os.makedirs(os.path.dirname(report.results_path), exist_ok=True)
        with open(report.results_path, "w", encoding="utf-8") as f:
            json.dump(report.gradescope(), f, indent=1)
    return report
