//! `firehose-bench-echo`: hands each event straight back as its response, with
//! no parsing at all, so that its time is what the harness itself costs (the
//! Runtime API's HTTP both ways, the copies), to subtract from every function.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("AWS_LAMBDA_RUNTIME_API is not set");
        return ExitCode::FAILURE;
    };
    let base = format!("http://{api}/2018-06-01/runtime/invocation");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(None)
        .max_idle_age(Duration::from_secs(3600))
        .build()
        .into();
    loop {
        let echoed = agent
            .get(format!("{base}/next"))
            .call()
            .and_then(|mut next| {
                let id = next
                    .headers()
                    .get("lambda-runtime-aws-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = next
                    .body_mut()
                    .with_config()
                    .limit(u64::MAX)
                    .read_to_vec()?;
                agent.post(format!("{base}/{id}/response")).send(&body[..])
            });
        if let Err(e) = echoed {
            eprintln!("echo: {e}");
            return ExitCode::FAILURE;
        }
    }
}
