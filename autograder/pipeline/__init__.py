"""The instructor's pipeline: release, answer keys, grading.

Like nbgrader itself, every transformation is a small step and a command
chains them: :mod:`.release` (nbgrader's GenerateAssignment plus a leak
check, and GenerateSolution for the answer keys), :mod:`.grade` (the
coordinator's chain: intake, dispatch, record), :mod:`.executors` (where the
tasks run, and how a run stops), :mod:`.workers` (one submission: nbgrader's
Autograde in a sandbox, :mod:`.scoring`, feedback), :mod:`.report` (gradebook
CSVs and charts). :mod:`.sandbox` defines the sandbox's settings once;
:mod:`.nbgrader_cells` says what nbgrader says about a cell (its kind, the
course's delimiters); :mod:`.kernel_glue` lists what grading relies on from
nbclient, nbconvert, nbgrader and jupyter_client.
"""
