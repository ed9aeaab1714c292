"""nbgrader configuration for the course (plain `nbgrader ...` commands read it too).

`dlcourse` loads this file and overrides only what a command needs (for
grading: a separate work folder and gradebook), so the two never disagree.
"""

from autograder.pipeline.sandbox import CELL_TIMEOUT
from autograder.registry import NOT_RELEASED

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "source_notebooks"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Training cells run for minutes on a 2-core CPU (more beside another kernel): one limit
# for plain nbgrader, `dlcourse validate` and `dlcourse grade`; a kernel that stops
# answering is killed instead of waited for.
c.Execute.timeout = CELL_TIMEOUT
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True

# A notebook that floods its output should not produce a 500 MB autograded file.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# Each assignment folder also holds the instructor's files (its facts, example class, mutation
# cases, hidden-test draws): nbgrader copies a folder's other files into the release unless told to leave them out.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", *NOT_RELEASED]
