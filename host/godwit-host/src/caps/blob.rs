//! The `blob` capability: object stores bound to project store names, over
//! Apache OpenDAL. Local folders (`fs`) now; S3-compatible stores arrive with
//! the object-storage work.

use std::path::Path;

use futures::TryStreamExt;
use opendal::{services, Operator};

use crate::error::{Error, Result};
use crate::runtime::bindings::godwit::plugin::blob::ObjectMeta;

/// Largest chunk a plugin may read or write per call: big enough for
/// throughput, small enough that one call cannot pin much host memory.
pub const MAX_CHUNK_BYTES: u32 = 4 << 20;
/// Largest page of a listing per call.
pub const MAX_LIST_PAGE: u32 = 10_000;

/// An opened store.
#[derive(Clone, Debug)]
pub struct BlobStore {
    /// The project's name for the store.
    pub name: String,
    /// True when writes are refused (dry runs).
    pub read_only: bool,
    op: Operator,
}

/// A plugin's handle on a granted store (WIT `store`).
pub struct StoreHandle {
    pub(crate) store: std::sync::Arc<BlobStore>,
}

/// A plugin's listing in progress (WIT `lister`).
pub struct ListerHandle {
    pub(crate) lister: opendal::Lister,
    pub(crate) store: std::sync::Arc<BlobStore>,
}

/// A plugin's object being written (WIT `writer`).
pub struct WriterHandle {
    pub(crate) writer: Option<opendal::Writer>,
    pub(crate) path: String,
    pub(crate) store: std::sync::Arc<BlobStore>,
}

fn io(store: &str, e: opendal::Error) -> Error {
    let mut err = Error::io(format!("store {store}: {e}"));
    err.retryable = e.is_temporary();
    err
}

impl BlobStore {
    /// Opens a local folder store rooted at `root`.
    pub fn open_fs(name: &str, root: &Path, dry_run: bool) -> Result<Self> {
        let builder = services::Fs::default().root(&root.to_string_lossy());
        let op = Operator::new(builder).map_err(|e| io(name, e))?.finish();
        Ok(Self {
            name: name.to_owned(),
            read_only: dry_run,
            op,
        })
    }

    /// Rejects absolute paths and `..` so a plugin cannot leave the store root.
    pub fn check_path(&self, path: &str) -> Result<String> {
        if path.starts_with('/') || path.split(['/', '\\']).any(|seg| seg == "..") {
            return Err(Error::new(
                crate::error::ErrorKind::Project,
                format!("store {}: path {path:?} escapes the store root", self.name),
            ));
        }
        Ok(path.to_owned())
    }

    fn refuse_writes(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::new(
                crate::error::ErrorKind::Unsupported,
                format!("store {} is read-only here (dry run)", self.name),
            ));
        }
        Ok(())
    }

    /// Starts a listing.
    pub async fn list(&self, prefix: &str, recursive: bool) -> Result<opendal::Lister> {
        let prefix = self.check_path(prefix)?;
        self.op
            .lister_with(&prefix)
            .recursive(recursive)
            .await
            .map_err(|e| io(&self.name, e))
    }

    /// Metadata of one object.
    pub async fn stat(&self, path: &str) -> Result<ObjectMeta> {
        let path = self.check_path(path)?;
        let m = self.op.stat(&path).await.map_err(|e| io(&self.name, e))?;
        Ok(meta(&path, &m))
    }

    /// Reads up to `max` bytes at `offset`.
    pub async fn read(&self, path: &str, offset: u64, max: u32) -> Result<Vec<u8>> {
        let path = self.check_path(path)?;
        let max = u64::from(max.min(MAX_CHUNK_BYTES));
        let size = self
            .op
            .stat(&path)
            .await
            .map_err(|e| io(&self.name, e))?
            .content_length();
        if offset >= size || max == 0 {
            return Ok(Vec::new());
        }
        let end = (offset + max).min(size);
        let buf = self
            .op
            .read_with(&path)
            .range(offset..end)
            .await
            .map_err(|e| io(&self.name, e))?;
        Ok(buf.to_vec())
    }

    /// Starts writing an object.
    pub async fn writer(&self, path: &str) -> Result<opendal::Writer> {
        self.refuse_writes()?;
        let path = self.check_path(path)?;
        self.op.writer(&path).await.map_err(|e| io(&self.name, e))
    }

    /// Deletes an object (missing is fine).
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.refuse_writes()?;
        let path = self.check_path(path)?;
        self.op.delete(&path).await.map_err(|e| io(&self.name, e))
    }
}

/// Next page of a listing.
pub async fn next_page(
    store: &BlobStore,
    lister: &mut opendal::Lister,
    max: u32,
) -> Result<Vec<ObjectMeta>> {
    let max = max.clamp(1, MAX_LIST_PAGE) as usize;
    let mut out = Vec::new();
    while out.len() < max {
        match lister.try_next().await.map_err(|e| io(&store.name, e))? {
            Some(entry) => {
                let m = entry.metadata();
                // Some services (local folders) list names without sizes:
                // the contract promises a size, so ask for it.
                if m.is_file() && m.content_length() == 0 && m.last_modified().is_none() {
                    out.push(store.stat(entry.path()).await?);
                } else {
                    out.push(meta(entry.path(), m));
                }
            }
            None => break,
        }
    }
    Ok(out)
}

fn meta(path: &str, m: &opendal::Metadata) -> ObjectMeta {
    ObjectMeta {
        path: path.to_owned(),
        size: m.content_length(),
        last_modified: m.last_modified().map(|t| t.timestamp_micros()),
        etag: m.etag().map(str::to_owned),
        is_dir: m.is_dir(),
    }
}
