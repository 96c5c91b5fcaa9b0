//! The same HTTP configuration and requests, once over real sockets (the
//! engine binary, real servers on loopback) and once in the simulator (the
//! engine's code over turmoil, hyper peers): every request gets the same
//! answer in both worlds.

use std::time::Duration;

use xtests::http::{Action, Client, Received, ScriptedServer};
use xtests::{free_port, ProxyProcess};

/// The routing part of the seed's configurations, with `{PORT}`, `{WEB1}`,
/// `{WEB2}` and `{BLOG1}` for the addresses of each world.
const CONFIG: &str = "
defaults
    mode                    http
    option                  http-server-close
    option                  forwardfor
    timeout connect         1s
    timeout client          5s
    timeout server          5s

frontend test
    bind        {BIND}
    acl www_domain      hdr(host)       -i      www.test.com
    acl blog_domain     hdr_beg(host)   -i      blog.
    acl iphone_users    hdr_sub(user-agent)     -i      iphone
    redirect    prefix  http://3g-iphone.test.com       if      iphone_users
    acl pic_test        path_end        .gif .png .jpg .css .js
    acl dynamic_test    path_beg        /php/
    acl bad_method      method          TRACE
    http-request deny   if bad_method
    use_backend www     if      pic_test
    use_backend blog    if      dynamic_test
    use_backend www     if      www_domain
    use_backend blog    if      blog_domain
    use_backend empty   if      { path_beg /empty }
    default_backend     www

backend www
    balance     roundrobin
    server      web1    {WEB1}
    server      web2    {WEB2}

backend blog
    server      blog1   {BLOG1}

backend empty
";

/// (method, path, header lines).
const REQUESTS: &[(&str, &str, &[&str])] = &[
    ("GET", "/", &["Host: www.test.com"]),
    ("GET", "/", &["Host: www.test.com"]),
    ("GET", "/index.html", &["Host: blog.test.com"]),
    ("GET", "/php/info.php", &["Host: www.test.com"]),
    ("GET", "/img/logo.png", &["Host: blog.test.com"]),
    (
        "GET",
        "/a?b=1",
        &["Host: x", "User-Agent: Mozilla/5.0 (iPhone)"],
    ),
    ("TRACE", "/", &["Host: www.test.com"]),
    ("GET", "/empty/x", &["Host: www.test.com"]),
    ("GET", "/empty/y", &["Host: other.test.com"]),
    ("POST", "/php/form", &["Host: other.test.com"]),
];

/// An answer as the simulator's clients note it: the status, with the
/// body when it is short (a server's name).
fn outcome(response: &str) -> String {
    let status = &response[9..12];
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    if !body.is_empty() && body.len() <= 32 && !body.contains('\n') {
        format!("answered by {status} {body}")
    } else {
        format!("answered by {status}")
    }
}

fn over_real_sockets() -> Vec<String> {
    fn named(name: &'static str) -> impl Fn(&Received) -> Action {
        move |_| {
            Action::Send(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{name}",
                    name.len()
                )
                .into_bytes(),
            )
        }
    }
    let servers = [
        ScriptedServer::start(named("web1")),
        ScriptedServer::start(named("web2")),
        ScriptedServer::start(named("blog1")),
    ];
    let port = free_port();
    let config = CONFIG
        .replace("{BIND}", &format!("127.0.0.1:{port}"))
        .replace("{WEB1}", &format!("127.0.0.1:{}", servers[0].port))
        .replace("{WEB2}", &format!("127.0.0.1:{}", servers[1].port))
        .replace("{BLOG1}", &format!("127.0.0.1:{}", servers[2].port));
    let path = xtests::config_file(&format!("http-sim-{port}"), &config);
    let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &path);
    proxy.wait_bound(port, Duration::from_secs(5));
    REQUESTS
        .iter()
        .map(|(method, path, headers)| {
            let mut request = format!("{method} {path} HTTP/1.1\r\n");
            for h in *headers {
                request.push_str(h);
                request.push_str("\r\n");
            }
            request.push_str("\r\n");
            let response = Client::connect(port)
                .send(request.as_bytes())
                .response()
                .expect("an answer");
            outcome(&response)
        })
        .collect()
}

fn in_the_simulator() -> Vec<String> {
    let config = CONFIG
        .replace("{BIND}", "10.0.0.1:80")
        .replace("{WEB1}", "10.0.0.11:80")
        .replace("{WEB2}", "10.0.0.12:80")
        .replace("{BLOG1}", "10.0.0.13:80");
    let requests: String = REQUESTS
        .iter()
        .map(|(method, path, headers)| {
            let headers: Vec<String> = headers.iter().map(|h| format!("{h:?}")).collect();
            format!(
                "      - {{ method: {method}, path: {path:?}, headers: [{}] }}\n",
                headers.join(", ")
            )
        })
        .collect();
    let indented: String = config.lines().map(|l| format!("      {l}\n")).collect();
    // One request every 100ms: as many connections as requests.
    let yaml = format!(
        "name: http-sim\nseed: 1\nduration: {}ms\n\
         proxies:\n  - name: proxy\n    address: 10.0.0.1\n    config: |\n{indented}\
         servers:\n\
         \x20 - {{ name: web1, address: 10.0.0.11, protocol: http }}\n\
         \x20 - {{ name: web2, address: 10.0.0.12, protocol: http }}\n\
         \x20 - {{ name: blog1, address: 10.0.0.13, protocol: http }}\n\
         clients:\n  - name: browser\n    address: 10.0.0.100\n    target: 10.0.0.1:80\n    every: 100ms\n    requests:\n{requests}",
        REQUESTS.len() * 100
    );
    let scenario =
        sim::scenario::Scenario::parse("http-sim.yaml", &yaml, std::path::Path::new("."))
            .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let outcome = sim::world::run(&scenario).expect("the simulation runs");
    outcome
        .transcript
        .lines()
        .filter_map(|l| {
            l.split_once(" browser    ")
                .map(|(_, what)| what.to_string())
        })
        .collect()
}

#[test]
fn the_simulator_answers_as_real_sockets_do() {
    let real = over_real_sockets();
    let simulated = in_the_simulator();
    assert_eq!(real.len(), REQUESTS.len());
    assert_eq!(simulated, real);
    // And what they agree on is the routing the configuration asks for.
    assert_eq!(
        real,
        [
            "answered by 200 web1",
            "answered by 200 web2",
            "answered by 200 blog1",
            "answered by 200 blog1",
            "answered by 200 web1",
            "answered by 302",
            "answered by 403",
            // www.test.com is tested first: the anonymous ACL after it
            // never gets its turn.
            "answered by 200 web2",
            "answered by 503",
            "answered by 200 blog1",
        ]
    );
}
