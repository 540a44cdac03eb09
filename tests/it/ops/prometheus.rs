//! A strict reader of the Prometheus text format (0.0.4) for the tests: every sample line
//! must be well formed and belong to a family announced by `# TYPE`; histograms must be
//! cumulative and end in `+Inf` equal to `_count`.

use std::collections::BTreeMap;

/// Samples by `name{label="value",...}` exactly as written.
#[derive(Debug, Default)]
pub struct Page {
    pub samples: BTreeMap<String, f64>,
    pub types: BTreeMap<String, String>,
}

impl Page {
    /// The sample `key` (`name` or `name{labels}`), 0 when absent.
    pub fn value(&self, key: &str) -> f64 {
        self.samples.get(key).copied().unwrap_or(0.0)
    }
}

pub fn parse(text: &str) -> Result<Page, String> {
    let mut page = Page::default();
    for (number, line) in text.lines().enumerate() {
        let at = |message: &str| format!("line {}: {message}: {line}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without kind"))?;
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(at("unknown type"));
            }
            if page
                .types
                .insert(name.to_owned(), kind.to_owned())
                .is_some()
            {
                return Err(at("family typed twice"));
            }
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        if line.starts_with('#') {
            return Err(at("unknown comment"));
        }
        let (key, value) = line.rsplit_once(' ').ok_or_else(|| at("no value"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().map_err(|_| at("bad value"))?,
        };
        let name = key.split('{').next().unwrap_or(key);
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(at("bad metric name"));
        }
        if let Some(labels) = key.strip_prefix(name) {
            if !labels.is_empty() {
                check_labels(labels).map_err(|e| at(&e))?;
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                (page.types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
            })
            .unwrap_or(name);
        if !page.types.contains_key(family) {
            return Err(at("sample before its # TYPE"));
        }
        if page.samples.insert(key.to_owned(), value).is_some() {
            return Err(at("duplicate sample"));
        }
    }
    check_histograms(&page)?;
    Ok(page)
}

/// `{a="x",b="y"}` with escaped values.
fn check_labels(labels: &str) -> Result<(), String> {
    let inner = labels
        .strip_prefix('{')
        .and_then(|l| l.strip_suffix('}'))
        .ok_or("labels not in braces")?;
    let mut rest = inner;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name {name:?}"));
        }
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or("unterminated label value")?;
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    Ok(())
}

/// Buckets never decrease and the `+Inf` bucket equals `_count`.
fn check_histograms(page: &Page) -> Result<(), String> {
    for (family, _) in page.types.iter().filter(|(_, kind)| *kind == "histogram") {
        let prefix = format!("{family}_bucket");
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for (key, value) in page.samples.range(prefix.clone()..) {
            let Some(labels) = key.strip_prefix(&prefix) else {
                break;
            };
            let le_at = labels
                .find("le=\"")
                .ok_or(format!("{key}: bucket without le"))?;
            let le_end = labels[le_at + 4..].find('"').ok_or("bad le")? + le_at + 4;
            let le = &labels[le_at + 4..le_end];
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().map_err(|_| format!("{key}: bad le"))?
            };
            let others = format!("{}{}", &labels[..le_at], &labels[le_end + 1..])
                .replace("{,", "{")
                .replace(",}", "}")
                .replace(",,", ",");
            let others = if others == "{}" {
                String::new()
            } else {
                others
            };
            series.entry(others).or_default().push((bound, *value));
        }
        for (labels, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
                return Err(format!("{family}{labels}: buckets not cumulative"));
            }
            let last = buckets.last().ok_or("no buckets")?;
            let count = page.value(&format!("{family}_count{labels}"));
            if last.0 != f64::INFINITY || last.1 != count {
                return Err(format!("{family}{labels}: +Inf bucket is not _count"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_reader_refuses_what_prometheus_would() {
    assert!(parse("# TYPE a counter\na 1\n").is_ok());
    assert!(parse("a 1\n").is_err(), "untyped sample");
    assert!(
        parse("# TYPE a counter\na{x=\"1} 1\n").is_err(),
        "unterminated label"
    );
    assert!(parse(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"
    )
    .is_err());
}
