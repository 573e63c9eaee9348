//! Copies verified as they stream: MD5 (and the S3 multipart form) while
//! copying, ETag comparison, read-back of local copies.

use futures::TryStreamExt;
use md5::{Digest, Md5};

use crate::caps::blob::{BlobStore, MULTIPART_PART_BYTES};
use crate::caps::folder::Folder;
use crate::error::{Error, Result};

/// MD5 of a whole object and, when asked for, the S3 multipart form for
/// parts of [`MULTIPART_PART_BYTES`] (`md5(part md5s)-N`), computed while
/// streaming. The part hashes double the hashing cost, so they are only
/// computed where an object store's multipart ETag must be matched.
#[derive(Default)]
pub(super) struct Hasher {
    pub(super) whole: Md5,
    pub(super) with_parts: bool,
    pub(super) part: Md5,
    pub(super) part_len: usize,
    pub(super) parts: Vec<[u8; 16]>,
    pub(super) len: u64,
}

impl Hasher {
    pub(super) fn new(with_parts: bool) -> Self {
        Self {
            with_parts,
            ..Self::default()
        }
    }

    pub(super) fn update(&mut self, mut data: &[u8]) {
        self.whole.update(data);
        self.len += data.len() as u64;
        if !self.with_parts {
            return;
        }
        while !data.is_empty() {
            let take = (MULTIPART_PART_BYTES - self.part_len).min(data.len());
            self.part.update(&data[..take]);
            self.part_len += take;
            data = &data[take..];
            if self.part_len == MULTIPART_PART_BYTES {
                let done = std::mem::take(&mut self.part);
                self.parts.push(done.finalize().into());
                self.part_len = 0;
            }
        }
    }

    /// `(md5 hex, multipart etag)`; the second is empty without parts.
    pub(super) fn finish(mut self) -> (String, String) {
        if !self.with_parts {
            return (hex::encode(self.whole.finalize()), String::new());
        }
        if self.part_len > 0 || self.parts.is_empty() {
            self.parts.push(self.part.finalize().into());
        }
        let mut all = Md5::new();
        for p in &self.parts {
            all.update(p);
        }
        (
            hex::encode(self.whole.finalize()),
            format!("{}-{}", hex::encode(all.finalize()), self.parts.len()),
        )
    }
}

/// Buffer of the folder-to-folder copy loop: large enough that system calls
/// are a small share of the time, small enough for `concurrency` copies.
pub(super) const LOCAL_COPY_BUF_BYTES: usize = 1 << 20;

/// Copies one file, then reads the copy back. Returns the source's MD5 (for
/// the journal and later comparisons), the copy's length, and whether the
/// copy read back equals what was read from the source.
///
/// The read-back comparison uses XXH3-128 of both sides rather than a second
/// MD5: it is about ten times cheaper, and a 128-bit hash misses accidental
/// corruption with negligible probability (nobody chooses these bytes to
/// collide: both sides are our own reads). MD5 was half of a local copy's
/// CPU time when both sides used it.
#[allow(clippy::too_many_arguments)]
pub(super) fn copy_file_verified(
    src: &Folder,
    from: &str,
    dst: &Folder,
    to: &str,
    size: u64,
    mode: Option<u32>,
    observer: &dyn super::super::Observer,
    src_name: &str,
    dst_name: &str,
) -> Result<(String, u64, bool)> {
    use xxhash_rust::xxh3::Xxh3;
    let read_err = |e: std::io::Error| Error::io(format!("store {src_name}: reading {from}: {e}"));
    let write_err = |e: std::io::Error| Error::io(format!("store {dst_name}: writing {to}: {e}"));
    let mut input = src.open(from).map_err(read_err)?;
    // Written under a temporary name; visible at `to` only once verified.
    let mut output = dst.create(to).map_err(write_err)?;
    let mut buf = vec![0u8; LOCAL_COPY_BUF_BYTES];
    let mut h = Md5::new();
    let mut sent = Xxh3::new();
    let len = read_all(&mut input, &mut buf, read_err, |data| {
        h.update(data);
        sent.update(data);
        output.write(data).map_err(write_err)?;
        observer.bytes_copied(data.len() as u64);
        Ok(())
    })?;
    if len != size {
        return Err(Error::io(format!(
            "{from}: read {len} bytes, listed as {size} (changed while copying?)"
        )));
    }
    let mut back = output.reopen().map_err(write_err)?;
    let mut landed = Xxh3::new();
    let back_len = read_all(&mut back, &mut buf, write_err, |data| {
        landed.update(data);
        Ok(())
    })?;
    let same = back_len == size && landed.digest128() == sent.digest128();
    if same {
        // Keep the permission bits (not setuid/setgid), as `cp -p` and
        // rsync do, so a staging copy shows the application the same
        // readability; set before the object becomes visible.
        if let Some(mode) = mode {
            output.set_mode(mode).map_err(|e| {
                Error::io(format!(
                    "store {dst_name}: {to}: cannot set mode {mode:o}: {e}"
                ))
            })?;
        }
        output.commit().map_err(write_err)?;
    }
    Ok((hex::encode(h.finalize()), back_len, same))
}

/// Reads `file` to its end through `buf`, handing each piece to `each`;
/// returns the bytes read.
pub(super) fn read_all(
    file: &mut std::fs::File,
    buf: &mut [u8],
    err: impl Fn(std::io::Error) -> Error,
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    use std::io::Read;
    let mut len = 0u64;
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(len),
            Ok(n) => {
                each(&buf[..n])?;
                len += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(e)),
        }
    }
}

/// Reads an object and returns `(bytes, md5, multipart etag)`.
pub(super) async fn hash_object(
    store: &BlobStore,
    key: &str,
    size: u64,
    with_parts: bool,
) -> Result<(u64, String, String)> {
    let mut stream = store.byte_stream(key, size).await?;
    let mut h = Hasher::new(with_parts);
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| Error::io(format!("store {}: reading {key}: {e}", store.name)))?
    {
        h.update(&chunk);
    }
    let len = h.len;
    let (md5, multi) = h.finish();
    Ok((len, md5, multi))
}

/// Whether a store's ETag says the object has this content.
pub(super) fn etag_matches(etag: Option<&str>, md5: &str, multipart: &str) -> bool {
    match etag.map(|e| e.trim_matches('"')) {
        Some(e) => e.eq_ignore_ascii_case(md5) || e.eq_ignore_ascii_case(multipart),
        None => false,
    }
}
