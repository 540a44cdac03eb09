use std::io::Write;
use std::path::Path;

use chrono::TimeDelta;
use secrecy::ExposeSecret;

use super::*;

const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gx1y2z.s3cr3t-t0k3n-value";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn toml_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn load_file(text: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let file = toml_file(text);
    Settings::load(Some(file.path()), &env(vars))
}

fn error_of(result: Result<Settings, ConfigError>) -> String {
    match result {
        Ok(_) => panic!("expected a configuration error"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn defaults_load_when_nothing_is_set() {
    let settings = Settings::load(None, &[]).unwrap();

    assert!(settings.database.url.is_none());
    assert_eq!(settings.database.max_connections, 10);
    assert!(settings.discord.token.is_none());
    assert_eq!(settings.discord.application_id, None);
    assert!(settings.discord.guild_ids.is_empty());
    assert_eq!(settings.defaults.time_zone, chrono_tz::UTC);
    assert_eq!(settings.defaults.lead_time, TimeDelta::minutes(10));
    assert!(settings.guilds.entries.is_empty());
    assert_eq!(
        settings.import.max_bytes,
        crate::domain::import::DEFAULT_MAX_BYTES
    );
    assert_eq!(settings.import.fetch_timeout, Duration::from_secs(30));
    assert_eq!(
        settings.import.user_agent,
        format!("confbot/{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(settings.log.format, LogFormat::Text);
    assert_eq!(settings.log.level, "info");
}

#[test]
fn values_from_the_file_are_typed() {
    let text = r#"
        [database]
        url = "postgres://bot:pw@db/confbot"
        max_connections = 4
        [discord]
        application_id = 1234
        guild_ids = [111, 222]
        proxy_url = "http://127.0.0.1:9000"
        [defaults]
        time_zone = "Europe/Berlin"
        lead_minutes = 15
        conference = "pycon-de"
        [[guilds]]
        guild_id = 111
        conference = "pybay-2025"
        [import]
        fetch_timeout_secs = 5
        [log]
        format = "json"
        level = "confbot=debug"
    "#;

    let settings = load_file(text, &[]).unwrap();

    let url = settings.database.url.as_ref().unwrap().expose_secret();
    assert_eq!(url, "postgres://bot:pw@db/confbot");
    assert_eq!(settings.database.max_connections, 4);
    assert_eq!(settings.discord.application_id, Some(1234));
    assert_eq!(settings.discord.guild_ids, vec![111, 222]);
    let proxy = settings.discord.proxy_url.as_ref().map(Url::as_str);
    assert_eq!(proxy, Some("http://127.0.0.1:9000/"));
    assert_eq!(settings.defaults.time_zone, chrono_tz::Europe::Berlin);
    assert_eq!(settings.defaults.lead_time, TimeDelta::minutes(15));
    assert_eq!(
        settings.guilds.conference_for(111).unwrap().as_str(),
        "pybay-2025"
    );
    assert_eq!(
        settings.guilds.conference_for(999).unwrap().as_str(),
        "pycon-de"
    );
    assert_eq!(settings.import.fetch_timeout, Duration::from_secs(5));
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.log.level, "confbot=debug");
}

#[test]
fn a_confbot_env_var_overrides_the_file() {
    let text = "[database]\nmax_connections = 4\n[defaults]\ntime_zone = \"UTC\"\n";
    let vars = [
        ("CONFBOT__DATABASE__MAX_CONNECTIONS", "7"),
        ("CONFBOT__DEFAULTS__TIME_ZONE", "America/Los_Angeles"),
        ("CONFBOT__DISCORD__GUILD_IDS", "[5, 6]"),
    ];

    let settings = load_file(text, &vars).unwrap();

    assert_eq!(settings.database.max_connections, 7);
    assert_eq!(settings.defaults.time_zone, chrono_tz::America::Los_Angeles);
    assert_eq!(settings.discord.guild_ids, vec![5, 6]);
}

#[test]
fn database_url_and_discord_token_are_read_from_their_conventional_variables() {
    let text = "[database]\nurl = \"postgres://file/db\"\n";
    let vars = [
        ("DATABASE_URL", "postgres://env/db"),
        ("DISCORD_TOKEN", TOKEN),
    ];

    let settings = load_file(text, &vars).unwrap();

    let url = settings.database.url.as_ref().unwrap().expose_secret();
    assert_eq!(url, "postgres://env/db");
    assert_eq!(
        settings.discord.token.as_ref().unwrap().expose_secret(),
        TOKEN
    );
}

#[test]
fn the_confbot_form_wins_over_the_conventional_variable() {
    let vars = [
        ("DATABASE_URL", "postgres://plain/db"),
        ("CONFBOT__DATABASE__URL", "postgres://prefixed/db"),
    ];

    let settings = Settings::load(None, &env(&vars)).unwrap();

    let url = settings.database.url.as_ref().unwrap().expose_secret();
    assert_eq!(url, "postgres://prefixed/db");
}

#[test]
fn an_empty_database_url_means_the_embedded_database() {
    let settings = Settings::load(None, &env(&[("DATABASE_URL", "")])).unwrap();

    assert!(settings.database.url.is_none());
}

#[test]
fn the_file_named_by_confbot_config_is_read_without_an_explicit_path() {
    let file = toml_file("[database]\nmax_connections = 3\n");
    let path = file.path().to_str().unwrap();

    let settings = Settings::load(None, &env(&[("CONFBOT_CONFIG", path)])).unwrap();

    assert_eq!(settings.database.max_connections, 3);
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let path = Path::new("/nonexistent/confbot-settings.toml");

    let message = error_of(Settings::load(Some(path), &[]));

    assert_eq!(
        message,
        "config file /nonexistent/confbot-settings.toml does not exist"
    );
}

#[test]
fn an_unknown_section_in_the_file_is_named_with_the_file() {
    let file = toml_file("[databse]\nurl = \"postgres://x/y\"\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    let expected = format!(
        "unknown key \"databse\" in config file {}; expected one of \
         database, discord, defaults, guilds, http, interactions, import, log, reminders, web",
        file.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn an_unknown_key_inside_a_section_is_named_with_its_section() {
    let file = toml_file("[database]\nmax_conections = 3\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    let expected = format!(
        "unknown key \"database.max_conections\" in config file {}; expected one of \
         url, max_connections",
        file.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn an_unknown_confbot_env_key_is_named_with_its_variable() {
    let vars = env(&[("CONFBOT__LOG__LEVL", "debug")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "unknown key \"log.levl\" in environment variable CONFBOT__LOG__LEVL; \
         expected one of format, level"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_named_with_key_and_source() {
    let file = toml_file("[database]\nmax_connections = \"many\"\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    let expected = format!(
        "database.max_connections: invalid type: found string \"many\", expected u32 \
         (from config file {})",
        file.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn a_bad_env_value_is_named_with_its_variable() {
    let vars = env(&[("CONFBOT__DATABASE__MAX_CONNECTIONS", "many")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "database.max_connections: invalid type: found string \"many\", expected u32 \
         (from environment variable CONFBOT__DATABASE__MAX_CONNECTIONS)"
    );
}

#[test]
fn a_lead_time_over_two_hours_is_refused() {
    let vars = env(&[("CONFBOT__DEFAULTS__LEAD_MINUTES", "500")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "defaults.lead_minutes: 500 is over the maximum 120 \
         (from environment variable CONFBOT__DEFAULTS__LEAD_MINUTES)"
    );
}

#[test]
fn an_unknown_time_zone_is_refused() {
    let file = toml_file("[defaults]\ntime_zone = \"Mars/Olympus_Mons\"\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    let expected = format!(
        "defaults.time_zone: unknown time zone \"Mars/Olympus_Mons\" (from config file {})",
        file.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn a_guild_mapped_to_an_invalid_slug_is_refused() {
    let file = toml_file("[[guilds]]\nguild_id = 42\nconference = \"PyCon DE\"\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    let expected = format!(
        "guilds[0].conference: invalid conference slug \"PyCon DE\": use 1-64 lowercase \
         letters, digits, '-' or '_', starting with a letter or digit (from config file {})",
        file.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn a_guild_listed_twice_is_refused() {
    let text = "[[guilds]]\nguild_id = 42\nconference = \"a\"\n\
                [[guilds]]\nguild_id = 42\nconference = \"b\"\n";

    let message = error_of(load_file(text, &[]));

    assert!(message.starts_with("guilds[1].guild_id: guild 42 is listed twice (from config file"));
}

#[test]
fn debug_output_of_the_settings_hides_the_secrets() {
    let vars = [
        ("DISCORD_TOKEN", TOKEN),
        ("DATABASE_URL", "postgres://bot:hunter2@db/confbot"),
        (
            "CONFBOT__DISCORD__PROXY_URL",
            "http://user:proxypass@127.0.0.1:9000",
        ),
    ];

    let settings = Settings::load(None, &env(&vars)).unwrap();
    let debug = format!("{settings:?}");

    assert!(!debug.contains(TOKEN));
    assert!(!debug.contains("hunter2"));
    assert!(!debug.contains("proxypass"));
    assert!(debug.contains("token: Some(\"[redacted]\")"));
    assert!(debug.contains("http://127.0.0.1:9000/"));
}

#[test]
fn an_error_next_to_a_token_does_not_contain_the_token() {
    let text = format!("[discord]\ntoken = \"{TOKEN}\"\n[database]\nmax_connections = \"x\"\n");

    let message = error_of(load_file(&text, &[]));

    assert!(message.starts_with("database.max_connections: invalid type"));
    assert!(!message.contains(TOKEN));
}

#[test]
fn a_token_of_the_wrong_type_is_reported_without_its_value() {
    let message = error_of(load_file("[discord]\ntoken = 918273645546372819\n", &[]));

    assert!(message.starts_with("discord.token: invalid type: expected a string"));
    assert!(!message.contains("918273645546372819"));
}

#[test]
fn a_syntax_error_on_the_token_line_does_not_quote_the_line() {
    let text = format!("[discord]\ntoken = \"{TOKEN}\n");

    let message = error_of(load_file(&text, &[]));

    assert!(message.contains("is not valid TOML: TOML parse error at line 2"));
    assert!(!message.contains("s3cr3t"));
}

#[test]
fn a_database_url_that_is_not_postgres_is_refused_without_quoting_it() {
    let vars = env(&[("DATABASE_URL", "mysql://root:hunter2@db")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "database.url: expected a postgres:// or postgresql:// URL \
         (from environment variable DATABASE_URL)"
    );
}

#[test]
fn the_example_config_loads_and_states_the_true_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");

    let example = Settings::load(Some(&path), &[]).unwrap();
    let defaults = Settings::load(None, &[]).unwrap();

    assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
}

#[test]
fn a_guild_entry_without_a_conference_names_the_entry() {
    let vars = env(&[("CONFBOT__GUILDS", "[{guild_id = 1}]")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "guilds[0]: missing required key \"conference\" (from environment variable CONFBOT__GUILDS)"
    );
}

#[test]
fn a_bad_list_item_names_its_position() {
    let vars = env(&[("CONFBOT__DISCORD__GUILD_IDS", "[1, x]")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "discord.guild_ids[1]: invalid type: found string \"x\", expected u64 \
         (from environment variable CONFBOT__DISCORD__GUILD_IDS)"
    );
}

#[test]
fn an_unknown_log_format_lists_the_choices() {
    let vars = env(&[("CONFBOT__LOG__FORMAT", "xml")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "log.format: unknown value \"xml\"; expected one of text, json \
         (from environment variable CONFBOT__LOG__FORMAT)"
    );
}

#[test]
fn a_guild_without_an_entry_gets_the_default_conference() {
    let vars = env(&[
        (
            "CONFBOT__GUILDS",
            "[{guild_id = 7, conference = \"pybay\"}]",
        ),
        ("CONFBOT__DEFAULTS__CONFERENCE", "fosdem"),
    ]);

    let settings = Settings::load(None, &vars).unwrap();

    assert_eq!(settings.guilds.conference_for(7).unwrap().as_str(), "pybay");
    assert_eq!(
        settings.guilds.conference_for(8).unwrap().as_str(),
        "fosdem"
    );
}

#[test]
fn reminder_channels_per_conference_are_typed_with_names() {
    let text = r#"
        [reminders]
        channel_lead_minutes = 5
        rate_per_second = 20
        [[reminders.conferences]]
        conference = "nbpy-2026"
        default_channel = { id = 10, name = "talks" }
        rooms = { "Barn" = 20, "Main Hall" = { id = 30, name = "main-hall" } }
    "#;

    let settings = load_file(text, &[]).unwrap();

    let reminders = &settings.reminders;
    assert_eq!(reminders.channel_lead.minutes(), 5);
    assert_eq!(reminders.rate_per_second, 20);
    let slug = "nbpy-2026".parse().unwrap();
    let plan = reminders.channel_plan(&slug).unwrap();
    assert_eq!(plan.default, Some(10));
    assert_eq!(plan.by_room.get("Barn"), Some(&20));
    assert_eq!(plan.by_room.get("Main Hall"), Some(&30));
    assert_eq!(plan.lead.minutes(), 5);
    assert_eq!(plan.names.get(&10).map(String::as_str), Some("talks"));
    assert_eq!(plan.names.get(&20), None);
    assert!(reminders.channel_plan(&"other".parse().unwrap()).is_none());
}

#[test]
fn a_reminder_conference_listed_twice_or_a_zero_channel_is_refused() {
    let twice = r#"
        [[reminders.conferences]]
        conference = "a"
        [[reminders.conferences]]
        conference = "a"
    "#;
    let zero = r#"
        [[reminders.conferences]]
        conference = "a"
        rooms = { "Barn" = 0 }
    "#;

    let twice = error_of(load_file(twice, &[]));
    let zero = error_of(load_file(zero, &[]));

    assert!(
        twice.contains("reminders.conferences[1].conference"),
        "{twice}"
    );
    assert!(twice.contains("listed twice"), "{twice}");
    assert!(
        zero.contains("reminders.conferences[0].rooms.Barn"),
        "{zero}"
    );
    assert!(zero.contains("not a channel id"), "{zero}");
}

#[test]
fn the_lease_and_nonce_trust_default_to_a_minute_and_are_bounded() {
    let defaults = Settings::load(None, &env(&[])).unwrap().reminders;
    let set = env(&[
        ("CONFBOT__REMINDERS__LEASE_SECONDS", "3"),
        ("CONFBOT__REMINDERS__NONCE_TRUST_SECONDS", "5"),
    ]);
    let set = Settings::load(None, &set).unwrap().reminders;
    let long_lease = env(&[("CONFBOT__REMINDERS__LEASE_SECONDS", "601")]);
    let long_trust = env(&[("CONFBOT__REMINDERS__NONCE_TRUST_SECONDS", "121")]);
    let no_lease = env(&[("CONFBOT__REMINDERS__LEASE_SECONDS", "0")]);

    assert_eq!(defaults.lease, Duration::from_secs(60));
    assert_eq!(defaults.nonce_trust, Duration::from_secs(60));
    assert_eq!(set.lease, Duration::from_secs(3));
    assert_eq!(set.nonce_trust, Duration::from_secs(5));
    let long_lease = error_of(Settings::load(None, &long_lease));
    assert!(
        long_lease.contains("reminders.lease_seconds"),
        "{long_lease}"
    );
    let long_trust = error_of(Settings::load(None, &long_trust));
    assert!(
        long_trust.contains("reminders.nonce_trust_seconds"),
        "{long_trust}"
    );
    assert!(long_trust.contains("a few minutes"), "{long_trust}");
    let no_lease = error_of(Settings::load(None, &no_lease));
    assert!(no_lease.contains("1 to 600"), "{no_lease}");
}

#[test]
fn a_zero_delivery_rate_is_refused() {
    let vars = env(&[("CONFBOT__REMINDERS__RATE_PER_SECOND", "0")]);

    let message = error_of(Settings::load(None, &vars));

    assert!(message.contains("reminders.rate_per_second"), "{message}");
}

#[test]
fn a_guild_may_name_its_organiser_role_and_zero_is_refused() {
    let text = "[[guilds]]\nguild_id = 7\nconference = \"a\"\norganiser_role = 99\n\
                [[guilds]]\nguild_id = 8\nconference = \"b\"\n";
    let settings = load_file(text, &[]).unwrap();
    let zero = error_of(load_file(
        "[[guilds]]\nguild_id = 7\nconference = \"a\"\norganiser_role = 0\n",
        &[],
    ));

    assert_eq!(settings.guilds.organiser_role_for(7), Some(99));
    assert_eq!(settings.guilds.organiser_role_for(8), None);
    assert!(
        zero.starts_with("guilds[0].organiser_role: 0 is not a role id"),
        "{zero}"
    );
}

#[test]
fn the_public_key_is_read_as_32_bytes_from_its_conventional_variable() {
    let hex = "0f".repeat(31) + "A0";
    let settings = Settings::load(None, &env(&[("DISCORD_PUBLIC_KEY", hex.as_str())])).unwrap();

    let mut expected = [0x0f_u8; 32];
    expected[31] = 0xa0;
    assert_eq!(settings.discord.public_key, Some(expected));
}

#[test]
fn a_public_key_that_is_not_64_hex_digits_is_refused_by_name() {
    for bad in ["abc", &"zz".repeat(32), &"0".repeat(65)] {
        let vars = [("CONFBOT__DISCORD__PUBLIC_KEY", bad)];
        let error = Settings::load(None, &env(&vars)).unwrap_err().to_string();
        assert!(error.contains("discord.public_key"), "{bad}: {error}");
    }
}

#[test]
fn one_shard_run_here_is_the_default() {
    let settings = Settings::load(None, &[]).unwrap();

    assert_eq!(settings.discord.shards, ShardRange::default());
    assert_eq!(settings.discord.shards.ids(), 0..=0);
    assert_eq!(settings.discord.shards.total(), 1);
}

#[test]
fn the_shard_range_is_read_from_the_environment() {
    let vars = env(&[
        ("CONFBOT__DISCORD__SHARDS", "4"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "2-3"),
    ]);
    let single = env(&[
        ("CONFBOT__DISCORD__SHARDS", "2"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "1"),
    ]);
    let all = env(&[("CONFBOT__DISCORD__SHARDS", "3")]);

    let range = Settings::load(None, &vars).unwrap().discord.shards;
    let single = Settings::load(None, &single).unwrap().discord.shards;
    let all = Settings::load(None, &all).unwrap().discord.shards;

    assert_eq!((range.ids(), range.total()), (2..=3, 4));
    assert_eq!((single.ids(), single.total()), (1..=1, 2));
    assert_eq!((all.ids(), all.total()), (0..=2, 3));
}

#[test]
fn the_shard_range_in_the_file_may_be_text_or_a_number() {
    let text = load_file("[discord]\nshards = 4\nshard_range = \"0-1\"\n", &[]).unwrap();
    let number = load_file("[discord]\nshards = 4\nshard_range = 3\n", &[]).unwrap();

    assert_eq!(text.discord.shards.ids(), 0..=1);
    assert_eq!(number.discord.shards.ids(), 3..=3);
}

#[test]
fn zero_shards_are_refused_with_the_key_and_its_variable() {
    let vars = env(&[("CONFBOT__DISCORD__SHARDS", "0")]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "discord.shards: must be at least 1 \
         (from environment variable CONFBOT__DISCORD__SHARDS)"
    );
}

#[test]
fn a_shard_range_outside_the_shards_is_refused_with_its_key() {
    let vars = env(&[
        ("CONFBOT__DISCORD__SHARDS", "2"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "1-2"),
    ]);

    let message = error_of(Settings::load(None, &vars));

    assert_eq!(
        message,
        "discord.shard_range: shard 2 does not exist: discord.shards is 2, so shards are \
         numbered 0 to 1 (from environment variable CONFBOT__DISCORD__SHARD_RANGE)"
    );
}

#[test]
fn a_range_is_checked_against_the_default_of_one_shard() {
    let file = toml_file("[discord]\nshard_range = \"0-1\"\n");

    let message = error_of(Settings::load(Some(file.path()), &[]));

    assert!(
        message.starts_with("discord.shard_range: shard 1 does not exist: discord.shards is 1"),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("(from config file {})", file.path().display())),
        "{message}"
    );
}

#[test]
fn a_reversed_or_malformed_shard_range_is_refused_with_its_key() {
    let reversed = env(&[
        ("CONFBOT__DISCORD__SHARDS", "4"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "3-1"),
    ]);
    let malformed = env(&[
        ("CONFBOT__DISCORD__SHARDS", "4"),
        ("CONFBOT__DISCORD__SHARD_RANGE", "0..1"),
    ]);

    let reversed = error_of(Settings::load(None, &reversed));
    let malformed = error_of(Settings::load(None, &malformed));
    let wrong_type = error_of(load_file("[discord]\nshard_range = [0, 1]\n", &[]));

    assert!(
        reversed.starts_with("discord.shard_range: 3-1 starts after it ends"),
        "{reversed}"
    );
    assert!(
        malformed.starts_with(
            "discord.shard_range: expected a shard such as \"3\" or an inclusive range \
             such as \"0-1\", not \"0..1\""
        ),
        "{malformed}"
    );
    assert!(
        wrong_type.starts_with("discord.shard_range: ")
            && wrong_type.contains("expected a shard such as \"3\""),
        "{wrong_type}"
    );
}

mod web;
