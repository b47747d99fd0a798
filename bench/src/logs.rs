//! Seeded log lines for the log functions' batches, as servers send them: most
//! lines of the kinds both our functions and AWS's blueprints read, and some
//! that only ours read (an IPv6 client or a `-` byte count; a syslog priority
//! or RFC 5424), and a few no one reads.

/// One Apache or nginx access line in the combined format.
pub fn access_line(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let kind = rng.u8(..100);
    if kind < 2 {
        return format!("upstream timed out ({i})").into_bytes();
    }
    let host = if kind < 5 {
        format!("2001:db8::{:x}", rng.u16(..))
    } else {
        format!("10.{}.{}.{}", rng.u8(..), rng.u8(..), rng.u8(..))
    };
    let bytes = if (5..10).contains(&kind) {
        "-".to_owned()
    } else {
        rng.u32(..2_000_000).to_string()
    };
    let method = ["GET", "GET", "GET", "POST", "PUT", "DELETE"][rng.usize(..6)];
    let path = [
        "/",
        "/api/v1/orders?id=7&page=2",
        "/static/app.3f9a1c.js",
        "/api/v1/users/42/profile",
        "/login",
        "/search?q=caf%C3%A9",
    ][rng.usize(..6)];
    let user = ["-", "-", "-", "frank"][rng.usize(..4)];
    let agent = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "curl/8.5.0",
    ][rng.usize(..3)];
    format!(
        r#"{host} - {user} [01/May/2024:{:02}:{:02}:{:02} +0200] "{method} {path} HTTP/1.1" {} {bytes} "https://example.com/" "{agent}""#,
        rng.u8(..24),
        rng.u8(..60),
        rng.u8(..60),
        [200, 200, 200, 201, 304, 404, 500][rng.usize(..7)],
    )
    .into_bytes()
}

/// One syslog line: mostly RFC 3164 as a forwarder writes it to a stream.
pub fn syslog_line(rng: &mut fastrand::Rng, i: usize) -> Vec<u8> {
    let kind = rng.u8(..100);
    let (minute, second) = (rng.u8(..60), rng.u8(..60));
    let host = ["web-1", "web-2", "db-1.internal", "bastion"][rng.usize(..4)];
    let message = [
        "Accepted publickey for deploy from 10.0.4.7 port 52814 ssh2: ED25519 SHA256:4f3c2b1a",
        "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "Connection closed by authenticating user admin 10.0.9.12 port 40422 [preauth]",
        "GET /healthz 200 0.4ms",
    ][rng.usize(..4)];
    let line = match kind {
        0..2 => format!("-- MARK {i} --"),
        2..5 => format!(
            r#"<165>1 2024-05-01T12:{minute:02}:{second:02}.{:03}Z {host} app {} ID47 [origin ip="10.0.0.1"] {message}"#,
            rng.u16(..1000),
            rng.u16(1..u16::MAX)
        ),
        5..12 => format!(
            "<{}>May  1 12:{minute:02}:{second:02} {host} sshd[{}]: {message}",
            rng.u8(..192),
            rng.u16(1..u16::MAX)
        ),
        12..20 => format!(
            "May  1 12:{minute:02}:{second:02} {host} kernel: [{i}.{:06}] eth0: link up",
            rng.u32(..1_000_000)
        ),
        _ => format!(
            "May  1 12:{minute:02}:{second:02} {host} {}[{}]: {message}",
            ["sshd", "CRON", "nginx", "systemd"][rng.usize(..4)],
            rng.u16(1..u16::MAX)
        ),
    };
    line.into_bytes()
}
