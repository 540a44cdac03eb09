//! Checks run on the raw text before roxmltree sees it: what the parser itself would let
//! through or choke on.

use crate::domain::import::ImportError;

/// Entity declarations are how XML bombs and external-file reads work; no real schedule needs
/// them, so they are refused before the parser sees them.
pub(super) fn refuse_entity_declarations(input: &str) -> Result<(), ImportError> {
    match input.find("<!ENTITY") {
        Some(at) => {
            let line = input
                .get(..at)
                .map_or(1, |head| head.matches('\n').count() + 1);
            Err(ImportError::at_line(
                line,
                "DTD entities are not accepted: remove the <!ENTITY ...> declarations",
            ))
        }
        None => Ok(()),
    }
}

/// How deeply elements may nest. A schedule with HTML abstracts needs about 20 levels.
const MAX_DEPTH: usize = 128;

/// roxmltree parses nested elements recursively, so a hostile file nesting thousands of
/// elements would overflow the stack (2 MiB on a tokio worker) and abort the process. This
/// scan counts nesting first. It may over-count on malformed input, never under-count up to
/// the point where the parser would stop with an error: comments, CDATA, processing
/// instructions and declarations are skipped, and `/>` only ends a start tag outside quotes.
pub(super) fn refuse_deep_nesting(input: &str) -> Result<(), ImportError> {
    let bytes = input.as_bytes();
    let find_from = |from: usize, needle: &str| {
        input
            .get(from..)
            .and_then(|rest| rest.find(needle))
            .map_or(bytes.len(), |at| from + at + needle.len())
    };
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(rel) = input.get(i..).and_then(|rest| rest.find('<')) {
        let lt = i + rel;
        let rest = input.get(lt..).unwrap_or_default();
        i = if rest.starts_with("<!--") {
            find_from(lt + 4, "-->")
        } else if rest.starts_with("<![CDATA[") {
            find_from(lt + 9, "]]>")
        } else if rest.starts_with("<?") {
            find_from(lt + 2, "?>")
        } else if rest.starts_with("<!") {
            find_from(lt + 2, ">")
        } else if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
            lt + 2
        } else {
            let mut quote = None;
            let mut end = None;
            for (k, &b) in bytes.iter().enumerate().skip(lt + 1) {
                match (quote, b) {
                    (Some(q), _) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'>') => {
                        end = Some(k);
                        break;
                    }
                    (None, _) => {}
                }
            }
            let Some(end) = end else { break };
            if bytes.get(end.wrapping_sub(1)) != Some(&b'/') {
                depth += 1;
                if depth > MAX_DEPTH {
                    let line = input.get(..lt).map_or(1, |h| h.matches('\n').count() + 1);
                    return Err(ImportError::at_line(
                        line,
                        format!(
                            "elements are nested more than {MAX_DEPTH} levels deep; \
                             a schedule needs far fewer"
                        ),
                    ));
                }
            }
            end + 1
        };
    }
    Ok(())
}
