//! Discord's documented size limits on what a bot sends, checked by the stand-in as Discord
//! checks them: a body over a limit is refused with 400 and code 50035 ("Invalid Form
//! Body"), naming the field. Lengths are in characters.

use serde_json::Value;

/// Message content.
const CONTENT: usize = 2000;
const EMBEDS: usize = 10;
const EMBED_TITLE: usize = 256;
const EMBED_DESCRIPTION: usize = 4096;
const EMBED_FIELDS: usize = 25;
const FIELD_NAME: usize = 256;
const FIELD_VALUE: usize = 1024;
const FOOTER: usize = 2048;
const AUTHOR: usize = 256;
/// All the text of one embed together.
const EMBED_TOTAL: usize = 6000;
const ACTION_ROWS: usize = 5;
const ROW_COMPONENTS: usize = 5;
const CUSTOM_ID: usize = 100;
const BUTTON_LABEL: usize = 80;
const SELECT_OPTIONS: usize = 25;
const CHOICES: usize = 25;
const CHOICE_NAME: usize = 100;
const CHOICE_VALUE: usize = 100;
const MODAL_TITLE: usize = 45;
const INPUT_LABEL: usize = 45;
const INPUT_VALUE: usize = 4000;
const INPUT_PLACEHOLDER: usize = 100;
const SELECT_PLACEHOLDER: usize = 150;

/// The first limit `body` (a message: content, embeds, components) breaks, as
/// `field: problem`.
pub fn message(body: &Value) -> Option<String> {
    if let Some(found) = too_long(body, "content", CONTENT, "content") {
        return Some(found);
    }
    let embeds = body["embeds"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if embeds.len() > EMBEDS {
        return Some(format!("embeds: {} embeds, at most {EMBEDS}", embeds.len()));
    }
    for (index, embed) in embeds.iter().enumerate() {
        if let Some(found) = self::embed(embed, &format!("embeds.{index}")) {
            return Some(found);
        }
    }
    components(&body["components"], "components")
}

fn embed(embed: &Value, at: &str) -> Option<String> {
    let field = |name: &str| format!("{at}.{name}");
    let checks = [
        too_long(embed, "title", EMBED_TITLE, &field("title")),
        too_long(
            embed,
            "description",
            EMBED_DESCRIPTION,
            &field("description"),
        ),
        too_long(&embed["footer"], "text", FOOTER, &field("footer.text")),
        too_long(&embed["author"], "name", AUTHOR, &field("author.name")),
    ];
    if let Some(found) = checks.into_iter().flatten().next() {
        return Some(found);
    }
    let fields = embed["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if fields.len() > EMBED_FIELDS {
        return Some(format!(
            "{at}.fields: {} fields, at most {EMBED_FIELDS}",
            fields.len()
        ));
    }
    for (index, item) in fields.iter().enumerate() {
        let name = too_long(
            item,
            "name",
            FIELD_NAME,
            &field(&format!("fields.{index}.name")),
        );
        let value = too_long(
            item,
            "value",
            FIELD_VALUE,
            &field(&format!("fields.{index}.value")),
        );
        if let Some(found) = name.or(value) {
            return Some(found);
        }
    }
    let total: usize = [
        chars(&embed["title"]),
        chars(&embed["description"]),
        chars(&embed["footer"]["text"]),
        chars(&embed["author"]["name"]),
    ]
    .into_iter()
    .sum::<usize>()
        + fields
            .iter()
            .map(|f| chars(&f["name"]) + chars(&f["value"]))
            .sum::<usize>();
    (total > EMBED_TOTAL)
        .then(|| format!("{at}: {total} characters of text, at most {EMBED_TOTAL}"))
}

/// Action rows of buttons and selects (or, in a modal, of text inputs).
fn components(rows: &Value, at: &str) -> Option<String> {
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or(&[]);
    if rows.len() > ACTION_ROWS {
        return Some(format!("{at}: {} rows, at most {ACTION_ROWS}", rows.len()));
    }
    for (r, row) in rows.iter().enumerate() {
        let items = row["components"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if items.len() > ROW_COMPONENTS {
            return Some(format!(
                "{at}.{r}.components: {} components, at most {ROW_COMPONENTS}",
                items.len()
            ));
        }
        for (c, item) in items.iter().enumerate() {
            let here = format!("{at}.{r}.components.{c}");
            let options = item["options"].as_array().map_or(0, Vec::len);
            // A text input (type 4, in modals) has shorter labels and placeholders.
            let (label, placeholder) = match item["type"].as_u64() {
                Some(4) => (INPUT_LABEL, INPUT_PLACEHOLDER),
                _ => (BUTTON_LABEL, SELECT_PLACEHOLDER),
            };
            let checks = [
                too_long(item, "custom_id", CUSTOM_ID, &format!("{here}.custom_id")),
                too_long(item, "label", label, &format!("{here}.label")),
                too_long(item, "value", INPUT_VALUE, &format!("{here}.value")),
                too_long(
                    item,
                    "placeholder",
                    placeholder,
                    &format!("{here}.placeholder"),
                ),
                (options > SELECT_OPTIONS).then(|| {
                    format!("{here}.options: {options} options, at most {SELECT_OPTIONS}")
                }),
            ];
            if let Some(found) = checks.into_iter().flatten().next() {
                return Some(found);
            }
        }
    }
    None
}

/// A modal (interaction response type 9): title, custom id, one to five rows of inputs.
pub fn modal(data: &Value) -> Option<String> {
    let rows = data["components"].as_array().map_or(0, Vec::len);
    if !(1..=ACTION_ROWS).contains(&rows) {
        return Some(format!("data.components: {rows} rows, 1 to {ACTION_ROWS}"));
    }
    [
        too_long(data, "title", MODAL_TITLE, "data.title"),
        too_long(data, "custom_id", CUSTOM_ID, "data.custom_id"),
        components(&data["components"], "data.components"),
    ]
    .into_iter()
    .flatten()
    .next()
}

/// Autocomplete choices (interaction response type 8).
pub fn choices(data: &Value) -> Option<String> {
    let choices = data["choices"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if choices.len() > CHOICES {
        return Some(format!(
            "data.choices: {} choices, at most {CHOICES}",
            choices.len()
        ));
    }
    choices.iter().enumerate().find_map(|(index, choice)| {
        let name = chars(&choice["name"]);
        if !(1..=CHOICE_NAME).contains(&name) {
            return Some(format!(
                "data.choices.{index}.name: {name} characters, 1 to {CHOICE_NAME}"
            ));
        }
        too_long(
            choice,
            "value",
            CHOICE_VALUE,
            &format!("data.choices.{index}.value"),
        )
    })
}

fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |text| text.chars().count())
}

fn too_long(object: &Value, key: &str, limit: usize, at: &str) -> Option<String> {
    let length = chars(&object[key]);
    (length > limit).then(|| format!("{at}: {length} characters, at most {limit}"))
}
