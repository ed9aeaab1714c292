"""The instructor's pipeline: release, answer keys, grading.

Like nbgrader itself, every transformation is a small step and a command
chains them: :mod:`.release` (nbgrader's GenerateAssignment plus a leak
check, and GenerateSolution for the answer keys), :mod:`.grade` (the
coordinator's chain: intake, dispatch, record), :mod:`.workers` (one
submission: nbgrader's Autograde in a sandbox, :mod:`.scoring`, feedback),
:mod:`.report` (gradebook CSVs and charts).
"""
