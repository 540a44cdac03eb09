//! A strict reader of the OpenMetrics text format (1.0.0), what `/metrics` serves, for the
//! tests: every line well formed, each family's lines together with its `# TYPE` before its
//! samples, sample names as the family's type allows (`_total` for a counter, `_bucket`,
//! `_sum`, `_count` for a histogram, `_info` for an info), `# UNIT` matching the name,
//! histograms cumulative and ending in `+Inf` equal to `_count`, and `# EOF` last.

use std::collections::{BTreeMap, BTreeSet};

/// Samples by `name{label="value",...}` exactly as written.
#[derive(Debug, Default)]
pub struct Page {
    pub samples: BTreeMap<String, f64>,
    /// The type of each family, by family name (a counter's without `_total`).
    pub types: BTreeMap<String, String>,
}

impl Page {
    /// The sample `key` (`name` or `name{labels}`), 0 when absent.
    pub fn value(&self, key: &str) -> f64 {
        self.samples.get(key).copied().unwrap_or(0.0)
    }
}

const TYPES: [&str; 8] = [
    "counter",
    "gauge",
    "histogram",
    "gaugehistogram",
    "stateset",
    "info",
    "summary",
    "unknown",
];

pub fn parse(text: &str) -> Result<Page, String> {
    let mut page = Page::default();
    let body = text
        .strip_suffix("# EOF\n")
        .or_else(|| text.strip_suffix("# EOF"))
        .ok_or("the page does not end with # EOF")?;
    // The family whose lines come now, and those already over (they may not come back).
    let mut current: Option<String> = None;
    let mut over: BTreeSet<String> = BTreeSet::new();
    for (number, line) in body.lines().enumerate() {
        let at = |message: &str| format!("line {}: {message}: {line}", number + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let (keyword, rest) = rest.split_once(' ').ok_or_else(|| at("bare comment"))?;
            let (name, value) = rest.split_once(' ').ok_or_else(|| at("no value"))?;
            check_name(name).map_err(|e| at(&e))?;
            if current.as_deref() != Some(name) {
                if !over.insert(name.to_owned()) {
                    return Err(at("family interleaved with another"));
                }
                current = Some(name.to_owned());
            }
            match keyword {
                "HELP" => {}
                "TYPE" => {
                    if !TYPES.contains(&value) {
                        return Err(at("unknown type"));
                    }
                    if page.types.insert(name.into(), value.into()).is_some() {
                        return Err(at("family typed twice"));
                    }
                }
                "UNIT" => {
                    if value.is_empty() || !name.ends_with(&format!("_{value}")) {
                        return Err(at("the name does not end in its unit"));
                    }
                }
                _ => return Err(at("unknown comment")),
            }
            continue;
        }
        let (key, value) = split_sample(line).map_err(|e| at(&e))?;
        let name = key.split('{').next().unwrap_or(key);
        let family = current
            .as_deref()
            .ok_or_else(|| at("sample before any # TYPE"))?;
        let kind = page
            .types
            .get(family)
            .ok_or_else(|| at("sample before its # TYPE"))?;
        if !belongs(name, family, kind) {
            return Err(at(&format!("not a sample name of the {kind} {family}")));
        }
        if (kind == "counter" && name.ends_with("_total") && value < 0.0)
            || (kind == "info" && value != 1.0)
        {
            return Err(at("value out of range for its type"));
        }
        if page.samples.insert(key.to_owned(), value).is_some() {
            return Err(at("duplicate sample"));
        }
    }
    check_histograms(&page)?;
    Ok(page)
}

fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid
        .then_some(())
        .ok_or(format!("bad metric name {name:?}"))
}

/// Whether a sample called `name` is one of `family`'s, given its type.
fn belongs(name: &str, family: &str, kind: &str) -> bool {
    let suffixes: &[&str] = match kind {
        "counter" => &["_total", "_created"],
        "histogram" => &["_bucket", "_sum", "_count", "_created"],
        "gaugehistogram" => &["_bucket", "_gsum", "_gcount"],
        "summary" => &["", "_sum", "_count", "_created"],
        "info" => &["_info"],
        _ => &[""],
    };
    suffixes
        .iter()
        .any(|suffix| name.strip_suffix(suffix) == Some(family))
}

/// `name{labels} value [timestamp]` into the key and the value.
fn split_sample(line: &str) -> Result<(&str, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    check_name(&line[..name_end])?;
    let key_end = if line[name_end..].starts_with('{') {
        name_end + labels_end(&line[name_end..])?
    } else {
        name_end
    };
    let rest = line[key_end..]
        .strip_prefix(' ')
        .ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parts.next().unwrap_or_default();
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other.parse().map_err(|_| "bad value")?,
    };
    if let Some(timestamp) = parts.next() {
        timestamp.parse::<f64>().map_err(|_| "bad timestamp")?;
    }
    if parts.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok((&line[..key_end], value))
}

/// The length of `{a="x",b="y"}` at the start of `labels`, values escaped.
fn labels_end(labels: &str) -> Result<usize, String> {
    let mut rest = labels.strip_prefix('{').ok_or("labels not in braces")?;
    let mut names = BTreeSet::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(labels.len() - after.len());
        }
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!("bad label name {name:?}"));
        }
        if !names.insert(name) {
            return Err(format!("label {name} twice"));
        }
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, '\\' | '"' | 'n')) => {}
                    _ => return Err("bad escape in a label value".into()),
                },
                '"' => {
                    end = Some(index);
                    break;
                }
                '\n' => return Err("newline in a label value".into()),
                _ => {}
            }
        }
        let end = end.ok_or("unterminated label value")?;
        rest = &after[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels not separated by commas".into());
        }
    }
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
            let count = page
                .samples
                .get(&format!("{family}_count{labels}"))
                .ok_or(format!("{family}{labels}: no _count"))?;
            if last.0 != f64::INFINITY || last.1 != *count {
                return Err(format!("{family}{labels}: +Inf bucket is not _count"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_reader_refuses_what_prometheus_would() {
    let refused = [
        ("a 1\n# EOF\n", "untyped sample"),
        ("# TYPE a counter\na_total 1\n", "no # EOF"),
        (
            "# TYPE a counter\na_total 1\n# EOF\n# TYPE b gauge\n",
            "text after # EOF",
        ),
        ("# TYPE a counter\n\na_total 1\n# EOF\n", "blank line"),
        ("# TYPE a counter\na 1\n# EOF\n", "a counter without _total"),
        (
            "# TYPE a counter\na_total -1\n# EOF\n",
            "a negative counter",
        ),
        (
            "# TYPE a_s gauge\n# UNIT a_s bytes\na_s 1\n# EOF\n",
            "unit not in the name",
        ),
        (
            "# TYPE a gauge\n# TYPE b gauge\na 1\n# EOF\n",
            "a sample after another family's # TYPE",
        ),
        (
            "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a again\n# EOF\n",
            "a family interleaved",
        ),
        ("# TYPE a gauge\na{x=\"1} 1\n# EOF\n", "unterminated label"),
        (
            "# TYPE a gauge\na{x=\"1\" y=\"2\"} 1\n# EOF\n",
            "labels without comma",
        ),
        ("# TYPE a gauge\na{x=\"\\t\"} 1\n# EOF\n", "bad escape"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
            "buckets not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "no _count",
        ),
    ];
    let accepted = "# HELP a_seconds A.\n# TYPE a_seconds histogram\n# UNIT a_seconds seconds\n\
        a_seconds_sum{c=\"x y\"} 1.5\na_seconds_count{c=\"x y\"} 2\n\
        a_seconds_bucket{le=\"1.0\",c=\"x y\"} 1\na_seconds_bucket{le=\"+Inf\",c=\"x y\"} 2\n\
        # TYPE b counter\nb_total{q=\"\\\"\"} 3 1700000000\n# TYPE v info\nv_info{version=\"1\"} 1\n# EOF\n";

    let page = parse(accepted).expect("a valid page");
    assert_eq!(page.value("a_seconds_count{c=\"x y\"}"), 2.0);
    assert_eq!(page.value("b_total{q=\"\\\"\"}"), 3.0);
    assert_eq!(page.types["b"], "counter");
    for (text, why) in refused {
        assert!(parse(text).is_err(), "{why}: {text}");
    }
}
