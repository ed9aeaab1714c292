import numpy as np
import pytest

from autograder.scaling import best_time, fit_power_law, plot_scaling


def test_fit_power_law_recovers_exponent_and_coefficient():
    sizes = np.array([10.0, 100.0, 1000.0, 10000.0])
    k, c = fit_power_law(sizes, 3e-6 * sizes**2)
    assert k == pytest.approx(2.0)
    assert c == pytest.approx(3e-6)


@pytest.mark.parametrize("sizes,costs", [([1.0], [1.0]), ([5.0, 5.0], [1.0, 2.0]), ([1.0, 2.0], [0.0, 1.0]), ([1.0, 2.0], [1.0])])
def test_fit_power_law_refuses_what_it_cannot_fit(sizes, costs):
    with pytest.raises(ValueError):
        fit_power_law(sizes, costs)


def test_best_time_is_the_fastest_round():
    calls = []
    seconds = best_time(lambda: calls.append(1), repeat=3, number=4)
    assert len(calls) == 12
    assert 0 <= seconds < 0.01
    with pytest.raises(ValueError):
        best_time(lambda: None, repeat=0)


def test_plot_scaling_labels_each_curve_with_its_fitted_slope():
    sizes = np.array([100.0, 200.0, 400.0, 800.0])
    fig = plot_scaling(sizes, {"quadratic": 1e-6 * sizes**2, "linear": 1e-4 * sizes + 1e-3}, fit_last=2)
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "quadratic (slope 2.00)"
    assert labels[1].startswith("linear (slope 0.")
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
