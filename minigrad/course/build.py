"""`python -m minigrad course build OUT --tasks 1.1-1.6,2.*`: a student copy of the project.

The copy is the project's files (tracked and untracked-but-not-ignored ones; never `.git`, `.pyc` or other
build artifacts, never the course tools or hidden tests) with each chosen task's regions replaced by a stub
that raises NotImplementedError with the task's hint, the visible tests of the course grouped by task in
`tests/tasks/`, the tutorials, a README for students and `assignment.json` (which tasks were given). After
writing it the build checks that every file still compiles and greps the copy for every removed line.
"""
import ast
import datetime
import json
import os
import shutil
import subprocess
import time

from . import markers
from .spec import CourseError, task_key

__all__ = ["build", "project_files", "scan", "BuildReport"]

KIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kit.py")
MANIFEST = "assignment.json"
TESTS_DIR = "tests/tasks"


class BuildReport:
    """What a build did: the tasks removed, the files written, removed lines, lines that also appear elsewhere."""

    def __init__(self, out, tasks):
        self.out, self.tasks = out, tasks
        self.files = 0
        self.removed = {}      # task id -> [removed lines]
        self.public = {}       # removed line -> a place in the copy where the same code stays (not a leak)
        self.seconds = 0.0

    def summary(self):
        n_lines = sum(len(v) for v in self.removed.values())
        text = (f"wrote {self.out}: {self.files} files, {len(self.tasks)} tasks removed "
                f"({', '.join(t.id for t in self.tasks)}), {n_lines} lines of solution taken out and none left in "
                f"the copy; {self.seconds:.1f} s")
        shared = {line: where for line, where in self.public.items() if len(line) >= 20}
        if shared:
            text += ("\nnote: these removed lines also stay in code the copy keeps (a student may find them there):\n"
                     + "\n".join(f"  {line}    ({where})" for line, where in shared.items()))
        return text


# ---- which files ------------------------------------------------------------------------------------
def project_files(root, course):
    """The project's files as '/'-separated paths relative to root, minus what the course excludes: git's
    tracked and untracked-but-not-ignored files in a git work tree, else a walk of the folder."""
    root = os.path.abspath(root)
    names = None
    if os.path.isdir(os.path.join(root, ".git")) and shutil.which("git"):
        try:
            listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                                     "--exclude-standard"], capture_output=True, check=True).stdout
            names = [n.decode() for n in listed.split(b"\0") if n]
        except (OSError, subprocess.CalledProcessError):
            names = None
    if names is None:
        names = []
        for folder, dirs, files in os.walk(root):
            rel = os.path.relpath(folder, root).replace(os.sep, "/")
            rel = "" if rel == "." else rel + "/"
            dirs[:] = sorted(d for d in dirs if not course.excluded(rel + d + "/x"))
            names += [rel + f for f in files]
    return sorted(n for n in set(names) if os.path.isfile(os.path.join(root, n)) and not course.excluded(n))


def scan(root, course, files=None):
    """Every marked region of the project, by task id, checked against the course: each task marked (in the
    file the course names), no marker for a task the course does not know, titles that agree."""
    files = project_files(root, course) if files is None else files
    found = {}
    for rel in files:
        if not rel.endswith(".py"):
            continue
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        if "task" not in text:
            continue
        for region in markers.find_regions(text, rel):
            found.setdefault(region.task_id, []).append(region)
    problems = []
    for task_id, regions in sorted(found.items(), key=lambda kv: task_key(kv[0])):
        if task_id not in {t.id for t in course.tasks}:
            problems.append(f"{regions[0].where}: a marker for task {task_id}, which course {course.name} does not "
                            f"define (its tasks are {course.id_summary()})")
            continue
        task = course.task(task_id)
        for r in regions:
            if r.path != task.file:
                problems.append(f"{r.where}: task {task_id} is marked here, but the course says it lives in "
                                f"{task.file}")
            if r.title != task.title:
                problems.append(f"{r.where}: the marker names task {task_id} {r.title!r}, the course {task.title!r}; "
                                "make them agree")
    for task in course.tasks:
        if task.id not in found:
            problems.append(f"{task.label}: no `# task {task.id}: {task.title}` marker in {task.file}; mark the region "
                            "a student writes with that line before it and `# end task` after it (the file may have "
                            "changed since the course was written)")
    if problems:
        raise CourseError("the course's markers do not match the source:\n  " + "\n  ".join(problems))
    return found


# ---- the copy -----------------------------------------------------------------------------------------
def _prepare_out(out, force):
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise CourseError(f"{out} is a file; give a folder for the student copy")
        if os.listdir(out):
            if not force:
                raise CourseError(f"{out} is not empty; choose a new folder, or pass --force to replace a student "
                                  "copy built there before")
            if not os.path.isfile(os.path.join(out, MANIFEST)):
                raise CourseError(f"{out} is not empty and holds no {MANIFEST}; --force only replaces a student copy")
            shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(data)


def _student_setup_cfg(text):
    """The project's setup.cfg with pytest pointed at the task tests (the tutorials run when asked for)."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.strip().startswith("testpaths"):
            line = "testpaths = tests/tasks\n"
        out.append(line)
    return "".join(out)


def build(course, source, out, tasks="all", git=False, force=False, log=None):
    """Write the student copy of `source` (the project root) to `out` with `tasks` (a spec) removed."""
    start = time.perf_counter()
    source, out = os.path.abspath(source), os.path.abspath(out)
    if out == source or out.startswith(source + os.sep) and not course.excluded(os.path.relpath(out, source)
                                                                                 .replace(os.sep, "/") + "/x"):
        raise CourseError(f"{out} lies inside the project {source} and would be copied into itself; build "
                          "somewhere else (or inside an ignored folder such as build/)")
    files = project_files(source, course)
    regions = scan(source, course, files)
    chosen = course.select(tasks)
    if not chosen:
        raise CourseError("no task chosen")
    chosen_ids = {t.id for t in chosen}
    report = BuildReport(out, chosen)
    _prepare_out(out, force)

    by_file = {}
    for task_id, rs in regions.items():
        if task_id in chosen_ids:
            for r in rs:
                by_file.setdefault(r.path, []).append(r)

    kept_code = []  # the project's Python code that stays in the copy, to tell a leak from code shared with it
    written = []
    for rel in files:
        src = os.path.join(source, rel)
        dst = os.path.join(out, rel)
        if rel in by_file:
            with open(src, encoding="utf-8", newline="") as f:
                text = f.read()
            lines = text.splitlines(keepends=True)
            replacements = {}
            for r in by_file[rel]:
                task = course.task(r.task_id)
                replacements[r] = markers.stub_lines(task, r, text)
                report.removed.setdefault(r.task_id, []).extend(
                    line.strip() for line in r.lines(lines) if line.strip())
            inside = {i for r in by_file[rel] for i in range(r.start, r.end)}
            kept_code.append("".join(line for i, line in enumerate(lines) if i not in inside))
            _write(dst, markers.replace_regions(text, rel, replacements))
        elif rel == "setup.cfg":
            with open(src, encoding="utf-8") as f:
                _write(dst, _student_setup_cfg(f.read()))
        elif rel == "README.md":
            continue  # replaced by the student README below
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
            if rel.endswith(".py"):
                with open(src, encoding="utf-8", errors="replace") as f:
                    kept_code.append(f.read())
        written.append(rel)

    # the tests of the tasks, the kit they use, and what the kit needs to name the tasks
    tests_out = os.path.join(out, *TESTS_DIR.split("/"))
    os.makedirs(tests_out, exist_ok=True)
    for path in course.test_files():
        shutil.copyfile(path, os.path.join(tests_out, os.path.basename(path)))
        written.append(f"{TESTS_DIR}/{os.path.basename(path)}")
    shutil.copyfile(KIT, os.path.join(tests_out, "_kit.py"))
    _write(os.path.join(out, "conftest.py"), CONFTEST)
    written += [f"{TESTS_DIR}/_kit.py", "conftest.py"]
    manifest = course.to_json()
    manifest.update(assigned=[t.id for t in chosen], built=datetime.date.today().isoformat(),
                    source_commit=_commit(source), kit="tests/tasks/_kit.py")
    manifest["regions"] = {tid: [{"file": r.path} for r in rs] for tid, rs in regions.items()}
    _write(os.path.join(out, MANIFEST), json.dumps(manifest, indent=1) + "\n")
    from .readme import student_readme
    _write(os.path.join(out, "README.md"), student_readme(course, chosen, out))
    written += [MANIFEST, "README.md"]
    report.files = len(written)

    _check_compiles(out, written)
    report.public = check_no_leak(out, report.removed, "".join(kept_code))
    if git:
        _git_init(out, course)
    report.seconds = time.perf_counter() - start
    if log:
        log(report.summary())
    return report


CONFTEST = '''"""pytest's --task option: `python -m pytest tests/tasks --task 1.3` runs one task's tests."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "tasks"))
from _kit import (pytest_addoption, pytest_collection_modifyitems, pytest_configure,  # noqa: E402,F401
                  pytest_runtest_makereport, pytest_runtest_setup)
'''


def _is_text(path):
    with open(path, "rb") as f:
        head = f.read(8192)
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start > len(head) - 4  # a character cut at the end of the block
    return True


def _commit(root):
    try:
        return subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _check_compiles(out, written):
    for rel in written:
        if rel.endswith(".py"):
            path = os.path.join(out, rel)
            with open(path, encoding="utf-8") as f:
                try:
                    ast.parse(f.read(), rel)
                except SyntaxError as e:
                    raise CourseError(f"the student copy of {rel} does not compile ({e.msg}, line {e.lineno}); a "
                                      "region's stub does not fit where its markers are") from None


def copy_text(out):
    """Every text file of a folder, as {relpath: text} (binary files skipped)."""
    texts = {}
    for folder, dirs, files in os.walk(out):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = os.path.join(folder, name)
            if _is_text(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    texts[os.path.relpath(path, out).replace(os.sep, "/")] = f.read()
    return texts


def check_no_leak(out, removed, kept):
    """Grep the copy for every removed line. A line that also stays in the project's code outside every removed
    region (`a, = ctx.saved_tensors`) reveals nothing; any other one found anywhere in the copy (a tutorial, a
    test, a README, a hint) is a leak, and the build fails naming the file and line. Returns {public line: where
    it stays}."""
    texts = copy_text(out)
    public, leaks = {}, []
    for task_id, lines in removed.items():
        for line in dict.fromkeys(lines):
            hits = [(rel, n + 1) for rel, text in texts.items() if line in text
                    for n, text_line in enumerate(text.splitlines()) if line in text_line]
            if not hits:
                continue
            if line in kept:
                public[line] = f"{hits[0][0]}:{hits[0][1]}"
            else:
                leaks += [f"{rel}:{n}: {line!r} (task {task_id})" for rel, n in hits]
    if leaks:
        raise CourseError("the student copy still holds removed solution lines:\n  " + "\n  ".join(leaks[:20]))
    return public


def _git_init(out, course):
    """A fresh repository with one commit: the copy, and no history of the solutions."""
    env = dict(os.environ, GIT_AUTHOR_NAME="minigrad course", GIT_AUTHOR_EMAIL="course@minigrad.invalid",
               GIT_COMMITTER_NAME="minigrad course", GIT_COMMITTER_EMAIL="course@minigrad.invalid")
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", f"{course.title}: the assignment"]):
        subprocess.run(["git", "-C", out] + cmd, check=True, env=env, capture_output=True)
