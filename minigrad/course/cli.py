"""The `course` subcommand of `python -m minigrad`: list, build and grade."""
import os

from .spec import CourseError, load_course

__all__ = ["add_arguments"]


def _positive(text):
    value = float(text)
    if not value > 0:
        raise ValueError
    return value


def add_arguments(parser):
    """Fill the `course` subparser of minigrad's CLI."""
    sub = parser.add_subparsers(dest="course_command", required=True)
    course_help = "a course file that sets COURSE = Course(...) (default: minigrad's own course)"

    ls = sub.add_parser("list", help="the course's modules and tasks, and where each is marked in the source")
    ls.add_argument("--course", default=None, help=course_help)
    ls.add_argument("--source", default=None, help="the project whose markers to check (default: this one)")
    ls.set_defaults(run=cmd_list)

    build = sub.add_parser("build", help="write a student copy with the chosen tasks taken out")
    build.add_argument("out", help="the folder to write (new, or a student copy to replace with --force)")
    build.add_argument("--tasks", default="all", help="which tasks to take out: 1.1-1.6,2.* or 3 or all (default)")
    build.add_argument("--course", default=None, help=course_help)
    build.add_argument("--source", default=None, help="the project to copy (default: the one this minigrad is in)")
    build.add_argument("--git", action="store_true", help="make the copy a fresh git repository (one commit)")
    build.add_argument("--force", action="store_true", help="replace a student copy already in OUT")
    build.set_defaults(run=cmd_build)

    grade = sub.add_parser("grade", help="grade a student copy: a score table and results.json (Gradescope)")
    grade.add_argument("student", help="the folder of the student's copy")
    grade.add_argument("--tasks", default=None, help="grade these tasks (default: the ones assigned in the copy)")
    grade.add_argument("--course", default=None, help=course_help)
    grade.add_argument("--solution", default=None, help="the reference project (default: the one this minigrad is in)")
    grade.add_argument("--results", default="results.json", help="where to write results.json ('' for nowhere)")
    grade.add_argument("--timeout", type=_positive, default=60.0, help="seconds per task (default 60)")
    grade.add_argument("--jobs", type=int, default=None, help="tasks graded side by side (default: one per CPU)")
    grade.add_argument("--memory", type=int, default=4096, help="memory limit per task in MB (default 4096)")
    grade.add_argument("--no-hidden", action="store_true", help="run only the tests the students have")
    grade.add_argument("--whole", action="store_true", help="grade the student's folder as it is, not task by task "
                                                            "(a task then depends on the others)")
    grade.set_defaults(run=cmd_grade)


def _root(args_source):
    from .grade import reference_root
    root = os.path.abspath(args_source or reference_root())
    if not (os.path.isfile(os.path.join(root, "setup.cfg")) and os.path.isdir(os.path.join(root, "tutorials"))):
        raise CourseError(f"{root} is not a source checkout of minigrad (no setup.cfg and tutorials/ in it): course "
                          "mode copies the whole project, its tests and tutorials; clone minigrad's repository and run "
                          "it from there, or pass --source with the checkout's folder")
    return root


def cmd_list(args, out):
    from .build import scan
    course = load_course(args.course)
    regions = scan(_root(args.source), course)
    print(f"{course.title} ({course.name}): {len(course.modules)} modules, {len(course.tasks)} tasks, "
          f"{sum(t.points for t in course.tasks):g} points", file=out)
    for module in course.modules:
        print(f"\n{module.number}. {module.title}" + (f"  ({module.tutorial})" if module.tutorial else ""), file=out)
        for t in course.module_tasks(module.number):
            where = ", ".join(r.where for r in regions[t.id])
            print(f"  {t.id:<5} {t.title:<34} {t.difficulty:<6} {t.points:g} pt  {where}", file=out)
            print(f"        hint: {t.hint}", file=out)
    return 0


def cmd_build(args, out):
    from .build import build
    course = load_course(args.course)
    build(course, _root(args.source), args.out, tasks=args.tasks, git=args.git, force=args.force,
          log=lambda line: print(line, file=out))
    return 0


def cmd_grade(args, out):
    from .grade import grade
    course = load_course(args.course)
    if not os.path.isdir(args.student):
        raise CourseError(f"{args.student} is not a folder; give the folder of a student copy")
    report = grade(course, args.student, solution=args.solution, tasks=args.tasks, timeout=args.timeout,
                   jobs=args.jobs, results=args.results or None, whole=args.whole, hidden=not args.no_hidden,
                   memory_mb=args.memory)
    print(report.table(), file=out)
    if report.results_path:
        print(f"\nresults: {report.results_path}", file=out)
    return 0
