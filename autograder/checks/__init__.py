"""Checks that the notebooks' test cells call.

Every check prints one line when it passes and raises an ``AssertionError``
subclass with a message that says what is wrong and what to try when it
fails, so nbgrader scores the cell and the student learns something.
"""

from .accuracy import AccuracyResult, check_accuracy
from .architecture import ArchitectureError, LayerSpec, check_architecture, describe_model
from .arrays import ArrayMismatch, check_close
from .gradient import GradientCheckError, check_gradient, diagnose_gradient, gradient_check, numerical_gradient, relative_error
from .regression import MSEResult, check_mse, report_mse

__all__ = [
    "AccuracyResult",
    "ArchitectureError",
    "ArrayMismatch",
    "GradientCheckError",
    "LayerSpec",
    "MSEResult",
    "check_accuracy",
    "check_architecture",
    "check_close",
    "check_mse",
    "check_gradient",
    "describe_model",
    "diagnose_gradient",
    "gradient_check",
    "numerical_gradient",
    "relative_error",
    "report_mse",
]
