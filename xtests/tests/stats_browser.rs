//! The statistics page in a real browser (Debian's headless Chromium):
//! its DOM has a table per proxy naming the proxy and its servers, each
//! server's row carrying its state's class, and its screenshot shows
//! HAProxy's colours for those states (active UP, active DOWN,
//! maintenance, backup UP) and for the headers. Behind `stats auth`, the
//! browser gets no page without credentials and the page with them.
//!
//! `UPDATE_SCREENSHOT=1` also writes the screenshot to the book
//! (book/src/images/stats-page.png).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xtests::http::{Client, ScriptedServer};
use xtests::ProxyProcess;

/// Chromium starts in about a second here; a loaded machine may take many.
const BROWSER_WITHIN: Duration = Duration::from_secs(60);

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1000;

fn chromium_bin() -> Option<PathBuf> {
    xtests::installed(
        "chromium",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        "the stats page in a browser",
    )
}

/// What one headless run of the browser left.
struct Browsed {
    /// `--dump-dom`: the document as the browser built it.
    dom: String,
    stderr: String,
}

/// Runs the browser on `url` in a profile of its own, `dir/name` (a
/// shared profile would hand the URL to another running browser), with
/// `extra` flags, and returns its DOM dump. Killed, with its helpers (its
/// process group), when it overruns.
fn browse(chromium: &Path, dir: &Path, name: &str, url: &str, extra: &[String]) -> Browsed {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("dom.html"), dir.join("stderr"));
    let mut child = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + BROWSER_WITHIN;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: kill(2) on the process group of our own unreaped child.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("chromium did not finish {url} within {BROWSER_WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(20)); // the poll interval
    }
    // Megabytes per run, of no use once it exited.
    let _ = std::fs::remove_dir_all(dir.join("profile"));
    Browsed {
        dom: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// The proxies' names, in the order of their tables (`th.pxname`).
fn proxy_tables(dom: &str) -> Vec<String> {
    dom.split("<th class=\"pxname\"")
        .skip(1)
        .filter_map(|t| {
            let name = t.split("<a class=\"px\" href=\"#").nth(1)?;
            Some(name[..name.find('"')?].to_string())
        })
        .collect()
}

/// Each row of the tables as (class, `proxy/name`).
fn rows(dom: &str) -> Vec<(String, String)> {
    dom.split("<tr class=\"")
        .skip(1)
        .filter_map(|r| {
            let class = &r[..r.find('"')?];
            let anchor = r[..r.find("</tr>").unwrap_or(r.len())]
                .split("<a name=\"")
                .nth(1)?;
            Some((class.to_string(), anchor[..anchor.find('"')?].to_string()))
        })
        .collect()
}

/// RGB pixels of a PNG (8 bits per channel, with or without alpha).
fn pixels(png_bytes: &[u8]) -> (png::OutputInfo, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{info:?}");
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("a screenshot in {other:?}"),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info, rgb)
}

fn hex(colour: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&colour[i..i + 2], 16).unwrap();
    [byte(0), byte(2), byte(4)]
}

/// The colours of HAProxy's page (its style sheet) that the screenshot
/// must show, and over how many pixels at least: a row of the table is
/// some 1,300 pixels wide and 14 high, less its text; a header cell less.
const COLOURS: [(&str, &str, usize); 6] = [
    ("active_up", "c0ffc0", 5_000),
    ("active_down", "ff9090", 5_000),
    ("maintain", "c07820", 5_000),
    ("backup_up", "b0d0ff", 5_000),
    ("proxy name header (th.pxname)", "b00040", 1_000),
    ("table header (.titre)", "20d0d0", 5_000),
];

/// Two stats pages, one open and one behind `stats auth admin:admin`, and
/// a backend with a server in each state the page colours: UP, DOWN (a
/// closed port, checked), in maintenance (`disabled`) and a backup UP.
fn config(socket: &Path, open: u16, guarded: u16, web: u16, up: u16, closed: u16) -> String {
    format!(
        "global
    stats socket {} level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen stats
    bind 127.0.0.1:{open}
    stats enable
    stats uri /stats

listen guarded
    bind 127.0.0.1:{guarded}
    stats enable
    stats uri /stats
    stats auth admin:admin

frontend web
    bind 127.0.0.1:{web}
    default_backend app

backend app
    server up1 127.0.0.1:{up} check inter 100
    server down1 127.0.0.1:{closed} check inter 100 fall 1
    server maint1 127.0.0.1:{up} check disabled
    server backup1 127.0.0.1:{up} check inter 100 backup
",
        socket.display()
    )
}

/// The engine serving both pages, its servers' checks settled, after a
/// little traffic (so that the page's counters are not all zero).
struct Pages {
    open: u16,
    guarded: u16,
    /// Where the browser's profiles and outputs go.
    dir: PathBuf,
    _proxy: ProxyProcess,
    _up: ScriptedServer,
}

fn start() -> Pages {
    let up = ScriptedServer::named("up1");
    let ports: Vec<u16> = (0..4).map(|_| xtests::free_port()).collect();
    let (open, guarded, web, closed) = (ports[0], ports[1], ports[2], ports[3]);
    let socket = xtests::socket_path(&format!("stats-browser-{open}"));
    let cfg = xtests::config_file(
        &format!("stats-browser-{open}"),
        &config(&socket, open, guarded, web, up.port, closed),
    );
    let proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    // Until its first check, a server shows as going down (health at
    // `rise`, below `rise + fall - 1`): wait for every check to settle.
    let settled = [
        ("up1", "UP", "L4OK"),
        ("down1", "DOWN", "L4CON"),
        ("maint1", "MAINT", ""),
        ("backup1", "UP", "L4OK"),
    ];
    xtests::wait_until(
        Duration::from_secs(10),
        "the servers' checks settle",
        || {
            let states = xtests::stat_columns(&socket, &["status", "check_status"]);
            settled.iter().all(|(sv, status, check)| {
                states.get(&("app".into(), sv.to_string()))
                    == Some(&vec![status.to_string(), check.to_string()])
            })
        },
    );
    for _ in 0..3 {
        let reply = Client::connect(web)
            .send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .response()
            .unwrap_or_default();
        assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    }

    Pages {
        open,
        guarded,
        dir: cfg.parent().unwrap().to_path_buf(),
        _proxy: proxy,
        _up: up,
    }
}

#[test]
fn the_page_shows_each_proxy_and_haproxys_colours() {
    let Some(chromium) = chromium_bin() else {
        return;
    };
    let Pages { open, dir, .. } = &start();
    let screenshot = dir.join("page.png");
    let page = browse(
        &chromium,
        dir,
        "open",
        &format!("http://127.0.0.1:{open}/stats"),
        &[
            "--hide-scrollbars".into(),
            "--force-device-scale-factor=1".into(),
            format!("--window-size={WIDTH},{HEIGHT}"),
            format!("--screenshot={}", screenshot.display()),
        ],
    );
    assert_eq!(
        proxy_tables(&page.dom),
        ["stats", "guarded", "web", "app"],
        "{}",
        page.stderr
    );
    let app: Vec<(String, String)> = rows(&page.dom)
        .into_iter()
        .filter(|(_, name)| name.starts_with("app/"))
        .collect();
    let expected = [
        ("active_up", "app/up1"),
        ("active_down", "app/down1"),
        ("maintain", "app/maint1"),
        ("backup_up", "app/backup1"),
        ("backend", "app/Backend"),
    ];
    assert_eq!(
        app,
        expected.map(|(c, n)| (c.to_string(), n.to_string())),
        "{}",
        page.dom
    );

    let png_bytes = std::fs::read(&screenshot).expect("the screenshot");
    let (info, rgb) = pixels(&png_bytes);
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    let wanted = COLOURS.map(|(_, colour, _)| hex(colour));
    let mut counts = COLOURS.map(|(what, _, _)| (what, 0));
    for p in &rgb {
        if let Some(i) = wanted.iter().position(|w| w == p) {
            counts[i].1 += 1;
        }
    }
    for ((what, colour, least), (_, count)) in COLOURS.iter().zip(&counts) {
        assert!(
            count >= least,
            "{what} (#{colour}) covers {count} pixels, fewer than {least}: {counts:?}"
        );
    }
    if std::env::var_os("UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let book = xtests::workspace().join("book/src/images/stats-page.png");
        std::fs::create_dir_all(book.parent().unwrap()).unwrap();
        std::fs::write(&book, &png_bytes).unwrap();
    }
}

#[test]
fn the_guarded_page_wants_credentials() {
    let Some(chromium) = chromium_bin() else {
        return;
    };
    let Pages { guarded, dir, .. } = &start();
    // Behind `stats auth`: a browser that asks for no password shows the
    // 401's text. Headless Chromium has no one to ask, so it gives up on
    // the challenge and shows nothing (not the text); credentials in the
    // URL answer it.
    let challenge =
        xtests::http::fetch(*guarded, "GET /stats HTTP/1.1\r\nHost: a\r\n\r\n").unwrap_or_default();
    assert!(
        challenge.starts_with("HTTP/1.1 401 ")
            && challenge.contains("You need a valid user and password to access this content."),
        "{challenge}"
    );
    let url = format!("http://127.0.0.1:{guarded}/stats");
    let refused = browse(&chromium, dir, "refused", &url, &[]);
    assert!(
        refused.stderr.contains("ERR_INVALID_AUTH_CREDENTIALS"),
        "{}",
        refused.stderr
    );
    assert!(proxy_tables(&refused.dom).is_empty(), "{}", refused.dom);
    let url = format!("http://admin:admin@127.0.0.1:{guarded}/stats");
    let admitted = browse(&chromium, dir, "admitted", &url, &[]);
    assert_eq!(
        proxy_tables(&admitted.dom),
        ["stats", "guarded", "web", "app"],
        "{}",
        admitted.stderr
    );
}
