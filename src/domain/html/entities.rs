//! Character entities: `&amp;`, `&#233;`, `&#x1F600;` and the named ones abstracts use.

use std::borrow::Cow;

/// Replaces character entities (`&amp;`, `&#233;`, `&#x1F600;`) with their characters; an
/// unknown or malformed entity stays as written.
pub(crate) fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        match entity_at(after) {
            Some((c, len)) => {
                out.push(c);
                rest = after.get(len..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character of the entity at the start of `s` (just after its `&`), and how many bytes
/// it spans including the `;`.
pub(super) fn entity_at(s: &str) -> Option<(char, usize)> {
    let semi = s.get(..s.len().min(33))?.find(';')?;
    let name = s.get(..semi)?;
    let c = if let Some(number) = name.strip_prefix('#') {
        let (digits, radix) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (number, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        // Out-of-range, NUL and surrogate code points become the replacement character,
        // as browsers do.
        u32::from_str_radix(digits, radix)
            .ok()
            .filter(|&n| n != 0)
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}')
    } else {
        named_entity(name)?
    };
    Some((c, semi + 1))
}

/// The named entities abstracts actually use.
fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        _ => return None,
    })
}
