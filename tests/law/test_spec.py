import math
import textwrap

import pytest

import bayes_scaling as bs
from bayes_scaling import LawError
from bayes_scaling.law.spec import spec_from_dict

SHIPPED = {"chinchilla", "kaplan_n", "kaplan_d", "kaplan_c", "kaplan_nd", "kaplan_ns", "kaplan_bcrit"}


def test_every_required_law_ships_and_parses():
    assert SHIPPED <= set(bs.law_names())
    for law in bs.list_laws():
        assert law.citation and law.formula.names >= set(law.parameters) | set(law.inputs)


def test_presets_exist_and_resolve():
    presets = {law.name: set(law.presets) for law in bs.list_laws()}
    assert {"hoffmann2022", "epoch2024"} <= presets["chinchilla"]
    for name in SHIPPED - {"chinchilla"}:
        assert "kaplan2020" in presets[name]
    spec = bs.load_law("chinchilla").with_priors("epoch2024")
    a = spec.parameters["A"].prior
    assert a.on == "log" and math.isclose(a.params["mu"], math.log(482.01))
    assert spec.prior_source == "epoch2024"


def test_unknown_preset_and_law_are_named():
    with pytest.raises(LawError, match="no prior preset 'nope'.*epoch2024"):
        bs.load_law("chinchilla").with_priors("nope")
    with pytest.raises(LawError, match="did you mean 'chinchilla'"):
        bs.load_law("chinchila")


def test_prior_override_dict_and_noise():
    spec = bs.load_law("chinchilla").with_priors(
        {"alpha": {"dist": "Gamma", "alpha": 2, "beta": 6}, "sigma": {"dist": "HalfNormal", "sigma": 0.02}})
    assert spec.parameters["alpha"].prior.dist == "Gamma"
    assert spec.noise["sigma"].params == {"sigma": 0.02}
    with pytest.raises(LawError, match="no parameter 'gamma'"):
        bs.load_law("chinchilla").with_priors({"gamma": {"dist": "Normal", "mu": 0, "sigma": 1}})


def test_positive_parameter_rejects_real_line_prior():
    with pytest.raises(LawError, match="'alpha' is constrained positive"):
        bs.load_law("chinchilla").with_priors({"alpha": {"dist": "Normal", "mu": 0.3, "sigma": 0.1}})


def test_noise_priors_must_be_positive_in_a_spec_and_in_an_override():
    """sigma and nu are scales: a prior with mass at or below 0 is refused, naming the law and the fix."""
    with pytest.raises(LawError, match="law 'chinchilla': noise 'nu' must be positive.*Gamma"):
        bs.load_law("chinchilla").with_priors({"nu": {"dist": "Normal", "mu": 5.0, "sigma": 3.0}})
    raw = {**CUSTOM, "noise": {"sigma": {"dist": "Normal", "mu": 0.05, "sigma": 0.02}}}
    with pytest.raises(LawError, match="law 'my_law': noise 'sigma' must be positive"):
        spec_from_dict(raw)
    fine = bs.load_law("chinchilla").with_priors({"nu": {"dist": "TruncatedNormal", "mu": 5.0, "sigma": 3.0,
                                                         "lower": 1.0}})
    assert fine.noise["nu"].dist == "TruncatedNormal"


CUSTOM = {
    "name": "my_law",
    "formula": "E + A / C**gamma",
    "inputs": {"C": "C"},
    "parameters": {
        "E": {"prior": {"dist": "LogNormal", "median": 1.7, "sigma": 0.5}},
        "gamma": {"prior": {"dist": "LogNormal", "median": 0.15, "sigma": 0.5}},
        "A": {"reference": {"input": "C", "form": "coefficient", "exponent": "gamma"},
              "prior": {"dist": "Normal", "mu": 0.0, "sigma": 1.5}},
    },
}


def test_custom_law_from_dict_and_toml_file(tmp_path):
    spec = bs.load_law(CUSTOM)
    assert spec.name == "my_law" and spec.parameters["A"].reference.input == "C"
    path = tmp_path / "my_law.toml"
    path.write_text(textwrap.dedent("""
        name = "my_law"
        formula = "E + A / C**gamma"
        inputs = ["C"]
        [parameters.E]
        prior = { dist = "LogNormal", median = 1.7, sigma = 0.5 }
        [parameters.gamma]
        prior = { dist = "LogNormal", median = 0.15, sigma = 0.5 }
        [parameters.A]
        prior = { dist = "LogNormal", median = 30.0, sigma = 2.0 }
    """))
    from_file = bs.load_law(path)
    assert from_file.formula.source == "E + A / C**gamma" and from_file.inputs == {"C": "C"}


@pytest.mark.parametrize("change, message", [
    ({"formula": "E + A / C**gamma + __import__('os')"}, "__import__"),
    ({"formula": "E + A.real / C**gamma"}, "attribute access"),
    ({"formula": "E + A / C**delta"}, "unknown name 'delta'"),
    ({"formula": "E + A / C"}, "'gamma'] do not appear in the formula"),
    ({"bogus": 1}, "unknown field"),
    ({"inputs": {}}, "inputs must map"),
])
def test_bad_custom_specs_are_rejected_with_the_reason(change, message):
    with pytest.raises(LawError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        spec_from_dict({**CUSTOM, **change})


def test_reference_parameter_needs_reference_or_log_prior():
    bad = {**CUSTOM, "parameters": {**CUSTOM["parameters"], "A": {
        "reference": {"input": "C", "form": "coefficient", "exponent": "gamma"},
        "prior": {"dist": "LogNormal", "median": 1.0, "sigma": 1.0}}}}
    with pytest.raises(LawError, match="reference-scaled"):
        spec_from_dict(bad)


def test_spec_json_round_trip_keeps_priors():
    spec = bs.load_law("kaplan_nd").with_priors("kaplan2020")
    import json

    again = spec_from_dict(json.loads(spec.to_json()))
    assert again.to_json() == spec.to_json()
    assert again.prior_source == "kaplan2020"
