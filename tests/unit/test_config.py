"""Config loading: extends, overrides, units, distributions, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.config.units import parse_duration_h, parse_speed_kmh

from ..conftest import tiny_raw


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("40 s", 40 / 3600),
        ("90 min", 1.5),
        ("2 h", 2.0),
        ("1.5 d", 36.0),
        (3, 3.0),
        ("0.5", 0.5),
        ("1 week", 168.0),
    ],
)
def test_durations(text: object, hours: float) -> None:
    assert parse_duration_h(text) == pytest.approx(hours)


@pytest.mark.parametrize("bad", ["2 parsecs", "fast", True, float("nan"), "inf h"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration_h(bad)


def test_speeds() -> None:
    assert parse_speed_kmh("1100 km/day") == pytest.approx(1100 / 24)
    assert parse_speed_kmh("45 km/h") == 45
    assert parse_speed_kmh(60) == 60


def test_packaged_baseline_loads() -> None:
    cfg = load_config()
    assert isinstance(cfg, ScenarioConfig)
    assert cfg.name == "baseline"
    assert cfg.demand.tonnes_per_day == 3600
    assert set(cfg.services_destinations()) == {
        "Duisburg",
        "Hamburg",
        "Łódź",
        "Moscow",
        "Almaty",
        "Tashkent",
        "Bishkek",
    }


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_extends_merges_recursively(tmp_path: Path) -> None:
    base = _write(tmp_path / "base.yaml", tiny_raw())
    mid = _write(tmp_path / "mid.yaml", {"extends": base.name, "hub": {"cranes": {"count": 3}}})
    top = _write(
        tmp_path / "top.yaml",
        {"extends": mid.name, "name": "top", "demand": {"tonnes_per_day": 50}},
    )
    cfg = load_config(top)
    assert cfg.name == "top"
    assert cfg.hub.cranes.count == 3
    assert cfg.hub.cranes.move_time.mean == pytest.approx(0.1)  # kept from base
    assert cfg.demand.tonnes_per_day == 50
    assert cfg.demand.classes["containers"].payload_t.mean == 10


def test_a_child_that_names_another_distribution_replaces_the_parents(tmp_path: Path) -> None:
    base = _write(tmp_path / "base.yaml", tiny_raw())
    raw = tiny_raw()
    raw["hub"]["cranes"]["move_time"] = {"dist": "gamma", "mean": "6 min", "cv": 0.5}
    _write(base, raw)
    child = {"extends": base.name, "hub": {"cranes": {"move_time": {"dist": "exponential"}}}}
    child["hub"]["cranes"]["move_time"]["mean"] = "8 min"
    cfg = load_config(_write(tmp_path / "child.yaml", child))  # no 'cv' inherited
    assert cfg.hub.cranes.move_time.dist == "exponential"
    assert cfg.hub.cranes.move_time.mean == pytest.approx(8 / 60)
    same = {"extends": base.name, "hub": {"cranes": {"move_time": {"mean": "9 min"}}}}
    kept = load_config(_write(tmp_path / "same.yaml", same)).hub.cranes.move_time
    assert (kept.dist, kept.cv) == ("gamma", 0.5)  # the same kind: merged key by key


def test_merging_drops_the_parents_alternative_and_replaces_another_rule() -> None:
    from silkroute_sim.config.loader import deep_merge

    parent = {"ferry": {"capacity_wagons": 50, "vessels": 2, "sailing": {"every": 48, "first": 6}}}
    child = {"ferry": {"capacity_teu": 100, "sailing": {"weekly": ["Mon 08:00"]}}}
    assert deep_merge(parent, child) == {
        "ferry": {"vessels": 2, "capacity_teu": 100, "sailing": {"weekly": ["Mon 08:00"]}}
    }
    assert deep_merge({"duration": 5, "start": 1}, {"end": 9}) == {"start": 1, "end": 9}
    assert deep_merge({"tracks": 2, "trains_per_day": 8}, {"trains_per_day": 9}) == {
        "tracks": 2,
        "trains_per_day": 9,
    }


@pytest.mark.parametrize(
    ("kwargs", "first_words"),
    [
        ({"days": 5, "warmup_days": 5}, "--warmup-days 5: simulation: warmup_days (5)"),
        (
            {"overrides": ["simulation.start_date=2020-10-01", "simulation.start_month=3"]},
            "--set simulation.start_month=3: simulation: start_month (3)",
        ),
        (
            {"overrides": ["simulation.max_entities=10"]},
            "--set simulation.max_entities=10: simulation: the run would create",
        ),
    ],
)
def test_a_check_over_several_keys_that_only_the_options_fail_names_the_option(
    kwargs: dict, first_words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("baseline", **kwargs)
    assert str(info.value).startswith(first_words), str(info.value)


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", {"extends": "b.yaml"})
    _write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ConfigError, match=r"cycle in extends: a\.yaml -> b\.yaml -> a\.yaml"):
        load_config(tmp_path / "a.yaml")


def test_extends_missing_file(tmp_path: Path) -> None:
    _write(tmp_path / "a.yaml", {"extends": "nope.yaml"})
    with pytest.raises(ConfigError, match="extends: file not found"):
        load_config(tmp_path / "a.yaml")


def test_overrides_and_cli_simulation_flags(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.yaml", tiny_raw())
    cfg = load_config(
        path,
        [
            "hub.cranes.count=6",
            "corridor.edges.0.km=250",
            "hub.cranes.move_time={dist: exponential, mean: 5 min}",
        ],
        days=9,
        seed=3,
    )
    assert cfg.hub.cranes.count == 6
    assert cfg.corridor.edges[0].km == 250
    assert cfg.hub.cranes.move_time.mean == pytest.approx(5 / 60)
    assert (cfg.simulation.days, cfg.simulation.seed) == (9, 3)


def test_a_bad_value_from_set_is_blamed_on_the_set(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.yaml", tiny_raw())
    with pytest.raises(ConfigError) as info:
        load_config(path, ["hub.cranes.count=0"])
    assert (
        str(info.value) == "--set hub.cranes.count=0: invalid value; allowed: a value >= 1 (got 0)"
    )
    raw = tiny_raw()
    raw["hub"]["cranes"]["count"] = 0
    with pytest.raises(ConfigError) as info:  # the file's own value: the file alone
        load_config(_write(tmp_path / "u.yaml", raw))
    assert "--set" not in str(info.value)


def _error(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "x.yaml")
    text = str(info.value)
    assert "\n" not in text
    return text


def test_unknown_key_did_you_mean() -> None:
    raw = tiny_raw()
    raw["hub"]["cranes"]["cout"] = 4
    text = _error(raw)
    assert text.startswith("x.yaml: hub.cranes.cout: unknown key 'cout'")
    assert "did you mean 'count'?" in text


def test_unknown_key_in_distribution() -> None:
    raw = tiny_raw()
    raw["hub"]["cranes"]["move_time"] = {"dist": "gamma", "mean": 1, "cv": 1, "sd": 2}
    text = _error(raw)
    assert "hub.cranes.move_time.sd: unknown key 'sd'" in text
    assert "allowed keys: dist, mean, cv" in text


def test_wrong_type_and_negative_capacity() -> None:
    raw = tiny_raw()
    raw["hub"]["cranes"]["count"] = "many"
    assert "hub.cranes.count: invalid value; allowed: an integer (got 'many')" in _error(raw)
    raw = tiny_raw()
    raw["hub"]["yard"]["capacity_teu"] = -5
    assert "hub.yard.capacity_teu: invalid value; allowed: a value > 0 (got -5)" in _error(raw)


def test_unknown_destination_node() -> None:
    raw = tiny_raw()
    raw["demand"]["classes"]["containers"]["destinations"] = {"Trem": 1}
    text = _error(raw)
    assert (
        "demand.classes.containers.destinations.Trem: unknown node (did you mean 'Term'?)" in text
    )


def test_train_smaller_than_one_box() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 1
    assert "services.term.capacity_teu: a train smaller than one containers unit" in _error(raw)


def test_shares_must_sum_to_one() -> None:
    raw = tiny_raw()
    raw["demand"]["classes"]["containers"]["share"] = 0.5
    assert "class shares must sum to 1" in _error(raw)


def test_unknown_distribution_kind() -> None:
    raw = tiny_raw()
    raw["hub"]["gate"]["service_time"] = {"dist": "weibull", "shape": 2}
    assert "unknown distribution 'weibull'" in _error(raw)


# --------------------------------------------------------------------------- distributions

DISTS = [
    {"dist": "constant", "value": 2.0},
    {"dist": "exponential", "mean": 2.0},
    {"dist": "uniform", "low": 1.0, "high": 4.0},
    {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0},
    {"dist": "normal", "mean": 1.0, "sd": 1.0},
    {"dist": "lognormal", "mean": 2.0, "cv": 0.8},
    {"dist": "gamma", "mean": 2.0, "cv": 0.5},
    {"dist": "empirical", "values": [1, 2, 7], "weights": [0.5, 0.3, 0.2]},
]


@pytest.mark.parametrize("spec", DISTS, ids=[d["dist"] for d in DISTS])
def test_sample_moments_match_theory(spec: dict) -> None:
    from pydantic import TypeAdapter

    from silkroute_sim.config.distributions import QuantityDist

    dist = TypeAdapter(QuantityDist).validate_python(spec)
    n = 200_000
    x = dist.sample(np.random.default_rng(2024), n)
    assert (x >= 0).all()
    # 4.5 standard errors: a false alarm once in ~150,000 runs per check
    se_mean = np.sqrt(dist.variance / n)
    assert abs(x.mean() - dist.mean) <= 4.5 * se_mean + 1e-12
    if dist.variance > 0:
        m4 = np.mean((x - x.mean()) ** 4)
        se_var = np.sqrt((m4 - x.var() ** 2) / n)
        assert abs(x.var() - dist.variance) <= 4.5 * se_var
    else:
        assert x.var() == 0


# --------------------------------------------------------------------------- workload: events


def _refused(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(Path(__file__).parents[2] / "configs" / "baseline.yaml", overrides)
    return str(info.value)


def test_a_breakdown_every_millisecond_is_refused_with_its_expected_count() -> None:
    message = _refused(
        ["disruptions.random.breakdowns=[{hub: cranes, mtbf: 0.001 s, mttr: 0.001 s}]"]
    )
    # 3 cranes x 8,760 h / (2 ms) = 47.3 billion failures
    assert message.endswith(
        "--set disruptions.random.breakdowns=[{hub: cranes, mtbf: 0.001 s, mttr: 0.001 s}]: "
        "disruptions.random.breakdowns.0: the run would "
        "see about 47.3 billion "
        "random disruption events over 365 days, more than max_entities (5,000,000), and keeps "
        "them all in memory; give a longer mtbf, or raise simulation.max_entities"
    )


def test_weather_a_billion_times_a_month_is_refused() -> None:
    months = "[" + ", ".join(["1e9"] * 12) + "]"
    weather = f"[{{node: Khorgos, events_per_month: {months}, duration: 1 h}}]"
    message = _refused([f"disruptions.random.weather={weather}"])
    assert "disruptions.random.weather.0: the run would see about 12 billion random" in message
    assert "lower events_per_month" in message


def test_disruption_events_count_toward_max_entities() -> None:
    breakdown = "disruptions.random.breakdowns=[{hub: cranes, mtbf: 1 h, mttr: 1 h}]"
    # alone: 3 cranes x 8,760 h / 2 h = 13,140 failures, far under the limit
    cfg = load_config(Path(__file__).parents[2] / "configs" / "baseline.yaml", [breakdown])
    assert cfg.disruptions.random.breakdowns[0].mtbf.mean == 1.0
    message = _refused([breakdown, "simulation.max_entities=90000"])
    assert "+ 13,140 disruption events), more than max_entities (90,000)" in message


def test_inbound_trains_tied_to_departures_count_toward_max_entities() -> None:
    inbound = "hub.inbound.back={share_of_outbound: 10, boxes: 1000, dwell: 1 d}"
    message = _refused([inbound])
    assert message.startswith(f"--set {inbound}: simulation: ")  # what the option made
    assert "other trains/day" in message and "more than max_entities (5,000,000)" in message


# ----------------------------------------------------------------- names and packaged configs


def test_a_child_without_a_name_is_named_after_its_own_file(tmp_path: Path) -> None:
    _write(tmp_path / "base.yaml", tiny_raw())  # name: tiny
    _write(tmp_path / "more cranes.yaml", {"extends": "base.yaml", "hub": {"cranes": {"count": 2}}})
    _write(tmp_path / "named.yaml", {"extends": "more cranes.yaml", "name": "mine"})
    _write(tmp_path / "grandchild.yaml", {"extends": "named.yaml"})
    assert load_config(tmp_path / "base.yaml").name == "tiny"
    assert load_config(tmp_path / "more cranes.yaml").name == "more-cranes"
    assert load_config(tmp_path / "named.yaml").name == "mine"
    assert load_config(tmp_path / "grandchild.yaml").name == "grandchild"
    # a child's own `set:` may still name it
    _write(tmp_path / "set.yaml", {"extends": "base.yaml", "set": {"name": "by-set"}})
    assert load_config(tmp_path / "set.yaml").name == "by-set"


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("baseline", "baseline"),
        ("baseline.yaml", "baseline"),
        ("configs/baseline.yaml", "baseline"),
        ("khorgos-closed-7d", "khorgos-closed-7d"),
        ("scenarios/khorgos-closed-7d", "khorgos-closed-7d"),
        ("configs/scenarios/auto-exports.yaml", "auto-exports"),
    ],
)
def test_packaged_configs_load_by_name_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(given).name == name


def test_a_file_in_the_folder_wins_over_a_packaged_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "baseline.yaml", tiny_raw())
    assert load_config("baseline.yaml").name == "tiny"
    assert load_config("baseline").name == "baseline"  # no file called "baseline" here


def test_an_unknown_name_lists_the_packaged_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config("khorgos-closed-7days")
    text = str(info.value)
    assert text.startswith(
        "khorgos-closed-7days: file not found, and no packaged config has that name "
        "(did you mean 'khorgos-closed-7d'?); packaged configs: baseline, alashankou-gales, "
    )
    assert "auto-exports" in text and "\n" not in text
    assert "corridor" not in text  # fragments that baseline extends are not scenarios


# --------------------------------------------------------------------------- --set is blamed


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "demand.tonnes_per_dy=5000",
            "--set demand.tonnes_per_dy=5000: unknown key 'tonnes_per_dy' under demand "
            "(did you mean 'tonnes_per_day'?); allowed keys: tonnes_per_day, arrivals, ",
        ),
        (  # the key it created, not the one it set, is unknown
            "hub.crane.count=3",
            "--set hub.crane.count=3: unknown key 'crane' under hub (did you mean 'cranes'?)",
        ),
        ("nosuch=1", "--set nosuch=1: unknown key 'nosuch' at the top level; allowed keys: "),
        (
            "demand.tonnes_per_day=lots",
            "--set demand.tonnes_per_day=lots: invalid value; allowed: a number (got 'lots')",
        ),
        (  # an error inside the value keeps its path
            "hub.cranes={count: 0, move_time: 6 min}",
            "--set hub.cranes={count: 0, move_time: 6 min}: hub.cranes.count: invalid value",
        ),
        (
            "corridor.edges[from=Hub,to=Border].speed=fast",
            "--set corridor.edges[from=Hub,to=Border].speed=fast: not a speed",
        ),
    ],
)
def test_set_mistakes_name_the_set_option(tmp_path: Path, override: str, expected: str) -> None:
    path = _write(tmp_path / "t.yaml", tiny_raw())
    with pytest.raises(ConfigError) as info:
        load_config(path, [override])
    assert str(info.value).startswith(expected), str(info.value)
    assert str(path) not in str(info.value)


def test_a_mistake_in_the_file_is_blamed_on_the_file_beside_a_set(tmp_path: Path) -> None:
    raw = tiny_raw()
    raw["hub"]["cranes"]["cout"] = 4
    path = _write(tmp_path / "t.yaml", raw)
    with pytest.raises(ConfigError) as info:
        load_config(path, ["hub.cranes.count=2", "demand.tonnes_per_day=50"])
    assert str(info.value).startswith(f"{path}: hub.cranes.cout: unknown key 'cout'")


def test_a_packaged_name_never_leaves_the_configs_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("../pyproject.toml", "scenarios/../baseline"):
        with pytest.raises(ConfigError, match="file not found, and no packaged config"):
            load_config(name)


def test_an_impossible_yaml_date_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad-date.yaml"
    path.write_text(
        f"extends: {Path(__file__).parents[2] / 'configs' / 'baseline.yaml'}\n"
        "simulation: {start_date: 2024-13-04}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "'2024-13-04' is not a valid date (month must be in 1..12)" in str(info.value)


def test_a_subsidy_end_date_needs_a_start_date() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, ["costs.subsidy.ends=2020-01-01"])
    assert "costs.subsidy.ends" in str(info.value)
    assert "needs simulation.start_date" in str(info.value)
    cfg = load_config(None, ["costs.subsidy.ends=2020-01-01", "simulation.start_date=2019-01-01"])
    assert str(cfg.costs.subsidy.ends) == "2020-01-01"


def test_extends_takes_a_packaged_config_by_name(tmp_path: Path) -> None:
    """``extends: baseline`` with no such file beside the child is the packaged one."""
    child = tmp_path / "my-variant.yaml"
    child.write_text("extends: baseline\nhub: {cranes: {count: 4}}\n", encoding="utf-8")
    cfg = load_config(child)
    assert cfg.name == "my-variant" and cfg.hub.cranes.count == 4
    assert cfg.demand.tonnes_per_day == load_config("baseline").demand.tonnes_per_day


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("costs.carrying_rate_by_class.containrs=0.1", "unknown cargo class"),
        ("costs.destination_handling_by_node.Duisberg=10", "unknown node"),
    ],
)
def test_misspelt_names_in_costs_are_refused_at_load(override: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    assert expected in str(info.value) and "did you mean" in str(info.value)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            {"nodes": ["Brest", "Brset"]},
            "disruptions.scheduled.0.nodes.1: unknown node (did you mean 'Brest'?)",
        ),
        (
            {"country_border": ["PL", "CN"]},
            "disruptions.scheduled.0.country_border: no node of country PL has an edge to a "
            "node of country CN",
        ),
    ],
)
def test_a_bad_group_closure_gives_one_line(target: dict, expected: str, tmp_path: Path) -> None:
    scenario = Path("configs/scenarios/belarus-poland-closed-13d.yaml").resolve()
    raw = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    raw["extends"] = str(scenario.parent.parent / "baseline.yaml")
    entry = raw["disruptions"]["scheduled"][0]
    del entry["country_border"]
    entry.update(target)
    path = tmp_path / "bad-group.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert expected in text and "\n" not in text, text


@pytest.mark.parametrize(
    ("key", "low", "mode", "high", "shown"),
    [
        (
            "hub.gate.service_time",
            "10 min",
            "5 min",
            "20 min",
            "low 10 min, mode 5 min, high 20 min",
        ),
        ("hub.gate.service_time", "2 h", "30 s", "3 h", "low 2 h, mode 30 s, high 3 h"),
        ("demand.classes.containers.payload_t", 10, 5, 20, "low 10, mode 5, high 20"),
    ],
)
def test_a_triangular_out_of_order_shows_its_values_as_written(
    key: str, low: object, mode: object, high: object, shown: str
) -> None:
    value = f"{{dist: triangular, low: {low}, mode: {mode}, high: {high}}}"
    with pytest.raises(ConfigError, match=f"need low <= mode <= high, got {shown}"):
        load_config("baseline", [f"{key}={value}"])


def test_a_name_typed_with_combining_accents_is_the_same_node() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Łódź")
    assert decomposed != "Łódź"
    cfg = load_config("baseline", [f"services.lodz-hamburg.stops=[{decomposed}, Hamburg]"])
    assert cfg.services["lodz-hamburg"].stops[0] == "Łódź"


def test_a_yard_too_small_for_a_train_to_leave_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"--set hub.yard.capacity_teu=5: the yard holds less than service"
    ):
        load_config("baseline", ["hub.yard.capacity_teu=5"])


def test_an_unquoted_clock_time_is_its_text_not_a_base_60_number(tmp_path: Path) -> None:
    from silkroute_sim.config.loader import parse_yaml

    assert parse_yaml("a: [18:00, 6:30, 1:30.5, 1e9, 12]") == {
        "a": ["18:00", "6:30", "1:30.5", 1e9, 12]
    }
    with pytest.raises(ConfigError, match=r"--set hub.gate.service_time=1:30: not a duration"):
        load_config(
            _write(tmp_path / "c.yaml", {"extends": "baseline"}), ["hub.gate.service_time=1:30"]
        )


def test_a_child_that_names_another_policy_kind_replaces_the_parents(tmp_path: Path) -> None:
    child = {"extends": "baseline", "services": {"duisburg": {"policy": {"kind": "full"}}}}
    cfg = load_config(_write(tmp_path / "full.yaml", child))
    assert cfg.services["duisburg"].policy.kind == "full"


def test_an_unbounded_payload_that_can_outweigh_its_train_needs_a_cap(tmp_path: Path) -> None:
    child = {
        "extends": "baseline",
        "set": {"demand.classes.containers.max_payload_t": None},
        "demand": {
            "classes": {"containers": {"payload_t": {"dist": "gamma", "mean": 19, "cv": 10}}}
        },
    }
    with pytest.raises(ConfigError, match=r"payloads up to 1,919 t do not fit a train"):
        load_config(_write(tmp_path / "heavy.yaml", child))
    child["demand"]["classes"]["containers"]["payload_t"]["cv"] = 0.2  # 19 t ± 38 t: fits
    load_config(_write(tmp_path / "light.yaml", child))


@pytest.mark.parametrize(
    ("override", "words"),
    [
        (
            "corridor.background.alashankou-dostyk.profile=[{from: 1 d, to: 2 d}]",
            "give factor or trains_per_day (neither is given)",
        ),
        (
            "corridor.background.alashankou-dostyk.profile="
            "[{from: 1 d, to: 2 d, factor: 2, trains_per_day: 3}]",
            "give either factor or trains_per_day (not both)",
        ),
        (
            "hub.inbound.back={dwell: 1 d}",
            "give trains_per_day or share_of_outbound (neither is given)",
        ),
    ],
)
def test_one_of_two_keys_says_whether_both_or_neither_was_given(override: str, words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        load_config("baseline", [override])


def test_a_long_list_of_allowed_keys_is_cut_to_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("baseline", ["costs.aargo_value_usd_per_feu=1"])
    text = str(info.value)
    assert "did you mean 'cargo_value_usd_per_feu'" in text and "in all)" in text
    assert len(text) < 600
