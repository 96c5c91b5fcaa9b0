//! The `cookie` line of a backend, as the configuration says it
//! (`cookie <name> [rewrite|insert|prefix] [indirect] [nocache] ...`): read
//! once, with HAProxy's complaints. What it does to requests and responses
//! is [`crate::http::cookie`].

/// Which kind of persistence cookie the proxy manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No mode word: the cookie is only read (the server sets it itself).
    Passive,
    /// `insert`: HAProxy sets `NAME=<server cookie>` itself.
    Insert,
    /// `rewrite`: the server's own `Set-Cookie: NAME=...` value is replaced.
    Rewrite,
    /// `prefix`: the server's own cookie value gets `<server cookie>~`.
    Prefix,
}

/// The `cookie` keyword of a backend (`cookie <name> [options]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persistence {
    pub name: String,
    pub mode: Mode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    /// Each `domain` given, in order (each becomes `; domain=X`).
    pub domains: Vec<String>,
    /// Each `attr` given, in order (each becomes `; X`).
    pub attrs: Vec<String>,
    /// `maxidle`, seconds (0 = off).
    pub maxidle: u32,
    /// `maxlife`, seconds (0 = off).
    pub maxlife: u32,
}

impl Persistence {
    /// Builds the view from the words following the `cookie` keyword
    /// (`["SERVERID", "insert", "indirect", "nocache"]`). Errors carry
    /// HAProxy's complaint; the config parser reports the location.
    pub fn parse(words: &[&str]) -> Result<Persistence, String> {
        let Some(name) = words.first().filter(|n| !n.is_empty()) else {
            return Err("'cookie' expects <cookie_name> as argument.".into());
        };
        let mut p = Persistence {
            name: name.to_string(),
            mode: Mode::Passive,
            indirect: false,
            nocache: false,
            postonly: false,
            preserve: false,
            httponly: false,
            secure: false,
            domains: Vec::new(),
            attrs: Vec::new(),
            maxidle: 0,
            maxlife: 0,
        };
        let (mut modes, mut rewrite) = (0, false);
        let mut i = 1;
        while i < words.len() {
            let w = words[i];
            let arg = words.get(i + 1).copied().filter(|a| !a.is_empty());
            match w {
                "insert" | "rewrite" | "prefix" => {
                    modes += 1;
                    rewrite |= w == "rewrite";
                    p.mode = match w {
                        "insert" => Mode::Insert,
                        "rewrite" => Mode::Rewrite,
                        _ => Mode::Prefix,
                    };
                }
                "indirect" => p.indirect = true,
                "nocache" => p.nocache = true,
                "postonly" => p.postonly = true,
                "preserve" => p.preserve = true,
                "httponly" => p.httponly = true,
                "secure" => p.secure = true,
                "dynamic" => {}
                "domain" | "attr" | "maxidle" | "maxlife" => {
                    let Some(a) = arg else {
                        return Err(format!("'{w}' expects a value as argument."));
                    };
                    match w {
                        "domain" => p.domains.push(a.to_string()),
                        "attr" => p.attrs.push(a.to_string()),
                        _ => {
                            let secs = parse_seconds(a)
                                .ok_or_else(|| format!("bad time '{a}' for '{w}'."))?;
                            if w == "maxidle" {
                                p.maxidle = secs;
                            } else {
                                p.maxlife = secs;
                            }
                        }
                    }
                    i += 1;
                }
                _ => return Err("'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.".into()),
            }
            i += 1;
        }
        if rewrite && p.indirect {
            return Err("cookie 'rewrite' and 'indirect' modes are incompatible.".into());
        }
        if modes > 1 {
            return Err("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.".into());
        }
        if p.preserve && p.mode != Mode::Insert && !p.indirect {
            return Err("cookie 'preserve' requires at least 'insert' or 'indirect'.".into());
        }
        Ok(p)
    }
}

/// `30m`, `1h`, `45` (seconds), `2d`, `500ms` (rounded up) → seconds.
fn parse_seconds(s: &str) -> Option<u32> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = s[..digits].parse().ok()?;
    let secs = match &s[digits..] {
        "" | "s" => n,
        "ms" => n.div_ceil(1000),
        "us" => n.div_ceil(1_000_000),
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return None,
    };
    u32::try_from(secs).ok().filter(|&s| s <= i32::MAX as u32)
}
