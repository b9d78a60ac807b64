//! report.html: self-contained, escaped, one colour per variant, a chart per
//! timed workload, and drawn by a real browser.

use std::time::Duration;

use super::{fixture, sample, variant};
use crate::measure::Stop;
use crate::measure::stats::Verdict;
use crate::report::record::{BoltVsPgo, NamedRatio, Ratio};
use crate::report::view::charts::{BASELINE_COLOUR, PALETTE};
use crate::report::view::colour;

fn page(r: &crate::report::Report) -> String {
    crate::report::page(r)
}

#[test]
fn page_is_self_contained() {
    let page = page(&sample());
    assert!(page.starts_with("<!doctype html>"));
    for attr in ["src=", "href=", "url(", "@import", "<script", "<link"] {
        assert!(!page.contains(attr), "the page has {attr}, so it is not self-contained");
    }
    assert!(!page.contains("https://"));
    // The SVG namespace is a name, not something fetched.
    assert!(page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").find("http://").is_none());
}

#[test]
fn one_chart_per_workload_and_startup() {
    assert_eq!(page(&sample()).matches("<svg").count(), 3);
    let mut r = sample();
    r.method.startup_args = None;
    for v in &mut r.variants {
        v.startup = None;
    }
    assert_eq!(page(&r).matches("<svg").count(), 2);
}

#[test]
fn names_are_escaped() {
    let mut r = sample();
    r.error = Some("cargo failed: <b>boom</b>".into());
    r.variants[1].description = "a \"quoted\" & <odd> one".into();
    let page = page(&r);
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("parse &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("cargo failed: &lt;b&gt;boom&lt;/b&gt;"));
    assert!(page.contains("a &quot;quoted&quot; &amp; &lt;odd&gt; one"));
}

#[test]
fn unmeasured_variants_are_not_charted() {
    let r = sample();
    let page = page(&r);
    // 4 measured variants × 3 charts, each bar with a line and two end caps.
    assert_eq!(page.matches("<rect class=\"bar\"").count(), 4 * 3);
    assert_eq!(page.matches("<line class=\"whisker\"").count(), 4 * 3 * 3);
    let idle = colour(&r, 3);
    assert!(!page.contains(idle), "the unmeasured variant's colour {idle} is on the page");
    // It is still in the tables.
    assert!(page.contains("<strong>preset-size</strong>"));
}

#[test]
fn colours_are_fixed_per_variant() {
    let r = sample();
    let colours: Vec<&str> = (0..r.variants.len()).map(|i| colour(&r, i)).collect();
    assert_eq!(colours, [BASELINE_COLOUR, PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3]]);
    let page = page(&r);
    for c in [BASELINE_COLOUR, PALETTE[0], PALETTE[1], PALETTE[3]] {
        assert_eq!(page.matches(&format!("fill=\"{c}\"")).count(), 3, "{c}");
    }
}

#[test]
fn banners_say_partial_or_incomplete() {
    let mut r = sample();
    assert!(!page(&r).contains("class=\"banner"));
    r.complete = false;
    assert!(page(&r).contains("<strong>Partial:</strong>"));
    r.error = Some("the pgo build failed".into());
    let p = page(&r);
    assert!(p.contains("<strong>Incomplete:</strong> the pgo build failed"));
    assert!(!p.contains("Partial:"));
}

#[test]
fn nothing_measured_yet_draws_no_chart() {
    let mut r = sample();
    r.complete = false;
    r.method.rounds = 0;
    r.method.stop = Stop::Running;
    r.method.achieved_precision = None;
    for v in &mut r.variants {
        v.startup = None;
        v.workloads.clear();
        v.geomean = None;
    }
    let page = page(&r);
    assert_eq!(page.matches("<svg").count(), 0);
    assert!(page.contains("No measurements yet."));
    assert!(!page.contains("<h2>Details</h2>"));
}

#[test]
fn summary_and_details_mirror_markdown() {
    let page = page(&sample());
    assert!(page.contains("<th class=\"num\">render †</th>"));
    assert!(page.contains("19.0% faster"));
    assert!(page.contains("6.0% slower"));
    assert!(page.contains("0.740× [0.720–0.760]"));
    assert!(page.contains("41.0 s"));
    assert!(page.contains("<h2>CI checks</h2>"));
    assert!(page.contains("every ratio&#39;s interval reached the target ±1.0% (widest: ±0.9%)"));
    assert!(page.contains("pgo-build 0.1.0; report schema 2"));
    assert!(page.contains("12 rounds measured (at least 6, at most 200), after 1 warm-up round;"));
}

#[test]
fn bolt_against_pgo_and_the_same_build_are_shown() {
    let mut r = sample();
    assert!(!page(&r).contains("BOLT vs PGO"), "no section without both measured");
    let ratio =
        |ratio: f64, verdict| Ratio { ratio, ratio_ci_low: ratio - 0.01, ratio_ci_high: ratio + 0.005, verdict };
    r.bolt_vs_pgo = Some(BoltVsPgo {
        workloads: vec![
            NamedRatio {
                name: "parse <script>alert(1)</script>".into(),
                ratio: ratio(0.987, Verdict::NoClearDifference),
            },
            NamedRatio { name: "render".into(), ratio: ratio(0.99, Verdict::NoClearDifference) },
        ],
        geomean: ratio(0.988, Verdict::NoClearDifference),
        verdict: Verdict::NoClearDifference,
        keep_bolt_asked: false,
        keep_bolt: false,
        delivered: crate::state::Shipped::Pgo,
        reason: "no clear difference: 0.988× [0.978–0.993] is within the 1% noise threshold".into(),
    });
    let mut same = variant("release", 1.0, Verdict::NoClearDifference);
    same.same_build_as = Some("lto".into());
    (same.startup, same.workloads, same.geomean, same.build_times) = (None, Vec::new(), None, None);
    r.variants.push(same);
    let page = page(&r);
    assert!(page.contains("<h2>BOLT vs PGO</h2>"), "{page}");
    assert!(
        page.contains(
            "<td>parse &lt;script&gt;alert(1)&lt;/script&gt;</td><td class=\"num\">0.987× [0.977–0.992]</td>"
        )
    );
    assert!(page.contains(
        "<strong>Decision: ship <code>pgo</code></strong> — because no clear difference: 0.988× [0.978–0.993] is within \
         the 1% noise threshold."
    ));
    assert!(page.contains("same build as <strong>lto</strong>"), "{page}");
    assert!(page.contains("<em>Same build as X</em>: the variant has X&#39;s effective"), "{page}");
    // Not charted: no figures of its own.
    assert_eq!(page.matches("<rect class=\"bar\"").count(), 4 * 3);
}

/// Renders `html` in Debian's Chromium (installed by `.ci/install-test-deps` when
/// missing) and returns a counter of the screenshot's pixels of a `#rrggbb` colour.
pub fn screenshot(html: &str) -> impl Fn(&str) -> usize + use<> {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    crate::test_tools::ensure_installed();
    let chromium = which::which("chromium").unwrap_or_else(|_| {
        panic!("chromium is not installed: `.ci/install-test-deps` installs it (apt-get install chromium)")
    });
    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("report.html");
    let png_path = dir.path().join("report.png");
    std::fs::write(&page_path, html).unwrap();
    let mut child = Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .arg(format!("--screenshot={}", png_path.display()))
        .arg(format!("file://{}", page_path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium took over 120 s to take a screenshot");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        png_path.exists(),
        "chromium made no screenshot ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // To look at it: PGO_BUILD_KEEP_PAGE=/tmp/some-dir cargo test renders_in_a_real_browser
    if let Some(keep) = std::env::var_os("PGO_BUILD_KEEP_PAGE") {
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&page_path, keep.join("report.html")).unwrap();
        std::fs::copy(&png_path, keep.join("report.png")).unwrap();
    }

    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png_path).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    let pixels = &buf[..info.buffer_size()];
    let pixels = pixels.to_vec();
    move |hex: &str| {
        let want: Vec<u8> = (0..3).map(|i| u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()).collect();
        pixels.chunks_exact(channels).filter(|p| (0..3).all(|c| p[c].abs_diff(want[c]) <= 2)).count()
    }
}
/// Renders the page in Debian's Chromium and counts each variant's bar colour
/// in the screenshot, so the SVG really draws (not only parses as a string).
#[test]
fn renders_in_a_real_browser() {
    let r = fixture();
    let count = screenshot(&page(&r));
    for i in 0..r.variants.len() {
        let (name, c) = (&r.variants[i].name, colour(&r, i));
        let n = count(c);
        // preset-size was not measured; release is the same build as lto.
        if i == 3 || r.variants[i].same_build_as.is_some() {
            assert_eq!(n, 0, "{name} has no figures of its own, yet its colour {c} is on the screen");
        } else {
            assert!(n >= 200, "only {n} pixels of {name}'s bar colour {c}: the chart did not render");
        }
    }
}

/// The figures a workload reports are columns of the HTML summary, as of
/// report.md's (they were missing from the page).
#[test]
fn the_summary_has_a_column_per_workload_figure() {
    let r = fixture();
    let page = page(&r);
    let summary = &page[page.find("<table class=\"summary\">").unwrap()..];
    let summary = &summary[..summary.find("</table>").unwrap()];
    assert!(summary.contains("<th class=\"num\">render requests</th>"), "{summary}");
    assert!(summary.contains("<td class=\"num\">41.2 k req/s</td>"), "{summary}");
    assert!(summary.contains("45.1 k req/s · 9.5% more (better)"), "{summary}");
    let md = crate::report::markdown(&r);
    assert!(md.contains("render requests"), "the same column in report.md: {md}");
}
