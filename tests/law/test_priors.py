import math

import pytest

from bayes_scaling import PriorError
from bayes_scaling.law.priors import parse_prior


def test_lognormal_median_shorthand():
    p = parse_prior({"dist": "LogNormal", "median": 0.3, "sigma": 0.5}, param="alpha")
    assert math.isclose(p.params["mu"], math.log(0.3)) and p.is_positive()


def test_preset_shorthand_depends_on_parameter_kind():
    assert parse_prior({"median": 400, "log_sd": 0.5}, param="E").dist == "LogNormal"
    ref = parse_prior({"median": 400, "log_sd": 0.5}, param="A", default_on="reference")
    assert (ref.dist, ref.on) == ("Normal", "log")


@pytest.mark.parametrize("spec, message", [
    ({"dist": "Cauchy", "alpha": 0, "beta": 1}, "unknown distribution 'Cauchy'"),
    ({"dist": "Normal", "mu": 0}, "needs sigma"),
    ({"dist": "Normal", "mu": 0, "sigma": -1}, "sigma must be > 0"),
    ({"dist": "Normal", "mu": "a", "sigma": 1}, "mu must be a number"),
    ({"dist": "Normal", "mu": 0, "sigma": 1, "scale": 2}, r"no parameter\(s\) \['scale'\]"),
    ({"dist": "Gamma", "alpha": 2, "beta": 1, "on": "log"}, "on='log' needs a Normal"),
    ({"dist": "Normal", "mu": float("nan"), "sigma": 1}, "must be finite"),
    ("Normal(0, 1)", "must be a table"),
])
def test_malformed_priors_name_the_parameter(spec, message):
    with pytest.raises(PriorError, match=message) as err:
        parse_prior(spec, param="alpha")
    assert "'alpha'" in str(err.value)
