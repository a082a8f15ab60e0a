//! `cedargate-conformance`: checks an S3 gateway deployment against the
//! documented error table.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("cedargate-conformance: no conformance cases are defined yet");
    ExitCode::from(2)
}
