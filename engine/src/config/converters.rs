//! HAProxy 2.6's sample converters, by name, as `haproxy -dKcnv` lists
//! them: `-c` tells an unknown converter in a sample expression from a
//! known one, as HAProxy does.

/// The names, sorted.
const CONVERTERS: &[&str] = &[
    "add",
    "add_item",
    "aes_gcm_dec",
    "and",
    "b64dec",
    "base64",
    "be2dec",
    "be2hex",
    "bool",
    "bytes",
    "capture-req",
    "capture-res",
    "concat",
    "cpl",
    "crc32",
    "crc32c",
    "cut_crlf",
    "debug",
    "digest",
    "div",
    "djb2",
    "even",
    "field",
    "fix_is_valid",
    "fix_tag_value",
    "hex",
    "hex2i",
    "hmac",
    "host_only",
    "htonl",
    "http_date",
    "iif",
    "in_table",
    "ipmask",
    "json",
    "json_query",
    "jwt_header_query",
    "jwt_payload_query",
    "jwt_verify",
    "language",
    "length",
    "lower",
    "ltime",
    "ltrim",
    "map",
    "map_beg",
    "map_beg_int",
    "map_beg_ip",
    "map_dir",
    "map_dir_int",
    "map_dir_ip",
    "map_dom",
    "map_dom_int",
    "map_dom_ip",
    "map_end",
    "map_end_int",
    "map_end_ip",
    "map_int",
    "map_int_int",
    "map_int_ip",
    "map_ip",
    "map_ip_int",
    "map_ip_ip",
    "map_reg",
    "map_reg_int",
    "map_reg_ip",
    "map_regm",
    "map_str",
    "map_str_int",
    "map_str_ip",
    "map_sub",
    "map_sub_int",
    "map_sub_ip",
    "mod",
    "mqtt_field_value",
    "mqtt_is_valid",
    "mul",
    "nbsrv",
    "neg",
    "not",
    "odd",
    "or",
    "port_only",
    "protobuf",
    "regsub",
    "rtrim",
    "sdbm",
    "secure_memcmp",
    "set-var",
    "sha1",
    "sha2",
    "srv_queue",
    "strcmp",
    "sub",
    "table_bytes_in_rate",
    "table_bytes_out_rate",
    "table_conn_cnt",
    "table_conn_cur",
    "table_conn_rate",
    "table_expire",
    "table_gpc",
    "table_gpc0",
    "table_gpc0_rate",
    "table_gpc1",
    "table_gpc1_rate",
    "table_gpc_rate",
    "table_gpt",
    "table_gpt0",
    "table_http_err_cnt",
    "table_http_err_rate",
    "table_http_fail_cnt",
    "table_http_fail_rate",
    "table_http_req_cnt",
    "table_http_req_rate",
    "table_idle",
    "table_kbytes_in",
    "table_kbytes_out",
    "table_server_id",
    "table_sess_cnt",
    "table_sess_rate",
    "table_trackers",
    "ub64dec",
    "ub64enc",
    "ungrpc",
    "unset-var",
    "upper",
    "url_dec",
    "url_enc",
    "utime",
    "word",
    "wt6",
    "xor",
    "xxh3",
    "xxh32",
    "xxh64",
];

/// Whether `name` is one of HAProxy 2.6's converters.
pub fn known(name: &str) -> bool {
    CONVERTERS.binary_search(&name).is_ok()
}

/// The first unknown converter of a sample expression
/// (`fetch[(args)][,conv[(args)]]...`), if any.
pub fn first_unknown(expr: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut starts = vec![];
    for (i, c) in expr.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => starts.push(i + 1),
            _ => {}
        }
    }
    starts
        .into_iter()
        .map(|at| {
            let conv = &expr[at..];
            let end = conv.find(['(', ',']).unwrap_or(conv.len());
            &conv[..end]
        })
        .find(|name| !known(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_for_lookups() {
        assert!(CONVERTERS.windows(2).all(|w| w[0] < w[1]));
        assert!(known("lower") && known("sdbm") && !known("foo"));
    }

    #[test]
    fn converters_follow_top_level_commas() {
        assert_eq!(first_unknown("req.hdr(host),lower"), None);
        assert_eq!(first_unknown("src,foo"), Some("foo"));
        assert_eq!(first_unknown("req.hdr(a,1),lower,nope(2)"), Some("nope"));
    }
}
