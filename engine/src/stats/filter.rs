//! Which lines of the stats a reader asks for, and how they print: the
//! runtime API's `show stat` arguments, the page's `;up` and `;scope=`.

/// `show stat` filters: which proxy (name or id), which line types, which
/// server id, and the `up`/`no-maint` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub proxy: Option<String>,
    /// Bits: 1 frontends, 2 backends, 4 servers. None: all.
    pub types: Option<i64>,
    pub sid: Option<u32>,
    /// `no-maint`: no line for servers in maintenance.
    pub hide_maint: bool,
    /// `up`: no line for servers in maintenance or fully DOWN.
    pub hide_down: bool,
    /// No addresses, cookies nor algorithms: a `level user` socket, a
    /// stats page without `stats show-legends` (HAProxy's STAT_SHLGNDS
    /// unset).
    pub hide_legends: bool,
    pub format: Format,
}

/// How `show stat` and `show info` print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Plain,
    Typed,
    Json,
}
