"""The data layer: runs tables in, validated :class:`~bayes_scaling.data.runs.Runs` out.

- :mod:`~bayes_scaling.data.units`: canonical columns' units, FLOPs and PF-days, "7B"-style sizes;
- :mod:`~bayes_scaling.data.validation`: the validation rules and their messages;
- :mod:`~bayes_scaling.data.runs`: :func:`~bayes_scaling.data.runs.load_runs` and ``Runs``;
- :mod:`~bayes_scaling.data.checkpoints`: warm-up dropping, Kaplan's S_min;
- :mod:`~bayes_scaling.data.datasets`: the registry of public datasets (``bs.datasets``);
- :mod:`~bayes_scaling.data.synthetic`: runs simulated from a law with known truth (``bs.simulate``).

It sits above :mod:`bayes_scaling.law` only because synthetic runs are drawn from a law.
"""
