"""The grader's worker: runs each task's tests in a child process with a time limit (run as a script).

    python _worker.py CONFIG.json

It imports what every task shares once (NumPy, pytest, Hypothesis and, when grading task by task, the
reference minigrad), then forks one child per task, a few at a time. A child puts the student's code of its
task in place, runs the task's tests with pytest and writes result-<task>.json; the worker kills a child
that outlives its time limit, and writes the result of a child that died without one. On stdout it says
`start <id>` and `done <id>`, nothing else, so the grader knows which task was running if the worker itself
is killed.

Putting the student's code in place: in "patch" mode the reference minigrad is already imported, and each
function that holds the task's region gets the code object compiled from the spliced source (the region is
the student's, the rest the reference); the tests then run against the reference project with that one
change. When that cannot be done exactly (a region outside a function, a function whose closure changed),
the child imports minigrad afresh with the spliced modules served from memory ("import" mode). In "whole"
mode the student's folder is imported as it is. Nothing here imports minigrad at module level.
"""
import ast
import importlib.abc
import importlib.util
import json
import linecache
import os
import signal
import sys
import time
import types

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # children run side by side; one BLAS thread each
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the tests need no third-party pytest plugin; loading them is slow


# ---- putting a student's code in place ------------------------------------------------------------------
class SpliceLoader(importlib.abc.Loader):
    def __init__(self, virtual, text):
        self.virtual, self.text = virtual, text

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(compile(self.text, self.virtual, "exec", dont_inherit=True), module.__dict__)


class SpliceFinder(importlib.abc.MetaPathFinder):
    """Serves the spliced modules from memory; every other module comes from the folder on sys.path."""

    def __init__(self, splices):
        self.splices = {s["module"]: s for s in splices}

    def find_spec(self, name, path=None, target=None):
        s = self.splices.get(name)
        if s is None:
            return None
        package = s["real"].endswith("__init__.py")
        spec = importlib.util.spec_from_loader(name, SpliceLoader(s["virtual"], s["text"]), origin=s["real"],
                                               is_package=package)
        if package:
            spec.submodule_search_locations = [os.path.dirname(s["real"])]
        spec.has_location = True
        return spec


def _register_source(virtual, text):
    linecache.cache[virtual] = (len(text), None, text.splitlines(True), virtual)


def _targets(tree, first, last):
    """The functions to recompile for a region on lines first..last: the outermost function (reachable as an
    attribute) holding it, or the functions and `name = lambda` lines it holds. None: not patchable."""
    found = []

    def visit(body, path):
        for node in body:
            if node.end_lineno < first or node.lineno > last:
                continue
            if isinstance(node, ast.ClassDef):
                if not visit(node.body, path + [node.name]):
                    return False
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                body_start = node.body[0].lineno
                if start < first and body_start <= first and last <= node.end_lineno:
                    found.append((path, node.name, ".".join(path + [node.name]), start))
                elif first <= start and node.end_lineno <= last:
                    found.append((path, node.name, ".".join(path + [node.name]), start))
                else:
                    return False
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                  and isinstance(node.value, ast.Lambda) and first <= node.lineno and node.end_lineno <= last):
                found.append((path, node.targets[0].id, ".".join(path + ["<lambda>"]), node.value.lineno))
            else:
                return False
        return True

    if not visit(tree.body, []) or not found:
        return None
    return found


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _live_function(module, path, name):
    obj = module
    for part in path:
        obj = vars(obj).get(part)
        if not isinstance(obj, type):
            return None
    raw = vars(obj).get(name)
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__
    elif isinstance(raw, property):
        raw = raw.fget
    while raw is not None and not isinstance(raw, types.FunctionType) and hasattr(raw, "__wrapped__"):
        raw = raw.__wrapped__
    if isinstance(raw, types.FunctionType) and hasattr(raw, "__wrapped__"):
        inner = raw
        while hasattr(inner, "__wrapped__") and isinstance(inner.__wrapped__, types.FunctionType):
            inner = inner.__wrapped__
        raw = inner
    return raw if isinstance(raw, types.FunctionType) else None


def patch(splices):
    """Swap in the recompiled functions of every splice; False (and nothing changed) when one cannot be."""
    swaps = []
    for s in splices:
        try:  # a module `import minigrad` does not load (minigrad.testing.strategies) is imported now
            module = importlib.import_module(s["module"])
        except Exception:  # noqa: BLE001
            return False
        code = compile(s["text"], s["virtual"], "exec", dont_inherit=True)
        tree = ast.parse(s["text"])
        codes = list(_code_objects(code))
        for first, count, _ in s["regions"]:
            targets = _targets(tree, first, first + count - 1)
            if targets is None:
                return False
            for path, name, qualname, lineno in targets:
                new = [c for c in codes if c.co_firstlineno == lineno
                       and getattr(c, "co_qualname", qualname) == qualname and c.co_name == qualname.split(".")[-1]]
                live = _live_function(module, path, name)
                if len(new) != 1 or live is None or live.__code__.co_freevars != new[0].co_freevars:
                    return False
                swaps.append((live, new[0]))
    for live, new in swaps:
        live.__code__ = new
    for s in splices:
        _register_source(s["virtual"], s["text"])
    return True


def _only_from(root):
    """Import minigrad from `root` alone: no editable install's finder may fill in a module root lacks."""
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
    if root not in sys.path:
        sys.path.insert(0, root)


def fresh_import(splices, root):
    """Forget the imported minigrad and import it again from `root`, the spliced modules from memory."""
    for name in [n for n in sys.modules if n == "minigrad" or n.startswith("minigrad.")]:
        del sys.modules[name]
    _only_from(root)
    if splices:
        sys.meta_path.insert(0, SpliceFinder(splices))
        for s in splices:
            _register_source(s["virtual"], s["text"])
    importlib.invalidate_caches()


# ---- one task, in a child ------------------------------------------------------------------------------
class Collector:
    """Each test's outcome and the first lines of its failure, and collection errors."""

    def __init__(self):
        self.tests, self.errors = {}, []

    def pytest_runtest_logreport(self, report):
        path, _, domain = report.location
        entry = self.tests.setdefault(report.nodeid, {"name": f"{os.path.basename(path)}::{domain}",
                                                      "outcome": "passed", "summary": None, "message": None})
        props = dict(report.user_properties)
        if report.failed:
            entry["outcome"] = "failed"
            if entry["summary"] is None:
                text = report.longreprtext or ""
                entry["summary"] = props.get("summary") or (text.strip().splitlines() or ["failed"])[-1]
                entry["message"] = props.get("message") or text[-2500:]
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
            entry["summary"] = (str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "skipped")

    def pytest_collectreport(self, report):
        if report.failed:
            text = report.longreprtext or ""
            lines = [line for line in text.splitlines() if line.startswith("E ")] or text.strip().splitlines() or [""]
            self.errors.append({"name": os.path.basename(str(report.fspath)), "summary": lines[-1].lstrip("E ").strip(),
                                "message": text[-2500:]})


def _compile_errors(splices, linemaps):
    for s in splices:
        try:
            compile(s["text"], s["virtual"], "exec", dont_inherit=True)
        except SyntaxError as e:
            line = e.lineno or 0
            for first, count, student_first in linemaps.get(s["virtual"], ()):
                if first <= line < first + count:
                    line = student_first + line - first
                    break
            return f"the code does not compile: {e.msg} ({s['path']}, line {line})"
    return None


def run_task(config, job):
    """In the child: put the code in place, run the task's tests, write the result file."""
    start = time.perf_counter()
    result = {"id": job["id"], "tests": [], "errors": [], "how": config["mode"]}
    splices = job.get("splices", [])
    problem = _compile_errors(splices, job.get("linemap", {}))
    if problem:
        result["errors"].append({"name": "compile", "summary": problem, "message": problem})
    else:
        how = config["mode"]
        if how == "patch" and not patch(splices):
            how = "import"
        if how in ("import", "whole"):
            fresh_import(splices if how == "import" else [], config["root"])
        result["how"] = how
        import pytest
        collector = Collector()
        ini = os.path.join(config["tmp"], "pytest.ini")
        args = list(job["tests"]) + ["-p", "_kit", "--task", job["id"], "-q", "-p", "no:cacheprovider",
                                      "--noconftest", "-c", ini, "--rootdir", config["tmp"], "-W", "ignore"]
        code = pytest.main(args, plugins=[collector])
        result["tests"] = list(collector.tests.values())
        result["errors"] += collector.errors
        result["exit"] = int(code)
    result["seconds"] = time.perf_counter() - start
    path = job["result"]
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(path + ".tmp", path)


def _die_with(parent):
    """Linux: this process gets SIGKILL when its parent, the worker, dies (a task that killed the worker must not
    live on as an orphan, in an infinite loop say)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _child(config, job, parent):
    os.setpgid(0, 0)
    _die_with(parent)
    try:
        import resource
        limit = int(config.get("memory_mb", 0)) * 2 ** 20
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdin = open(os.devnull)
    os.chdir(config["tmp"])
    code = 0
    try:
        run_task(config, job)
    except BaseException as e:  # noqa: BLE001 (a student's SystemExit at import time ends up here too)
        import traceback
        traceback.print_exc()
        code = 3 if not isinstance(e, SystemExit) else 4
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _say(*words):
    sys.__stdout__.write(" ".join(words) + "\n")
    sys.__stdout__.flush()


def _write_crash(job, why, seconds):
    tail = ""
    try:
        with open(job["log"], encoding="utf-8", errors="replace") as f:
            tail = f.read()[-2000:]
    except OSError:
        pass
    result = {"id": job["id"], "tests": [], "errors": [{"name": "process", "summary": why, "message": why + (
        "\n\noutput before it stopped:\n" + tail if tail.strip() else "")}], "seconds": seconds, "crashed": True}
    with open(job["result"], "w", encoding="utf-8") as f:
        json.dump(result, f)


def _preload(config):
    sys.path.insert(0, config["kit_dir"])
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    from _pytest.config import default_plugins
    for name in default_plugins:  # pytest imports its own plugins at every start: once here instead
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    try:
        import hypothesis  # noqa: F401
        import hypothesis.extra.numpy  # noqa: F401
    except ImportError:
        pass
    if config["mode"] == "patch":
        _only_from(config["root"])
        import minigrad  # noqa: F401  (the reference project, shared by every task through fork)
        import _kit  # noqa: F401


def main(path):
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    os.environ.update(config.get("env", {}))
    forking = hasattr(os, "fork") and config.get("fork", True)
    if forking:
        _preload(config)
    pending = list(config["tasks"])
    running = {}  # pid -> (job, start, Popen or None)
    jobs = max(1, int(config.get("jobs", 1)))
    timeout = float(config["timeout"])
    while pending or running:
        while pending and len(running) < jobs:
            job = pending.pop(0)
            _say("start", job["id"])
            if forking:
                me = os.getpid()
                pid = os.fork()
                if pid == 0:
                    _child(config, job, me)
                running[pid] = (job, time.monotonic(), None)
            else:  # no fork (Windows): a fresh interpreter per task
                import subprocess
                with open(job["log"], "wb") as log:
                    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), path, "--one", job["id"]],
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=config["tmp"])
                running[proc.pid] = (job, time.monotonic(), proc)
        finished = []
        for pid, (job, begun, proc) in list(running.items()):
            if proc is None:
                done, status = os.waitpid(pid, os.WNOHANG)
            else:
                status = proc.poll()
                done = pid if status is not None else 0
            elapsed = time.monotonic() - begun
            if done:
                finished.append(pid)
                if not os.path.exists(job["result"]):
                    _write_crash(job, _death(status, proc is None, config), elapsed)
            elif elapsed > timeout:
                _kill(pid, proc)
                finished.append(pid)
                _write_crash(job, f"the tests did not finish within the time limit of {timeout:g} s (an infinite "
                                  "loop, a wait that never ends, or code far too slow?)", elapsed)
        for pid in finished:
            _say("done", running.pop(pid)[0]["id"])
        if not finished:
            time.sleep(0.01)


def _kill(pid, proc):
    """Kill a task's process and everything it started (its own process group)."""
    if proc is not None:
        proc.kill()
        proc.wait()
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


def _death(status, forked, config):
    if not forked:
        return f"the test process stopped with exit status {status} before reporting"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        extra = (f" (out of memory? the limit is {config.get('memory_mb')} MB)" if sig in (signal.SIGKILL,
                 signal.SIGSEGV, signal.SIGABRT) else "")
        return f"the test process was killed by {name}{extra}"
    code = os.WEXITSTATUS(status)
    return (f"the test process exited with status {code} before reporting: the code called sys.exit() or "
            "os._exit() (a library must raise an exception instead), or killed its own process")


if __name__ == "__main__":
    if "--one" in sys.argv:  # the fallback without fork: one task in this process
        with open(sys.argv[1], encoding="utf-8") as f:
            cfg = json.load(f)
        os.environ.update(cfg.get("env", {}))
        _preload(cfg)
        wanted = sys.argv[sys.argv.index("--one") + 1]
        try:
            run_task(cfg, next(j for j in cfg["tasks"] if j["id"] == wanted))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
    else:
        main(sys.argv[1])
