"""The studies' way to start meta-training runs."""


def test_a_studys_own_arguments_and_the_config_overrides_after_a_double_dash():
    from research import meta_runs

    assert meta_runs.split_overrides(["--fold", "kmnist", "--", "--config.meta.steps=3"]) == (
        ["--fold", "kmnist"], ["--config.meta.steps=3"])
    assert meta_runs.split_overrides(["--summary"]) == (["--summary"], [])
