//! `/setup web` and `/mytalks reset-link` in the registry.

use super::*;
use crate::domain::commands::setup::SetupCommand;
use crate::domain::commands::subscriptions::ReminderCommand;

#[test]
fn setup_web_takes_public_on_or_off() {
    let public = |value: &str| {
        subcommand(
            "web",
            serde_json::json!([{"name": "public", "type": 3, "value": value}]),
        )
    };
    assert_eq!(
        parse("setup", &[public("on")]),
        Ok(Invocation::Setup(SetupCommand::Web(true)))
    );
    assert_eq!(
        parse("setup", &[public("off")]),
        Ok(Invocation::Setup(SetupCommand::Web(false)))
    );
    assert!(parse("setup", &[public("maybe")]).is_err());
    assert_eq!(
        parse("setup", &[subcommand("web", serde_json::json!([]))]),
        Err(ParseError::MissingOption("public"))
    );
}

#[test]
fn mytalks_takes_an_optional_reset_link_flag() {
    let reset = serde_json::json!({"name": "reset-link", "type": 5, "value": true});
    let options: Vec<CommandDataOption> =
        serde_json::from_value(serde_json::json!([reset])).expect("options");
    assert_eq!(
        parse("mytalks", &options),
        Ok(Invocation::Reminders(ReminderCommand::MyTalks {
            reset_link: true
        }))
    );
    assert_eq!(
        parse("mytalks", &[]),
        Ok(Invocation::Reminders(ReminderCommand::MyTalks {
            reset_link: false
        }))
    );
    let body = registered("mytalks");
    assert_eq!(body["options"][0]["name"], "reset-link");
    assert_eq!(body["options"][0]["type"], 5, "a boolean");
    assert_eq!(body["options"][0]["required"], false);
}
