"""The instructor's pipeline: release, answer keys, grading.

Like nbgrader itself, every transformation is a small step and a command
chains them: :mod:`.release` (nbgrader's GenerateAssignment plus a leak
check), :mod:`.solve` (GenerateSolution), :mod:`.grade` (intake, nbgrader's
Autograde, feedback, reports).
"""
