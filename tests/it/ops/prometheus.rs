//! A strict reader of the OpenMetrics text format (1.0.0), what `/metrics` serves, for the
//! tests: every line well formed (labels, escapes, values, timestamps, exemplars), each
//! family's lines together and its metadata (`# HELP`, `# TYPE`, `# UNIT`, once each) before
//! its samples, sample names as the family's type allows (`_total` for a counter, `_bucket`,
//! `_sum`, `_count` for a histogram, `_info` for an info), `# UNIT` matching the name, no
//! sample twice, histograms with increasing bounds, cumulative, ending in `+Inf` equal to
//! `_count`, and `# EOF` last. One rule is confbot's rather than the format's: every family
//! has a `# TYPE`.

use std::collections::{BTreeMap, BTreeSet};

/// Samples by `name{label="value",...}` exactly as written.
#[derive(Debug, Default)]
pub struct Page {
    pub samples: BTreeMap<String, f64>,
    /// The type of each family, by family name (a counter's without `_total`).
    pub types: BTreeMap<String, String>,
}

impl Page {
    /// The sample `key` (`name` or `name{labels}` as written); a missing one fails the test,
    /// so an assertion of 0 cannot pass on a metric that is gone.
    pub fn value(&self, key: &str) -> f64 {
        match self.samples.get(key) {
            Some(value) => *value,
            None => panic!("no sample {key} on the page: {:#?}", self.samples.keys()),
        }
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

/// One family's metadata and whether its samples have begun.
#[derive(Default)]
struct Family {
    name: String,
    help: bool,
    unit: bool,
    sampled: bool,
}

/// A histogram's sample, for the checks across its series.
enum Part {
    Bucket { bound: f64, count: f64 },
    Count(f64),
}

/// Label names and values (as escaped on the page), in the page's order.
type Labels<'a> = Vec<(&'a str, &'a str)>;

/// One sample line, its labels parsed.
struct Sample<'a> {
    name: &'a str,
    labels: Labels<'a>,
    value: f64,
}

pub fn parse(text: &str) -> Result<Page, String> {
    let mut page = Page::default();
    let body = text
        .strip_suffix("# EOF\n")
        .or_else(|| text.strip_suffix("# EOF"))
        .ok_or("the page does not end with # EOF")?;
    let mut current = Family::default();
    // Families already over: their lines may not come back.
    let mut over: BTreeSet<String> = BTreeSet::new();
    let mut canonical: BTreeSet<String> = BTreeSet::new();
    let mut histograms: BTreeMap<String, Vec<Part>> = BTreeMap::new();
    for (number, line) in body.lines().enumerate() {
        let at = |message: &str| format!("line {}: {message}: {line}", number + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let (keyword, rest) = rest.split_once(' ').ok_or_else(|| at("bare comment"))?;
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            check_name(name).map_err(|e| at(&e))?;
            if current.name != name {
                if !over.insert(name.to_owned()) {
                    return Err(at("family interleaved with another"));
                }
                current = Family {
                    name: name.to_owned(),
                    ..Family::default()
                };
            }
            if current.sampled {
                return Err(at("metadata after the family's samples"));
            }
            match keyword {
                "HELP" => {
                    check_escaped(value).map_err(|e| at(&e))?;
                    if std::mem::replace(&mut current.help, true) {
                        return Err(at("HELP twice"));
                    }
                }
                "TYPE" => {
                    if !TYPES.contains(&value) {
                        return Err(at("unknown type"));
                    }
                    if page.types.insert(name.into(), value.into()).is_some() {
                        return Err(at("family typed twice"));
                    }
                }
                "UNIT" => {
                    if !value.is_empty() && !name.ends_with(&format!("_{value}")) {
                        return Err(at("the name does not end in its unit"));
                    }
                    if std::mem::replace(&mut current.unit, true) {
                        return Err(at("UNIT twice"));
                    }
                }
                _ => return Err(at("unknown comment")),
            }
            continue;
        }
        let (key, sample) = split_sample(line).map_err(|e| at(&e))?;
        // Valid OpenMetrics reads a sample without metadata as a family of type `unknown`;
        // confbot types every family, so here it is an error.
        let family = current.name.as_str();
        let kind = page
            .types
            .get(family)
            .ok_or_else(|| at("sample without its # TYPE"))?;
        if !belongs(sample.name, family, kind) {
            return Err(at(&format!("not a sample name of the {kind} {family}")));
        }
        let value = sample.value;
        let counted = kind == "counter" && sample.name.ends_with("_total");
        let negative = value.is_nan() || value < 0.0;
        if (counted && negative) || (kind == "info" && value != 1.0) {
            return Err(at("value out of range for its type"));
        }
        current.sampled = true;
        let mut sorted = sample.labels.clone();
        sorted.sort_unstable();
        if !canonical.insert(format!("{}{sorted:?}", sample.name)) {
            return Err(at("duplicate sample"));
        }
        if kind == "histogram" {
            let le = sample.labels.iter().find(|(name, _)| *name == "le");
            let others = sample.labels.iter().filter(|(name, _)| *name != "le");
            let series = format!("{family}{:?}", others.collect::<Vec<_>>());
            let part = match (sample.name.strip_prefix(family), le) {
                (Some("_bucket"), Some((_, le))) => {
                    let bound = match *le {
                        "+Inf" => f64::INFINITY,
                        le => le.parse().map_err(|_| at("bad le"))?,
                    };
                    Some(Part::Bucket {
                        bound,
                        count: value,
                    })
                }
                (Some("_bucket"), None) => return Err(at("a bucket without le")),
                (Some("_count"), _) => Some(Part::Count(value)),
                _ => None,
            };
            histograms.entry(series).or_default().extend(part);
        }
        page.samples.insert(key.to_owned(), value);
    }
    check_histograms(&histograms)?;
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

/// A HELP text or label value: no raw newline or quote, and only `\\`, `\"`, `\n` escapes.
fn check_escaped(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.next(), Some('\\' | '"' | 'n')) => {}
            '\\' => return Err("bad escape".into()),
            '"' | '\n' => return Err("unescaped quote or newline".into()),
            _ => {}
        }
    }
    Ok(())
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

/// `name{labels} value [timestamp] [# {labels} value [timestamp]]` into the key as written
/// and the sample.
fn split_sample(line: &str) -> Result<(&str, Sample<'_>), String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let (labels, key_end) = if line[name_end..].starts_with('{') {
        let (labels, length) = parse_labels(&line[name_end..])?;
        (labels, name_end + length)
    } else {
        (Vec::new(), name_end)
    };
    let rest = line[key_end..]
        .strip_prefix(' ')
        .ok_or("no space before the value")?;
    let (rest, exemplar) = match rest.split_once(" # ") {
        Some((rest, exemplar)) => (rest, Some(exemplar)),
        None => (rest, None),
    };
    let (value, _timestamp) = value_and_timestamp(rest)?;
    if let Some(exemplar) = exemplar {
        let (_, length) = parse_labels(exemplar)?;
        let rest = exemplar[length..]
            .strip_prefix(' ')
            .ok_or("an exemplar without a value")?;
        value_and_timestamp(rest)?;
    }
    let sample = Sample {
        name,
        labels,
        value,
    };
    Ok((&line[..key_end], sample))
}

fn value_and_timestamp(text: &str) -> Result<(f64, Option<f64>), String> {
    let number = |text: &str| -> Result<f64, String> {
        match text {
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            other => other.parse().map_err(|_| format!("bad number {other:?}")),
        }
    };
    let mut parts = text.split(' ');
    let value = number(parts.next().unwrap_or_default())?;
    let timestamp = parts.next().map(number).transpose()?;
    if parts.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok((value, timestamp))
}

/// `{a="x",b="y"}` at the start of `text`: the pairs (values as escaped) and its length.
fn parse_labels(text: &str) -> Result<(Labels<'_>, usize), String> {
    let mut rest = text.strip_prefix('{').ok_or("labels not in braces")?;
    let mut labels = Vec::new();
    let mut after_comma = false;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            if after_comma {
                return Err("a trailing comma in the labels".into());
            }
            return Ok((labels, text.len() - after.len()));
        }
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!("bad label name {name:?}"));
        }
        if labels.iter().any(|(seen, _)| *seen == name) {
            return Err(format!("label {name} twice"));
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
        check_escaped(&after[..end])?;
        labels.push((name, &after[..end]));
        rest = &after[end + 1..];
        after_comma = rest.starts_with(',');
        if after_comma {
            rest = &rest[1..];
        } else if !rest.starts_with('}') {
            return Err("labels not separated by commas".into());
        }
    }
}

/// Per histogram series, in the page's order: buckets with increasing bounds, counts never
/// decreasing, the last bucket `+Inf`, equal to `_count`.
fn check_histograms(histograms: &BTreeMap<String, Vec<Part>>) -> Result<(), String> {
    for (series, parts) in histograms {
        let buckets: Vec<(f64, f64)> = parts
            .iter()
            .filter_map(|part| match part {
                Part::Bucket { bound, count } => Some((*bound, *count)),
                Part::Count(_) => None,
            })
            .collect();
        let count = parts.iter().find_map(|part| match part {
            Part::Count(count) => Some(*count),
            Part::Bucket { .. } => None,
        });
        let Some(last) = buckets.last() else {
            return Err(format!("{series}: no buckets"));
        };
        if buckets
            .windows(2)
            .any(|w| w[0].0 >= w[1].0 || w[1].0.is_nan())
        {
            return Err(format!("{series}: bucket bounds not increasing"));
        }
        if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
            return Err(format!("{series}: buckets not cumulative"));
        }
        if last.0 != f64::INFINITY || Some(last.1) != count {
            return Err(format!("{series}: the +Inf bucket is not _count"));
        }
    }
    Ok(())
}

// The reader's own test: what it refuses and accepts.
#[path = "prometheus_tests.rs"]
mod tests;
