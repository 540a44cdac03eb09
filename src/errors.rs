//! What a person is shown of an internal error: one line, each cause once, and no raw
//! database text (it can name tables, constraints, SQL or hosts). The full chain goes to the
//! log at debug level.

use crate::store::StoreError;

/// The error as one line for the user: the context chain down to the first store failure,
/// whose own causes are left out, each cause shown once (a cause whose text its parent
/// already quotes is skipped: sqlx's "error returned from database: X" above "X").
pub fn user_message(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|last| last.contains(&text)) {
            continue;
        }
        let internal = matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::Query(_) | StoreError::Migrate(_) | StoreError::Unavailable(_))
        );
        parts.push(text);
        if internal {
            parts.push("details are in the log (RUST_LOG=debug)".to_owned());
            break;
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_database_failure_is_shown_without_its_raw_text() {
        let raw = sqlx::Error::Protocol(
            "index row size 3024 exceeds btree version 4 maximum 2704 for index \"talks_title_key\""
                .to_owned(),
        );
        let error = Err::<(), _>(StoreError::Query(raw))
            .context("cannot import x.ics")
            .unwrap_err();

        assert_eq!(
            user_message(&error),
            "cannot import x.ics: database error: details are in the log (RUST_LOG=debug)"
        );
    }

    #[test]
    fn a_cause_its_parent_already_quotes_is_shown_once() {
        let error = anyhow::anyhow!("connection refused")
            .context("fetching http://x: connection refused")
            .context("cannot import http://x");
        assert_eq!(
            user_message(&error),
            "cannot import http://x: fetching http://x: connection refused"
        );
    }
}
