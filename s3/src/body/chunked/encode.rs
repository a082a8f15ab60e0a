//! [`encode`]: a body in `aws-chunked` framing, as a client sends it.

use sha2::{Digest, Sha256};

use super::StreamingMode;
use crate::body::trailer::{TRAILER_SIGNATURE, Trailers};
use crate::sigv4::SigningContext;

/// Frames `chunks` as an `aws-chunked` body of `mode`: each chunk, the
/// final empty chunk, then `trailers` (`name`, `value`) and, in
/// [`StreamingMode::SignedPayloadTrailer`], their signature. Chunk and
/// trailer signatures chain from `signing`'s seed signature; without
/// `signing` they are left out.
pub fn encode(
    mode: StreamingMode,
    signing: Option<&SigningContext>,
    chunks: &[&[u8]],
    trailers: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chain = signing
        .filter(|_| mode.is_signed())
        .map(|signing| (signing, signing.seed_signature().to_owned()));
    for data in chunks.iter().copied().chain([&b""[..]]) {
        out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if let Some((signing, previous)) = &mut chain {
            let hash: [u8; 32] = Sha256::digest(data).into();
            *previous = signing.chunk_signature(previous, &hash);
            out.extend_from_slice(format!(";chunk-signature={previous}").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if !data.is_empty() {
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
    let mut sent = Trailers::default();
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        sent.push(name.to_ascii_lowercase(), (*value).to_owned());
    }
    if mode == StreamingMode::SignedPayloadTrailer
        && let Some((signing, previous)) = &chain
    {
        let hash: [u8; 32] = Sha256::digest(sent.canonical()).into();
        let signature = signing.trailer_signature(previous, &hash);
        out.extend_from_slice(format!("{TRAILER_SIGNATURE}:{signature}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}
