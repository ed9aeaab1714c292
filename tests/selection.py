"""What this pytest session runs, for module fixtures that prepare the work of several tests at once."""

from __future__ import annotations


def selected_params(request, name: str, test: str | None = None) -> list:
    """The values of parameter ``name`` in the tests of ``request``'s module that this session runs (all, or what ``-k``
    left), in the session's order; ``test``: only that test function's."""
    values = []
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module is request.module and name in params and test in (None, item.originalname):
            values.append(params[name])
    return values
