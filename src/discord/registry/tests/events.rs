//! `/setup events` in the registry.

use super::*;
use crate::domain::commands::setup::SetupCommand;
use crate::domain::events::EventSelection;

#[test]
fn setup_events_takes_on_or_off_and_lists_of_rooms_tracks_and_types() {
    let on = subcommand(
        "events",
        serde_json::json!([
            {"name": "enabled", "type": 3, "value": "on"},
            {"name": "tracks", "type": 3, "value": " Keynotes, ,Main "},
            {"name": "types", "type": 3, "value": "Keynote"}
        ]),
    );
    let off = subcommand(
        "events",
        serde_json::json!([{"name": "enabled", "type": 3, "value": "off"}]),
    );
    let bare = subcommand("events", serde_json::json!([]));

    assert_eq!(
        parse("setup", &[on]),
        Ok(Invocation::Setup(SetupCommand::Events(Some(
            EventSelection {
                rooms: vec![],
                tracks: vec!["Keynotes".to_owned(), "Main".to_owned()],
                types: vec!["Keynote".to_owned()],
            }
        ))))
    );
    assert_eq!(
        parse("setup", &[off]),
        Ok(Invocation::Setup(SetupCommand::Events(None)))
    );
    assert_eq!(
        parse("setup", &[bare]),
        Err(ParseError::MissingOption("enabled"))
    );
    let setup = registered("setup");
    let events = setup["options"]
        .as_array()
        .expect("subcommands")
        .iter()
        .find(|o| o["name"] == "events")
        .expect("/setup events");
    let names: Vec<&str> = events["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["enabled", "rooms", "tracks", "types"]);
}
