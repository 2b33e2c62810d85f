//! What a person sees: headless Chromium renders report.html and the capacity heat map, and
//! the screenshots must be real pictures (large, many colours, mostly not blank). Without
//! Chromium (`apt-get install chromium`; .ci/run installs it) the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nomad_sim_output::ScratchDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nomad-sim-report"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> ScratchDir {
    ScratchDir::create(std::env::temp_dir().join(format!(
        "nomad-sim-report-shot-{}-{name}",
        std::process::id()
    )))
    .expect("a scratch directory")
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_string)
}

/// Screenshots `page` into `png` at `height` pixels high (1200 wide, 700 for a lone SVG),
/// within a minute.
fn screenshot(browser: &str, page: &Path, png: &Path, height: u32) {
    let width = if page.extension().is_some_and(|e| e == "svg") {
        700
    } else {
        1200
    };
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            &format!("--window-size={width},{height}"),
            &format!("--screenshot={}", png.display()),
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed on {}", page.display());
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium took more than a minute on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Decodes a PNG and checks it is a picture: big enough, many colours, mostly not white.
fn check_picture(png: &Path, min_bytes: usize, min_inked: f64) {
    let bytes = std::fs::read(png).unwrap();
    assert!(
        bytes.len() > min_bytes,
        "{}: only {} bytes",
        png.display(),
        bytes.len()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let count = pixels.len() / channels;
    for px in pixels.chunks(channels) {
        colours.insert((px[0], px[1], px[2]));
        if px[..3].iter().any(|c| *c < 235) {
            inked += 1;
        }
    }
    let share = inked as f64 / count as f64;
    assert!(
        colours.len() > 50,
        "{}: {} colours",
        png.display(),
        colours.len()
    );
    assert!(
        share > min_inked,
        "{}: {:.3} of the pixels inked",
        png.display(),
        share
    );
}

#[test]
fn report_and_heat_map_render_in_chromium() {
    let Some(browser) = chromium() else {
        println!(
            "SKIPPED report_and_heat_map_render_in_chromium: no chromium on PATH \
             (apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    let dir = tmp("pages");
    let report = dir.join("report");
    let o = bin()
        .args([
            "--scenarios",
            root()
                .join("scenarios/circleci-weekday.yaml")
                .to_str()
                .unwrap(),
            "--algorithms",
            "binpack,spread,best-fit",
            "--seeds",
            "3",
            "--no-timing",
            "--out",
            report.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let capacity = dir.join("capacity");
    let o = bin()
        .args([
            "capacity",
            root()
                .join("scenarios/circleci-scale-down.yaml")
                .to_str()
                .unwrap(),
            "--vary",
            "pool.linux.count=4..12:4",
            "--vary",
            "scale_up.0.count,scale_down.0.count=6..14:4",
            "--target",
            "p95_pending_s<=30",
            "--seeds",
            "2",
            "--out",
            capacity.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shots = dir.join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let report_png = shots.join("report.png");
    screenshot(&browser, &report.join("report.html"), &report_png, 1600);
    check_picture(&report_png, 50_000, 0.02);
    let heat_png = shots.join("heat-map.png");
    screenshot(&browser, &capacity.join("capacity.svg"), &heat_png, 500);
    check_picture(&heat_png, 10_000, 0.10);
    println!("screenshots in {}", shots.display());
}
