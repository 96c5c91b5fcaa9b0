//! What a CLI answers a command it does not know: HAProxy's
//! cli_gen_usage_msg. The commands whose first words match the line's
//! come first; among them, the ones whose remaining words look closest to
//! what was typed (a fingerprint of letter transitions, HAProxy's
//! update_word_fingerprint), at most five; none close enough, all of them.

/// One command: its words (`show`, `proc`) and its help line.
pub struct Keyword {
    pub words: &'static [&'static str],
    pub usage: &'static str,
}

/// HAProxy shows at most this many fuzzy candidates.
const MAX_MATCHES: usize = 5;
/// Words of a command taken into account.
const PREFIX_WORDS: usize = 5;

/// The lines HAProxy closes every usage message with.
const ALWAYS: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n";

/// The usage message for `args` (the line's words; `help` first for a
/// help request), over `keywords` in their registration order.
pub fn message(keywords: &[Keyword], args: &[&str]) -> String {
    let (is_help, args) = match args.split_first() {
        Some((&"help", rest)) => (true, rest),
        _ => (false, args),
    };
    let arg = |i: usize| args.get(i).copied().filter(|a| !a.is_empty());
    // How many leading words some command matches exactly.
    let prefix = |k: &Keyword| {
        (0..PREFIX_WORDS)
            .take_while(|&i| match (k.words.get(i), arg(i)) {
                (Some(w), Some(a)) => *w == a,
                _ => false,
            })
            .count()
    };
    let length = keywords.iter().map(prefix).max().unwrap_or(0);
    // Keep the first `length` words equal, then compare the rest.
    let mut matches: Vec<(usize, &Keyword)> = vec![];
    if arg(length).is_some() {
        for k in keywords {
            if prefix(k) < length {
                continue;
            }
            let mut typed = [0u8; 1024];
            let mut listed = [0u8; 1024];
            let mut total = 0;
            for a in (length..PREFIX_WORDS).map_while(arg) {
                fingerprint(&mut typed, a);
                total += a.len();
            }
            for w in k.words.iter().skip(length).take(PREFIX_WORDS - length) {
                fingerprint(&mut listed, w);
                total += w.len();
            }
            let dist = distance(&typed, &listed);
            let worst = matches.get(MAX_MATCHES - 1).map_or(usize::MAX, |m| m.0);
            if dist < 5 * total / 2 && dist < worst {
                // After the ones as close: HAProxy's insertion is stable.
                let at = matches
                    .iter()
                    .position(|m| m.0 > dist)
                    .unwrap_or(matches.len());
                matches.insert(at, (dist, k));
                matches.truncate(MAX_MATCHES);
            }
        }
    }
    let mut entries: Vec<&Keyword> = match matches.first() {
        Some(&(best, _)) => matches
            .iter()
            .take_while(|m| m.0 <= 5 * best / 2)
            .map(|m| m.1)
            .collect(),
        None => keywords.iter().filter(|k| prefix(k) == length).collect(),
    };
    entries.sort_by(|a, b| a.usage.cmp(b.usage));
    let mut out = String::from(if is_help {
        "The following commands are valid at this level:\n"
    } else if length == 0 && arg(0).is_none() {
        "Unknown command. Please enter one of the following commands only:\n"
    } else {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    });
    for k in entries {
        out.push_str("  ");
        out.push_str(k.usage);
        out.push('\n');
    }
    out.push_str(ALWAYS);
    out
}

/// HAProxy's update_word_fingerprint: which characters appear and how
/// often each follows another (letters one by one, digits together,
/// everything else together, the word's start and end as that last).
fn fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |c: u8| match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
        b'0'..=b'9' => 27,
        _ => 28,
    };
    let mut from = 28;
    for c in word.bytes() {
        let to = class(c);
        fp[to] = 1;
        fp[32 * from + to] = fp[32 * from + to].wrapping_add(1);
        from = to;
    }
    fp[32 * from + 28] = fp[32 * from + 28].wrapping_add(1);
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> usize {
    a.iter()
        .zip(b)
        .map(|(x, y)| usize::from(x.abs_diff(*y)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The master CLI's commands, as HAProxy 2.6 registers them.
    const MASTER: &[Keyword] = &[
        Keyword { words: &["@<relative pid>"], usage: "@<relative pid>                         : send a command to the <relative pid> process" },
        Keyword { words: &["@!<pid>"], usage: "@!<pid>                                 : send a command to the <pid> process" },
        Keyword { words: &["@master"], usage: "@master                                 : send a command to the master process" },
        Keyword { words: &["show", "proc"], usage: "show proc                               : show processes status" },
        Keyword { words: &["reload"], usage: "reload                                  : reload haproxy" },
        Keyword { words: &["show", "cli", "sockets"], usage: "show cli sockets                        : dump list of cli sockets" },
        Keyword { words: &["show", "cli", "level"], usage: "show cli level                          : display the level of the current CLI session" },
        Keyword { words: &["operator"], usage: "operator                                : lower the level of the current CLI session to operator" },
        Keyword { words: &["user"], usage: "user                                    : lower the level of the current CLI session to user" },
        Keyword { words: &["show", "version"], usage: "show version                            : show version of the current process" },
    ];

    fn names(text: &str) -> Vec<&str> {
        text.lines()
            .skip(1)
            .map(|l| l.split(" : ").next().unwrap().trim())
            .collect()
    }

    /// What HAProxy 2.6.12's master answered, observed.
    #[test]
    fn fuzzy_candidates_are_haproxys() {
        let foobar = message(MASTER, &["foobar"]);
        assert!(foobar.starts_with(
            "Unknown command, but maybe one of the following ones is a better match:\n"
        ));
        assert_eq!(
            names(&foobar),
            [
                "@!<pid>",
                "@master",
                "operator",
                "reload",
                "user",
                "help [<command>]",
                "prompt",
                "quit"
            ]
        );
        assert_eq!(
            names(&message(MASTER, &["show", "info"])),
            [
                "show cli level",
                "show cli sockets",
                "show proc",
                "show version",
                "help [<command>]",
                "prompt",
                "quit"
            ]
        );
        let empty = message(MASTER, &[]);
        assert!(empty
            .starts_with("Unknown command. Please enter one of the following commands only:\n"));
        assert_eq!(names(&empty).len(), 13);
        assert!(message(MASTER, &["help"])
            .starts_with("The following commands are valid at this level:\n"));
    }
}
