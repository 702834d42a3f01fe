"""A course: modules and tasks, each task a marked region of the project's source.

A course is defined in a Python file that sets `COURSE = Course(...)` (the default one is
`minigrad/course/default/course.py`). The source carries only the markers, one comment line before and
after each region a student writes:

    # task 1.3: tanh backward
    ...the reference solution...
    # end task

Everything else a task needs (its module, hint, difficulty, points, the tutorial it follows) lives in
the course definition, so a normal reader of the source sees two short comments and nothing more.
"""
import dataclasses
import fnmatch
import importlib.util
import os
import re

__all__ = ["Course", "Module", "Task", "CourseError", "load_course", "default_course_path", "task_key"]

DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}
_ID = re.compile(r"^\d+(\.\d+)+$")


class CourseError(ValueError):
    """A course that cannot be built or graded as defined: the message names the task, the file and the fix."""


def task_key(task_id):
    """'1.10' -> (1, 10): ids sort as numbers, not as text."""
    return tuple(int(p) for p in task_id.split("."))


@dataclasses.dataclass
class Task:
    """One region a student writes.

    id: '1.3' (module 1, task 3); title: what the marker line names ('tanh backward'); file: the path, relative
    to the project root, where the markers must be; hint: one or two sentences, shown in the stub and the
    README; difficulty: 'easy', 'medium' or 'hard'; points: the task's max score (default 1, 2, 3 by
    difficulty); tutorial: where the student reads up ('tutorials/01-autograd-from-scratch.md#4')."""
    id: str
    title: str
    file: str
    hint: str
    difficulty: str = "medium"
    points: float = None
    tutorial: str = ""

    def __post_init__(self):
        if not _ID.match(self.id):
            raise CourseError(f"task id {self.id!r} is not of the form MODULE.NUMBER, e.g. '1.3'")
        if self.difficulty not in DIFFICULTIES:
            raise CourseError(f"task {self.id}: difficulty must be one of {', '.join(DIFFICULTIES)}, "
                              f"not {self.difficulty!r}")
        if not self.hint.strip():
            raise CourseError(f"task {self.id}: every task needs a hint")
        if self.points is None:
            self.points = DIFFICULTIES[self.difficulty]
        self.file = self.file.replace(os.sep, "/")

    @property
    def module(self):
        return int(self.id.split(".")[0])

    @property
    def label(self):
        """'task 1.3 (tanh backward)': how messages name the task."""
        return f"task {self.id} ({self.title})"


@dataclasses.dataclass
class Module:
    """A chapter of the course: its number (the first part of its tasks' ids), title and tutorial."""
    number: int
    title: str
    tutorial: str = ""
    summary: str = ""


DEFAULT_EXCLUDE = (
    # never in a student copy: build artifacts and history (a .pyc holds the compiled solution)
    ".git/", "__pycache__/", "*.pyc", "*.pyo", ".venv/", "*.egg-info/", ".pytest_cache/", ".hypothesis/",
    ".ruff_cache/", ".ipynb_checkpoints/", "build/", "dist/", "results.json",
    # the instructor's side: the course tools and hidden tests, the project's own test suite (replaced by the
    # tests of the tasks), solutions to tutorial exercises, benchmarks against hand-written NumPy, CI, and the
    # PyTorch twin, which writes every surrogate and quantizer backward again in torch (mg.interop imports it
    # only when asked, so the copy imports without it)
    "minigrad/course/", "tests/", "tutorials/solutions/", "tutorials/course-mode.md", "benchmarks/", ".ci/",
    "minigrad/interop/torch_ste.py", "minigrad/interop/torch_twin.py",
)


@dataclasses.dataclass
class Course:
    """A course: its modules and tasks, the folders of its visible and hidden tests (relative to the course
    file), and what a student copy leaves out (`exclude`: paths relative to the project root; a trailing '/'
    names a folder, '*' patterns match file names)."""
    name: str
    title: str
    modules: list
    tasks: list
    tests: str = "tests"
    hidden: str = "hidden"
    exclude: tuple = DEFAULT_EXCLUDE
    intro: str = ""
    path: str = None  # the course file, set by load_course

    def __post_init__(self):
        seen = {}
        for t in self.tasks:
            if t.id in seen:
                raise CourseError(f"course {self.name}: two tasks have the id {t.id}")
            seen[t.id] = t
        numbers = {m.number for m in self.modules}
        for t in self.tasks:
            if t.module not in numbers:
                raise CourseError(f"course {self.name}: task {t.id} belongs to module {t.module}, which the course "
                                  f"does not define (modules: {', '.join(map(str, sorted(numbers)))})")
        self.tasks = sorted(self.tasks, key=lambda t: task_key(t.id))
        self._by_id = seen

    # ---- lookups ----
    def task(self, task_id):
        try:
            return self._by_id[task_id]
        except KeyError:
            raise CourseError(f"course {self.name} has no task {task_id}; its tasks are {self.id_summary()}") from None

    def module(self, number):
        return next(m for m in self.modules if m.number == number)

    def module_tasks(self, number):
        return [t for t in self.tasks if t.module == number]

    def id_summary(self):
        """'1.1-1.8, 2.1-2.5, ...': the task ids, module by module."""
        parts = []
        for m in self.modules:
            ids = [t.id for t in self.module_tasks(m.number)]
            if ids:
                parts.append(ids[0] if len(ids) == 1 else f"{ids[0]}-{ids[-1]}")
        return ", ".join(parts)

    @property
    def root(self):
        return os.path.dirname(os.path.abspath(self.path)) if self.path else None

    def tests_dir(self):
        return os.path.join(self.root, self.tests)

    def hidden_dir(self):
        return os.path.join(self.root, self.hidden)

    def test_files(self, hidden=False):
        folder = self.hidden_dir() if hidden else self.tests_dir()
        if not os.path.isdir(folder):
            return []
        return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("test") and f.endswith(".py"))

    # ---- choosing tasks ----
    def select(self, spec):
        """The tasks a spec names, in course order: 'all', '1.1-1.6,2.*', '3' (a whole module), '2.4'.
        Unknown ids and empty selections are errors that list the course's ids."""
        if spec is None or str(spec).strip() in ("", "all", "*"):
            return list(self.tasks)
        chosen = set()
        for part in str(spec).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                lo, hi = (p.strip() for p in part.split("-", 1))
                for end in (lo, hi):
                    self.task(end)
                if task_key(lo) > task_key(hi):
                    raise CourseError(f"--tasks {part}: the range runs backwards; write {hi}-{lo}")
                picked = [t.id for t in self.tasks if task_key(lo) <= task_key(t.id) <= task_key(hi)]
            elif "*" in part or "?" in part:
                picked = [t.id for t in self.tasks if fnmatch.fnmatchcase(t.id, part)]
                if not picked:
                    raise CourseError(f"--tasks {part}: matches no task; the tasks are {self.id_summary()}")
            elif part.isdigit():
                picked = [t.id for t in self.module_tasks(int(part))]
                if not picked:
                    raise CourseError(f"--tasks {part}: the course has no module {part}; the tasks are "
                                      f"{self.id_summary()}")
            else:
                picked = [self.task(part).id]
            chosen.update(picked)
        return [t for t in self.tasks if t.id in chosen]

    def excluded(self, relpath):
        """True when a student copy leaves `relpath` (relative to the project root, '/'-separated) out."""
        parts = relpath.split("/")
        for pattern in self.exclude:
            if pattern.endswith("/"):
                folder = pattern.rstrip("/")
                if "/" in folder:
                    if relpath.startswith(folder + "/"):
                        return True
                elif folder in parts[:-1]:
                    return True
            elif "/" in pattern:
                if fnmatch.fnmatchcase(relpath, pattern):
                    return True
            elif fnmatch.fnmatchcase(parts[-1], pattern):
                return True
        return False

    def to_json(self, tasks=None):
        """What a student copy and the grader's worker need to know about the tasks (no solutions in it)."""
        return {"name": self.name, "title": self.title,
                "modules": [dataclasses.asdict(m) for m in self.modules],
                "tasks": [{k: v for k, v in dataclasses.asdict(t).items()} for t in (tasks or self.tasks)]}


def default_course_path():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "default", "course.py")


def load_course(path=None):
    """The Course a course file defines (`COURSE = Course(...)`); the default course without a path."""
    path = os.path.abspath(path or default_course_path())
    if not os.path.isfile(path):
        raise CourseError(f"no course file at {path}; give a Python file that sets COURSE = Course(...)")
    spec = importlib.util.spec_from_file_location(f"_minigrad_course_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    course = getattr(module, "COURSE", None)
    if not isinstance(course, Course):
        raise CourseError(f"{path} must set COURSE = minigrad.course.Course(...)")
    course.path = path
    return course
