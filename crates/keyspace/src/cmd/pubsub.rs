//! The pub/sub group's core commands, after Redis's `pubsub.c`: PUBLISH, SPUBLISH and the
//! PUBSUB introspection subcommands. They run in the core, so MULTI/EXEC and scripts reach
//! them too. (P|S)SUBSCRIBE and their UNSUBSCRIBEs change connection state and run in the
//! server (commands/pubsub.ts) against the same registry (`crate::pubsub`).

use crate::cmd::Ctx;
use crate::error::KsError;

/// PUBLISH channel message
pub(crate) fn publish(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let n = ctx
        .ks
        .pubsub
        .publish(argv[1], argv[2], false, &mut ctx.sess.outbox);
    ctx.out.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
pub(crate) fn spublish(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    let n = ctx
        .ks
        .pubsub
        .publish(argv[1], argv[2], true, &mut ctx.sess.outbox);
    ctx.out.int(n as i64);
    Ok(())
}

/// `channelList`: the active channels matching the optional pattern at argv[2].
fn channel_list(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], shard: bool) -> Result<(), KsError> {
    if argv.len() > 3 {
        return Err(KsError::PubsubSubcommand);
    }
    let names = ctx.ks.pubsub.channels(shard, argv.get(2).copied());
    ctx.out.array(names.len());
    for n in &names {
        ctx.out.bulk(n);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
pub(crate) fn channels(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    channel_list(ctx, argv, false)
}

/// PUBSUB SHARDCHANNELS [pattern]
pub(crate) fn shardchannels(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    channel_list(ctx, argv, true)
}

/// Each channel of argv[2..] and its subscriber count, as a flat array (RESP3 too, as Redis).
fn numsub_of(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]], shard: bool) -> Result<(), KsError> {
    let names = argv.get(2..).unwrap_or_default();
    ctx.out.array(names.len() * 2);
    for n in names {
        ctx.out.bulk(n);
        ctx.out.int(ctx.ks.pubsub.numsub(shard, n) as i64);
    }
    Ok(())
}

/// PUBSUB NUMSUB [channel ...]
pub(crate) fn numsub(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    numsub_of(ctx, argv, false)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
pub(crate) fn shardnumsub(ctx: &mut Ctx<'_, '_>, argv: &[&[u8]]) -> Result<(), KsError> {
    numsub_of(ctx, argv, true)
}

/// PUBSUB NUMPAT
pub(crate) fn numpat(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    ctx.out.int(ctx.ks.pubsub.numpat() as i64);
    Ok(())
}

/// PUBSUB HELP — Redis 7.2's text, with `addReplyHelp`'s header and footer.
pub(crate) fn help(ctx: &mut Ctx<'_, '_>, _argv: &[&[u8]]) -> Result<(), KsError> {
    const HELP: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Print this help.",
    ];
    ctx.out.help(HELP);
    Ok(())
}
