//! Parsers for keywords the engine recognises but does not implement:
//! they only check that enough arguments follow, so a typo is still caught
//! and the line is recorded in `Config::unimplemented` by the table.

use super::listen::ProxyState;
use super::parse::Ctx;

fn at_least(ctx: &mut Ctx, n: usize) {
    if (1..=n).any(|i| ctx.arg(i).is_empty()) {
        let msg = format!(
            "{} : '{}' expects at least {n} argument{}.",
            ctx.here(),
            ctx.arg(0),
            if n == 1 { "" } else { "s" }
        );
        ctx.alert(msg);
    }
}

pub fn args0(_: &mut ProxyState, _: &mut Ctx) {}

pub fn args1(_: &mut ProxyState, ctx: &mut Ctx) {
    at_least(ctx, 1);
}

pub fn args2(_: &mut ProxyState, ctx: &mut Ctx) {
    at_least(ctx, 2);
}

pub fn args3(_: &mut ProxyState, ctx: &mut Ctx) {
    at_least(ctx, 3);
}
