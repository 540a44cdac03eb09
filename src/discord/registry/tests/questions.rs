//! `/ask`, `/questions` and `/setup questions` in the registry.

use super::*;

#[test]
fn ask_and_questions_take_a_live_talk_and_setup_questions_a_boolean_and_a_role() {
    let ask = [
        string_option("question", "  Why Rust?  "),
        string_option("talk", "Rust"),
    ];
    let ask: Vec<CommandDataOption> = ask.into_iter().collect();
    assert_eq!(
        parse("ask", &ask),
        Ok(Invocation::Questions(QuestionsCommand::Ask {
            question: "Why Rust?".to_owned(),
            talk: Some("Rust".to_owned()),
        }))
    );
    assert_eq!(
        parse("ask", &[]),
        Err(ParseError::MissingOption("question"))
    );
    assert_eq!(
        parse("questions", &[]),
        Ok(Invocation::Questions(QuestionsCommand::List { talk: None }))
    );
    assert_eq!(
        autocomplete_field("ask", "talk"),
        Some(AutocompleteField::LiveTalk)
    );
    let body = registered("questions");
    // Chairs need not have Manage Server: the handler checks who chairs.
    assert!(body["default_member_permissions"].is_null());
    let setup = registered("setup");
    let questions = setup["options"]
        .as_array()
        .expect("subcommands")
        .iter()
        .find(|o| o["name"] == "questions")
        .expect("/setup questions");
    assert_eq!(questions["options"][0]["type"], 5, "a boolean");
    assert_eq!(questions["options"][1]["type"], 8, "a role");
}
