"""Law specifications: declarative TOML files in ``models/``, one law per file.

A spec gives the law's name, citation, formula (natural notation), response,
inputs (formula symbol -> runs-table column), parameters with default priors
and constraints, optional reference-scale parameterization, and literature
presets. See ``docs/laws.md`` for the format; ``models/chinchilla.toml`` is the
model example.

Reference-scale parameterization (how a custom spec opts in)
------------------------------------------------------------
Add ``reference = {input = "N", form = "coefficient", exponent = "alpha"}`` to a
scale parameter ``A`` whose term is ``A / N**alpha`` (``form = "critical"`` for
``(Nc / N)**alpha``). The model then samples ``log_A_ref``, the log of the term
at the geometric mean N0 of the data, instead of ``log A``; ``A`` itself is a
deterministic. This removes the ridge between ``log A`` and ``alpha`` that
otherwise slows NUTS by an order of magnitude.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.errors import FormulaError, LawError, PriorError
from ..core.resources import shipped_dir
from .formula import Formula, parse
from .priors import LOCATION_SCALE, Prior, parse_prior

__all__ = ["LawSpec", "Parameter", "Reference", "load_law", "list_laws", "law_names",
           "DEFAULT_NOISE"]

DEFAULT_NOISE = {
    "sigma": {"dist": "HalfNormal", "sigma": 0.1},
    "nu": {"dist": "Gamma", "alpha": 2.0, "beta": 0.1},
}
_TOP_KEYS = {"name", "title", "citation", "formula", "response", "inputs", "parameters",
             "presets", "description", "noise", "units", "notes"}
_PARAM_KEYS = {"description", "prior", "constraint", "reference", "unit"}
_PRESET_META = {"citation", "widths", "note"}


@dataclass(frozen=True)
class Reference:
    """Reference-scale parameterization of a scale parameter.

    ``form="coefficient"``: the term is ``X * x**(-p)``; the model samples
    ``log X - p log x0``. ``form="critical"``: the term is ``(X / x)**p``; the
    model samples ``p (log X - log x0)``. ``x0`` is the geometric mean of input
    ``input`` in the data; ``p`` is the ``exponent`` expression.
    """

    input: str
    form: str
    exponent: Formula


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    constraint: str
    prior: Prior
    reference: Reference | None = None
    unit: str = ""


@dataclass(frozen=True)
class LawSpec:
    """A parsed, checked law specification (see module docstring)."""

    name: str
    title: str
    citation: str
    formula: Formula
    response: str
    inputs: dict[str, str]
    parameters: dict[str, Parameter]
    noise: dict[str, Prior]
    presets: dict[str, dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)
    prior_source: str = "default"

    @property
    def n_params(self) -> int:
        return len(self.parameters)

    @property
    def columns(self) -> list[str]:
        """Runs-table columns the law reads (inputs), in formula order."""
        return list(self.inputs.values())

    def priors_table(self) -> list[dict[str, str]]:
        rows = [{"parameter": p.name, "prior": p.prior.describe(), "description": p.description}
                for p in self.parameters.values()]
        rows += [{"parameter": k, "prior": v.describe(), "description": "observation noise"}
                 for k, v in self.noise.items()]
        return rows

    def to_json(self) -> str:
        """The spec with its resolved priors, as JSON (saved with every fit)."""
        out = copy.deepcopy(self.raw)
        for name, p in self.parameters.items():
            out["parameters"][name]["prior"] = p.prior.to_dict()
        out["noise"] = {k: v.to_dict() for k, v in self.noise.items()}
        out["_prior_source"] = self.prior_source
        return json.dumps(out)

    def with_priors(self, priors: str | Mapping[str, Any] | None) -> LawSpec:
        """Return a copy with a preset (by name) or per-parameter overrides applied.

        ``priors`` may be ``None`` (spec defaults), a preset name such as
        ``"hoffmann2022"``, or a dict ``{param: prior table}`` (``"sigma"`` and
        ``"nu"`` set the noise priors). A dict may also hold ``"preset": name``
        to start from a preset.
        """
        if priors is None:
            return self
        if isinstance(priors, str):
            priors = {"preset": priors}
        if not isinstance(priors, Mapping):
            raise LawError(f"priors must be None, a preset name or a dict, got {type(priors).__name__}")
        priors = dict(priors)
        params, noise, source = dict(self.parameters), dict(self.noise), []
        preset = priors.pop("preset", None)
        if preset is not None:
            if preset not in self.presets:
                raise LawError(f"law {self.name!r} has no prior preset {preset!r} "
                               f"(available: {sorted(self.presets) or 'none'})")
            values = {k: v for k, v in self.presets[preset].items() if k not in _PRESET_META}
            priors = {**values, **priors}
            source.append(preset)
        for key, spec in priors.items():
            if key in noise:
                noise[key] = _noise_prior(f"law {self.name!r}", key, spec)
            elif key in params:
                p = params[key]
                prior = parse_prior(spec, param=key, default_on="reference" if p.reference else "value")
                params[key] = replace(p, prior=_checked_prior(self.name, p.name, prior, p.constraint,
                                                              p.reference))
            else:
                raise LawError(f"priors: law {self.name!r} has no parameter {key!r} "
                               f"(parameters: {sorted(params)}, noise: {sorted(noise)})")
            if key not in (self.presets.get(preset) or {}):
                source.append(f"{key} custom")
        return replace(self, parameters=params, noise=noise, prior_source=", ".join(source))


# --------------------------------------------------------------------------- loading
def law_names() -> list[str]:
    """Names of the laws shipped in ``models/``."""
    return sorted(p.stem for p in shipped_dir("models").glob("*.toml"))


def list_laws() -> list[LawSpec]:
    """Every shipped law spec, parsed (their LawWarnings, known and documented, are not repeated)."""
    import warnings

    from ..core.errors import LawWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LawWarning)
        return [load_law(name) for name in law_names()]


def load_law(law: str | Path | Mapping[str, Any] | LawSpec) -> LawSpec:
    """Load a law: a shipped name (``"chinchilla"``), a TOML file path, a dict or a spec."""
    if isinstance(law, LawSpec):
        return law
    if isinstance(law, Mapping):
        return spec_from_dict(dict(law))
    path = Path(law)
    if isinstance(law, str) and path.suffix != ".toml":
        shipped = shipped_dir("models") / f"{law}.toml"
        if not shipped.is_file():
            import difflib

            close = difflib.get_close_matches(law, law_names(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LawError(f"unknown law {law!r} (shipped laws: {', '.join(law_names())}{hint}); "
                           "pass a .toml path or a dict for a custom law")
        path = shipped
    if not path.is_file():
        raise FileNotFoundError(f"law spec file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LawError(f"law spec {path}: invalid TOML: {exc}") from None
    return spec_from_dict(raw, origin=str(path))


_RESERVED = frozenset({"sigma", "nu", "run_sd", "run_effect", "run_z"})


def _reserved(name: str) -> bool:
    """A parameter name the PyMC model already uses (noise, run effects, pooling, the reference scale)."""
    return (name in _RESERVED or name.startswith(("log_", "gp_")) or name.endswith(("_ref", "_tau", "_z")))


def spec_from_dict(raw: dict[str, Any], origin: str = "dict") -> LawSpec:
    """Parse and check a spec dict (the TOML content)."""
    raw = copy.deepcopy(raw)
    prior_source = str(raw.pop("_prior_source", "default"))
    name = raw.get("name")
    where = f"law {name!r}" if name else f"law spec ({origin})"
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise LawError(f"{where}: unknown field(s) {sorted(unknown)} (allowed: {sorted(_TOP_KEYS)})")
    for key in ("name", "formula", "inputs", "parameters"):
        if key not in raw:
            raise LawError(f"{where}: missing field {key!r}")
    inputs = raw["inputs"]
    if isinstance(inputs, list):
        inputs = {c: c for c in inputs}
        raw["inputs"] = inputs
    if not isinstance(inputs, dict) or not inputs:
        raise LawError(f"{where}: inputs must map formula symbols to runs columns, e.g. {{N = 'N'}}")
    params_raw = raw["parameters"]
    if not isinstance(params_raw, dict) or not params_raw:
        raise LawError(f"{where}: parameters must be a non-empty table")
    reserved = sorted(p for p in params_raw if _reserved(str(p)))
    if reserved:
        raise LawError(f"{where}: parameter name(s) {reserved} are reserved for the model's own variables "
                       f"({', '.join(sorted(_RESERVED))}, and names starting with log_ or gp_ or ending in "
                       "_ref, _tau or _z): rename them, e.g. sigma -> s0")
    clash = set(inputs) & set(params_raw)
    if clash:
        raise LawError(f"{where}: names used both as input and parameter: {sorted(clash)}")
    try:
        formula = parse(raw["formula"], set(inputs) | set(params_raw), what=f"{where} formula")
        params = {p: _parameter(where, p, spec, set(params_raw), set(inputs))
                  for p, spec in params_raw.items()}
    except (FormulaError, PriorError) as exc:
        raise LawError(str(exc)) from None
    unused = set(params) - formula.names
    if unused:
        raise LawError(f"{where}: parameter(s) {sorted(unused)} do not appear in the formula")
    missing_inputs = set(inputs) - formula.names
    if missing_inputs:
        raise LawError(f"{where}: input(s) {sorted(missing_inputs)} do not appear in the formula")
    noise = {k: _noise_prior(where, k, v) for k, v in {**DEFAULT_NOISE, **raw.get("noise", {})}.items()}
    if set(noise) != set(DEFAULT_NOISE):
        raise LawError(f"{where}: noise may only set {sorted(DEFAULT_NOISE)}")
    presets = raw.get("presets", {})
    spec = LawSpec(name=str(name), title=str(raw.get("title", name)), citation=str(raw.get("citation", "")),
                   formula=formula, response=str(raw.get("response", "loss")), inputs=dict(inputs),
                   parameters=params, noise=noise, presets=presets, raw=raw, prior_source=prior_source)
    for preset in presets:  # every preset must resolve
        spec.with_priors(preset)
    _check_positive(spec, where)
    return spec


def _parameter(where: str, name: str, spec: Any, params: set[str], inputs: set[str]) -> Parameter:
    if not isinstance(spec, dict):
        raise LawError(f"{where}: parameter {name!r} must be a table")
    unknown = set(spec) - _PARAM_KEYS
    if unknown:
        raise LawError(f"{where}: parameter {name!r} has unknown field(s) {sorted(unknown)}")
    constraint = spec.get("constraint", "positive")
    if constraint not in ("positive", "real"):
        raise LawError(f"{where}: parameter {name!r}: constraint must be 'positive' or 'real'")
    ref = None
    if "reference" in spec:
        r = spec["reference"]
        if not isinstance(r, dict) or set(r) != {"input", "form", "exponent"}:
            raise LawError(f"{where}: parameter {name!r}: reference needs exactly input, form, exponent")
        if r["input"] not in inputs:
            raise LawError(f"{where}: parameter {name!r}: reference input {r['input']!r} is not an input")
        if r["form"] not in ("coefficient", "critical"):
            raise LawError(f"{where}: parameter {name!r}: reference form must be 'coefficient' or 'critical'")
        if constraint != "positive":
            raise LawError(f"{where}: parameter {name!r}: a reference-scale parameter must be positive")
        exponent = parse(str(r["exponent"]), params - {name}, what=f"{where} exponent of {name!r}")
        ref = Reference(input=r["input"], form=r["form"], exponent=exponent)
    if "prior" not in spec:
        raise LawError(f"{where}: parameter {name!r} has no prior")
    prior = parse_prior(spec["prior"], param=name, default_on="reference" if ref else "value")
    prior = _checked_prior(where, name, prior, constraint, ref)
    return Parameter(name=name, description=str(spec.get("description", "")), constraint=constraint,
                     prior=prior, reference=ref, unit=str(spec.get("unit", "")))


def _checked_prior(where: str, name: str, prior: Prior, constraint: str, ref: Reference | None) -> Prior:
    if ref is not None:
        if prior.on == "value" or prior.dist not in LOCATION_SCALE:
            raise LawError(f"{where}: parameter {name!r} is reference-scaled: its prior must be a "
                           "Normal or StudentT on='reference' (log of the term at the reference "
                           "scale) or on='log' (log of the value)")
        return prior
    if prior.on != "value":
        raise LawError(f"{where}: parameter {name!r}: on={prior.on!r} is only for reference-scale parameters")
    if constraint == "positive" and not prior.is_positive():
        raise LawError(f"{where}: parameter {name!r} is constrained positive but its prior {prior.dist} "
                       "puts mass on values <= 0; use LogNormal, HalfNormal, Gamma or "
                       "TruncatedNormal(lower=0)")
    return prior


def _check_positive(spec: LawSpec, where: str) -> None:
    positive = {p for p, v in spec.parameters.items() if v.constraint == "positive"} | set(spec.inputs)
    if not spec.formula.is_positive(positive):
        import warnings

        from ..core.errors import LawWarning

        warnings.warn(f"{where}: the formula is not provably positive (it uses '-' or a real-valued "
                      "parameter), so log(response) is taken numerically; draws where it is <= 0 "
                      "are rejected by the sampler", LawWarning, stacklevel=3)


def _noise_prior(where: str, key: str, spec) -> Prior:
    """The prior of a noise parameter (``sigma``, ``nu``): both are scales, so it must be positive."""
    prior = parse_prior(spec, param=key)
    if not (prior.is_positive() or prior.on == "log"):
        raise LawError(f"{where}: noise {key!r} must be positive but its prior {prior.dist} puts mass on "
                       "values <= 0; use LogNormal, HalfNormal, Gamma or TruncatedNormal(lower=0)")
    return prior
