//! ACLs of the seed's configurations, decided on sample requests.

use std::net::SocketAddr;

use super::*;

struct Req {
    method: &'static str,
    uri: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    src: SocketAddr,
}

impl Request for Req {
    fn method(&self) -> &[u8] {
        self.method.as_bytes()
    }
    fn uri(&self) -> &[u8] {
        self.uri.as_bytes()
    }
    fn version(&self) -> &[u8] {
        b"HTTP/1.1"
    }
    fn headers(&self) -> Vec<(&[u8], &[u8])> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect()
    }
    fn src(&self) -> Option<SocketAddr> {
        Some(self.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        "10.96.20.113:80".parse().ok()
    }
}

fn get(uri: &'static str, headers: &[(&'static str, &'static str)]) -> Req {
    Req {
        method: "GET",
        uri,
        headers: headers.to_vec(),
        src: "10.96.20.89:6109".parse().unwrap(),
    }
}

/// The frontend of a config text, with its compiled ACLs.
fn frontend(text: &str) -> (config::Proxy, Acls) {
    let loaded =
        config::load_str("seed.cfg", text).unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    let fe = loaded
        .config
        .proxies
        .into_iter()
        .find(|p| p.kind.is_frontend())
        .unwrap();
    let acls = compile(&fe.acls).unwrap();
    (fe, acls)
}

/// Which backend the use_backend rules pick, as HAProxy does: the first
/// rule whose condition holds, else default_backend.
fn route(fe: &config::Proxy, acls: &Acls, req: &Req) -> String {
    fe.use_backends
        .iter()
        .find(|u| u.parsed.as_ref().is_none_or(|c| acls.eval(c, req)))
        .map(|u| u.backend.clone())
        .or_else(|| fe.default_backend.clone())
        .unwrap()
}

const BACKENDS: &str = "
backend www
    server web1 172.16.10.118:80
backend blog
    server web1 172.16.10.119:80
";

#[test]
fn routing_by_domain() {
    let (fe, acls) = frontend(&format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend test
    bind *:80
    acl www_domain  hdr(host) -i www.test.com
    acl blog_domain hdr(host) -i blog.test.com
    use_backend www  if www_domain
    use_backend blog if blog_domain
    default_backend www
{BACKENDS}"
    ));
    assert_eq!(
        route(&fe, &acls, &get("/", &[("Host", "blog.test.com")])),
        "blog"
    );
    assert_eq!(
        route(&fe, &acls, &get("/", &[("host", "WWW.TEST.COM")])),
        "www"
    );
    assert_eq!(
        route(&fe, &acls, &get("/", &[])),
        "www",
        "no Host: default_backend"
    );
}

#[test]
fn routing_by_domain_prefix_path_and_extension() {
    let (fe, acls) = frontend(&format!(
        r"defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend test
    bind *:80
    acl blog_domain hdr_beg(host) -i blog.
    acl pic_test    path_end .gif .png .jpg .css .js
    acl pic_reg     path_reg \.(gif|png|jpg|css?.*|js?.*)$
    acl dynamic     path_beg /php/
    use_backend blog if blog_domain
    use_backend www  if pic_test
    use_backend blog if dynamic
    use_backend www  if pic_reg
    default_backend www
{BACKENDS}"
    ));
    assert_eq!(
        route(&fe, &acls, &get("/x", &[("Host", "Blog.test.com")])),
        "blog"
    );
    assert_eq!(
        route(&fe, &acls, &get("/php/a.php?x=.png", &[])),
        "blog",
        "the query is not the path"
    );
    assert_eq!(
        route(&fe, &acls, &get("/php/a.png", &[])),
        "www",
        "rules apply in order"
    );
    assert!(acls.test("pic_reg", &get("/a/b.css3", &[])));
}

#[test]
fn user_agents_sources_and_negation() {
    let (fe, acls) = frontend(&format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend test
    bind *:80
    acl iphone_users hdr_sub(user-agent) -i iphone
    acl valid_ip     src 10.96.20.0/24
    use_backend blog if iphone_users valid_ip
    use_backend blog if !valid_ip METH_GET
    default_backend www
{BACKENDS}"
    ));
    let iphone = get(
        "/",
        &[("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 9_1)")],
    );
    assert_eq!(route(&fe, &acls, &iphone), "blog", "AND by juxtaposition");
    let outsider = Req {
        src: "192.168.1.9:1234".parse().unwrap(),
        ..get("/", &[])
    };
    assert_eq!(
        route(&fe, &acls, &outsider),
        "blog",
        "! and a predefined ACL"
    );
    let outsider_post = Req {
        method: "POST",
        ..outsider
    };
    assert_eq!(route(&fe, &acls, &outsider_post), "www");
}

#[test]
fn header_values_split_on_commas_and_count() {
    let (_, acls) = frontend(&format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend test
    bind *:80
    acl gzip   hdr(accept-encoding) gzip
    acl many   hdr_cnt(accept-encoding) gt 2
    acl dom    hdr_dom(host) test.com
    acl by_or  path /a
    acl by_or  path /b
    use_backend blog if gzip or many || dom
    default_backend www
{BACKENDS}"
    ));
    let req = get(
        "/b",
        &[
            ("Accept-Encoding", "br, gzip"),
            ("Accept-Encoding", "deflate"),
            ("Host", "www.test.com:80"),
        ],
    );
    assert!(acls.test("gzip", &req));
    assert!(acls.test("many", &req));
    assert!(acls.test("dom", &req));
    assert!(acls.test("by_or", &req), "same-name ACLs are ORed");
    assert!(!acls.test("by_or", &get("/c", &[])));
}

#[test]
fn patterns_from_a_file_join_the_line_s_own() {
    let dir = std::env::temp_dir().join(format!("acl-f-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("agents.lst");
    std::fs::write(&file, "# mobile browsers\niphone\n\n  android  \n").unwrap();
    let text = format!(
        "frontend f\n bind :80\n mode http\n acl mobile hdr_sub(user-agent) -i -f {} blackberry\n",
        file.display()
    );
    let (_, acls) = frontend(&text);
    for (ua, hit) in [
        ("Mozilla (iPhone)", true),
        ("Android 9", true),
        ("BlackBerry", true),
        ("curl", false),
    ] {
        assert_eq!(
            acls.test("mobile", &get("/", &[("User-Agent", ua)])),
            hit,
            "{ua}"
        );
    }
}
