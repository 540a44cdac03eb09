//! The reader refuses what Prometheus would, and what confbot never writes.

use super::parse;

#[test]
fn the_reader_refuses_what_prometheus_would() {
    let refused = [
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
        ("# TYPE a counter\na_total NaN\n# EOF\n", "a counter of NaN"),
        (
            "# TYPE a_s gauge\n# UNIT a_s bytes\na_s 1\n# EOF\n",
            "unit not in the name",
        ),
        (
            "# TYPE a gauge\n# HELP a say \"hi\"\na 1\n# EOF\n",
            "raw quote in HELP",
        ),
        (
            "# TYPE a gauge\n# HELP a x\n# HELP a y\na 1\n# EOF\n",
            "HELP twice",
        ),
        (
            "# TYPE a gauge\na 1\n# HELP a late\n# EOF\n",
            "metadata after samples",
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
        ("# TYPE a gauge\na{x=\"1\",} 1\n# EOF\n", "a trailing comma"),
        ("# TYPE a gauge\na{x=\"\\t\"} 1\n# EOF\n", "bad escape"),
        (
            "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 1\n# EOF\n",
            "the same sample twice, labels reordered",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
            "buckets not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"1\"} 1\nh_count 1\n# EOF\n",
            "bounds out of order",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "no _count",
        ),
        (
            "# TYPE h histogram\nh_sum 1\nh_count 1\n# EOF\n",
            "no buckets",
        ),
        // Valid OpenMetrics (type `unknown`), but confbot types every family.
        ("a 1\n# EOF\n", "a sample without # TYPE"),
    ];
    let accepted = "# HELP a_seconds A \\\"quoted\\\" help.\n# TYPE a_seconds histogram\n\
        # UNIT a_seconds seconds\n\
        a_seconds_sum{c=\"x y\"} 1.5\na_seconds_count{c=\"x y\"} 2\n\
        a_seconds_bucket{le=\"1.0\",c=\"x y\"} 1 # {trace=\"abc\"} 0.5 1700000000.5\n\
        a_seconds_bucket{le=\"+Inf\",c=\"x y\"} 2\n\
        # TYPE b counter\n# UNIT b \nb_total{q=\"\\\"\"} 3 1700000000\n\
        # TYPE v info\nv_info{version=\"1\"} 1\n# EOF\n";

    let page = parse(accepted).expect("a valid page");
    assert_eq!(page.value("a_seconds_count{c=\"x y\"}"), 2.0);
    assert_eq!(page.value("b_total{q=\"\\\"\"}"), 3.0);
    assert_eq!(page.types["b"], "counter");
    for (text, why) in refused {
        assert!(parse(text).is_err(), "{why}: {text}");
    }
}
