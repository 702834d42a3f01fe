"""Task markers in source files: find the regions, replace them by stubs, splice a student's region back.

    # task 1.3: tanh backward
    ...region...
    # end task

A region is the lines strictly between its two marker lines. It lies in a function body (it becomes
`raise NotImplementedError(...)` in a student copy), or it is one or more `name = lambda ...: ...` lines in a
class or module body (each becomes `def name(...): raise NotImplementedError(...)`, which behaves the same).
A task may have several regions, in one file or in several.
"""
import ast
import dataclasses
import re
import textwrap

from .spec import CourseError

START = re.compile(r"^(?P<indent>[ \t]*)#\s*task\s+(?P<id>\d+(?:\.\d+)+)\s*:\s*(?P<title>.*?)\s*$")
END = re.compile(r"^[ \t]*#\s*end\s+task\b.*$")
_MENTION = re.compile(r"^[ \t]*#\s*(task\s+\d|end\s+task)", re.IGNORECASE)  # a marker, misspelt

__all__ = ["Region", "find_regions", "stub_lines", "replace_regions", "START", "END"]


@dataclasses.dataclass(frozen=True)
class Region:
    """Lines [start, end) of `path` (0-based, the marker lines excluded) belong to task `task_id`."""
    task_id: str
    title: str
    path: str
    marker: int      # index of the start marker line
    start: int       # first line of the region
    end: int         # index of the end marker line (one past the region)
    indent: str

    def lines(self, text_lines):
        return text_lines[self.start:self.end]

    @property
    def where(self):
        return f"{self.path}:{self.marker + 1}"


def find_regions(text, path):
    """Every marked region of a file's text, in order; malformed markers are CourseErrors naming the line."""
    lines = text.splitlines(keepends=True)
    regions, open_ = [], None
    for i, line in enumerate(lines):
        m = START.match(line)
        if m:
            if open_ is not None:
                raise CourseError(f"{path}:{i + 1}: task {m['id']} starts inside task {open_[1]['id']} (opened at "
                                  f"line {open_[0] + 1}); close it first with `# end task`")
            open_ = (i, m)
            continue
        if END.match(line):
            if open_ is None:
                raise CourseError(f"{path}:{i + 1}: `# end task` without a `# task N.M: title` line before it")
            j, m = open_
            if not "".join(lines[j + 1:i]).strip():
                raise CourseError(f"{path}:{j + 1}: task {m['id']}'s region is empty; put the solution between "
                                  "the two marker lines")
            regions.append(Region(m["id"], m["title"], path, j, j + 1, i, m["indent"]))
            open_ = None
            continue
        if _MENTION.match(line):
            raise CourseError(f"{path}:{i + 1}: a task marker must read `# task N.M: title` or `# end task`, not "
                              f"{line.strip()!r}")
    if open_ is not None:
        raise CourseError(f"{path}:{open_[0] + 1}: task {open_[1]['id']} is never closed; add `# end task` after "
                          "its region")
    return regions


def _region_kind(tree, region, path, text):
    """'body' when the region lies in a function body, else the lambda assignments it consists of."""
    first, last = region.start + 1, region.end  # 1-based line numbers of the region
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body_start = node.body[0].lineno if not _is_docstring(node.body[0]) else node.body[0].end_lineno + 1
            if node.lineno < first and body_start <= first and last <= node.end_lineno:
                return "body", None
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and first <= n.lineno <= last]
    top = [n for n in statements if not any(n is not m and _contains(m, n) for m in statements)]
    lambdas = []
    for n in top:
        if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                and isinstance(n.value, ast.Lambda) and n.end_lineno <= last):
            lambdas.append((n.targets[0].id, ast.unparse(n.value.args)))
        else:
            raise CourseError(f"{path}:{region.marker + 1}: task {region.task_id}'s region is not inside a function "
                              "body; a region must be (part of) a function body, or `name = lambda ...: ...` lines")
    if not lambdas:
        raise CourseError(f"{path}:{region.marker + 1}: task {region.task_id}'s region holds no code")
    return "lambdas", lambdas



def _is_docstring(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _contains(outer, inner):
    return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and \
        (inner.end_lineno, inner.end_col_offset) <= (outer.end_lineno, outer.end_col_offset) and outer is not inner


def message(task, course_name=None):
    """The text of a stub's NotImplementedError: the task, where to read up, and the hint."""
    where = f"; read {task.tutorial}" if task.tutorial else ""
    return f"task {task.id}: {task.title} ({task.difficulty}{where}). Hint: {task.hint.strip()}"


def _quote(text):
    """A double-quoted Python string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _string_lines(text, indent, lead):
    """A Python string literal over several lines (implicit concatenation), the first after `lead`."""
    width = max(40, 112 - len(indent) - len(lead))
    chunks = textwrap.wrap(text, width=width, drop_whitespace=False, break_on_hyphens=False) or [""]
    out = [indent + lead + _quote(chunks[0])]
    pad = indent + " " * len(lead)
    out += [pad + _quote(c) for c in chunks[1:]]
    return out


def stub_lines(task, region, text):
    """The lines that replace a region in a student copy."""
    indent = region.indent
    for line in region.lines(text.splitlines(keepends=True)):
        if line.strip():
            indent = line[:len(line) - len(line.lstrip())]
            break
    kind, lambdas = _region_kind(ast.parse(text), region, region.path, text)
    msg = message(task)
    if kind == "body":
        body = _string_lines(msg, indent, "raise NotImplementedError(")
        body[-1] += ")"
        return [line + "\n" for line in body]
    out = []
    for name, args in lambdas:
        out.append(f"{indent}def {name}({args}):\n")
        body = _string_lines(msg, indent + "    ", "raise NotImplementedError(")
        body[-1] += ")"
        out += [line + "\n" for line in body]
    return out


def replace_regions(text, path, replacements):
    """text with regions replaced: replacements maps a Region's marker line to its new lines (markers kept)."""
    lines = text.splitlines(keepends=True)
    out, i = [], 0
    for region in sorted(replacements, key=lambda r: r.marker):
        out += lines[i:region.start]
        new = replacements[region]
        out += new
        if new and not new[-1].endswith("\n"):
            out[-1] += "\n"
        i = region.end
    out += lines[i:]
    return "".join(out)
