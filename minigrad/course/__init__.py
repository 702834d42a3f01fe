"""Course mode: turn minigrad into a graded assignment, with its own property tests as the autograder.

    python -m minigrad course list                              # the default course's modules and tasks
    python -m minigrad course build OUT --tasks 1.1-1.6,2.*     # a student copy with those tasks removed
    python -m minigrad course grade STUDENT_DIR                 # score table + results.json (Gradescope)

Tasks are regions of the source between `# task 1.3: tanh backward` and `# end task`; a course file
(`minigrad/course/default/course.py`) gives each its module, hint, difficulty and points. The tutorial for
instructors is tutorials/course-mode.md. Nothing in minigrad imports this package (it sits beside the CLI).
"""
from .build import BuildReport, build, project_files, scan
from .grade import GradeReport, TaskResult, grade, reference_root
from .spec import Course, CourseError, Module, Task, default_course_path, load_course

__all__ = ["Course", "Module", "Task", "CourseError", "load_course", "default_course_path", "build", "grade",
           "scan", "project_files", "BuildReport", "GradeReport", "TaskResult", "reference_root"]
