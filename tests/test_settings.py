from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shopguard.errors import ConfigError
from shopguard.settings import load_settings


def test_environment_beats_file_beats_defaults(tmp_path: Path) -> None:
    config = tmp_path / "shopguard.yaml"
    config.write_text("default_region: US\nsnapshot_every: 5\nutc_offset_hours: 8\n")
    env = {"SHOPGUARD_SNAPSHOT_EVERY": "7", "SHOPGUARD_EXPLAIN": "true"}
    settings = load_settings(config, env=env)
    assert settings.snapshot_every == 7  # env
    assert settings.default_region == "US" and settings.utc_offset_hours == 8  # file
    assert settings.explain is True  # env, parsed
    assert settings.dedupe_window == "7d"  # shipped default


def test_config_path_from_environment_and_keys_syntax(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("pack: starter\n")
    env = {"SHOPGUARD_CONFIG": str(config), "SHOPGUARD_KEYS": "k2:new-secret-0123456789,k1:old"}
    settings = load_settings(env=env)
    assert settings.keys == {"k2": "new-secret-0123456789", "k1": "old"}
    assert settings.active_key == "k2"


def test_bad_settings_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="snapshot_every"):
        load_settings(env={"SHOPGUARD_SNAPSHOT_EVERY": "often"})
    config = tmp_path / "bad.yaml"
    config.write_text("colour: blue\n")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(config, env={})


def test_a_generated_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": str(tmp_path)}, env={})
    first = settings.resolved_keys()
    assert first == settings.resolved_keys()
    mode = stat.S_IMODE((tmp_path / "keys.yaml").stat().st_mode)
    assert mode == 0o600


def test_event_time_and_its_skew_bounds_are_read_at_load() -> None:
    settings = load_settings(env={})
    assert settings.event_time == "auto" and settings.event_skew == (300.0, 3600.0)
    assert settings.serving().event_time == "live"  # what `shopguard serve` runs
    replay = load_settings(overrides={"event_time": "replay"}, env={})
    assert replay.serving().event_time == "replay"  # a backfill server, said explicitly
    with pytest.raises(ConfigError, match="max_event_behind"):
        load_settings(env={"SHOPGUARD_MAX_EVENT_BEHIND": "a while"})
    with pytest.raises(ConfigError, match="dedupe_window"):
        load_settings(env={"SHOPGUARD_DEDUPE_WINDOW": "7 days"})
    with pytest.raises(ConfigError, match="event_time"):
        load_settings(env={"SHOPGUARD_EVENT_TIME": "now"})
