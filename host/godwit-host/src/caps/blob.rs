//! The `blob` capability: object stores bound to project store names, over
//! Apache OpenDAL. Local folders (`fs`) and S3-compatible services (`s3`:
//! custom endpoint, region, path-style or virtual-host addressing) are always
//! built in; other opendal services are cargo features (`store-gcs`, ...).
//!
//! The same [`BlobStore`] serves plugins (through the WIT `blob` interface)
//! and the host's own blob copy step (`engine::copy`). Credentials come from
//! the project (which read them from the environment) and never leave here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::{services, Operator};

use super::folder::{EntryKind, Folder, FolderWriter};

use crate::error::{Error, Result};
use crate::model::ObjectMeta;
use crate::project::{Store, StoreKind};

/// The kind's name in manifests and grants.
pub const KIND: &str = "blob";

/// Binds a granted store to the plugin's label.
pub(crate) fn bind(
    ctx: &mut super::PluginContext,
    res: &super::Resources<'_>,
    label: &str,
    name: &str,
) {
    ctx.blob.insert(label.to_owned(), res.stores[name].clone());
}

/// Largest chunk a plugin may read or write per call: big enough for
/// throughput, small enough that one call cannot pin much host memory.
pub const MAX_CHUNK_BYTES: u32 = 4 << 20;
/// Largest page of a listing per call.
pub const MAX_LIST_PAGE: u32 = 10_000;
/// Part size of multipart uploads to S3-compatible stores: above S3's 5 MiB
/// minimum, and what `aws s3 cp` uses; parts are exactly this size (the last
/// may be shorter), which lets the copy step predict a multipart ETag.
pub const MULTIPART_PART_BYTES: usize = 8 << 20;
/// Parts uploaded at once per object.
pub const MULTIPART_CONCURRENCY: usize = 2;
/// Chunk size of streamed reads in the copy step: two of these per object in
/// flight bound the copy's memory to about `concurrency * 4 MiB` (plus one
/// multipart part per object being written to S3).
pub const COPY_CHUNK_BYTES: usize = 2 << 20;
/// Attempts for a failed request that the service marks temporary.
pub const STORE_RETRIES: usize = 4;
/// Deadline of one metadata request (stat, list page, delete).
pub const STORE_OP_TIMEOUT: Duration = Duration::from_secs(60);
/// Deadline of one chunk of a read or write.
pub const STORE_IO_TIMEOUT: Duration = Duration::from_secs(120);

/// An opened store.
#[derive(Clone, Debug)]
pub struct BlobStore {
    /// The project's name for the store.
    pub name: String,
    /// True when writes are refused (dry runs).
    pub read_only: bool,
    /// True for a local folder (verification reads objects back).
    pub local: bool,
    /// Chunk size for writes (multipart part size), if the service needs one.
    pub write_chunk: Option<usize>,
    fs_root: Option<PathBuf>,
    url_prefixes: Vec<String>,
    /// The S3 bucket, for errors that concern it.
    bucket: Option<String>,
    backend: Backend,
    /// Set once the partial objects of killed runs were swept from a local
    /// folder (before the first write a plugin makes through it).
    swept: Arc<std::sync::atomic::AtomicBool>,
}

/// Where a store's objects live: a confined local folder, or a service
/// behind opendal.
#[derive(Clone, Debug)]
enum Backend {
    Folder(Arc<Folder>),
    Remote(Operator),
}

/// A listing in progress.
pub enum Lister {
    /// A service's paged listing.
    Remote(opendal::Lister),
    /// A local folder's entries, read when the listing started.
    Local(std::vec::IntoIter<ObjectMeta>),
}

/// A stream of an object's bytes.
pub type ByteStream = BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// An object being written: visible at its key only once closed.
pub enum ObjectWriter {
    /// A service's writer (multipart uploads complete on close).
    Remote(opendal::Writer),
    /// A temporary file renamed into place on close.
    Local(FolderWriter),
}

impl ObjectWriter {
    /// Appends bytes.
    pub async fn write(&mut self, data: impl Into<opendal::Buffer>) -> Result<()> {
        match self {
            ObjectWriter::Remote(w) => w
                .write(data)
                .await
                .map_err(|e| Error::io(format!("write: {e}"))),
            ObjectWriter::Local(w) => {
                let buf: opendal::Buffer = data.into();
                for chunk in buf {
                    w.write(&chunk)
                        .map_err(|e| Error::io(format!("write: {e}")))?;
                }
                Ok(())
            }
        }
    }

    /// Completes the object and makes it visible; returns what the store
    /// says it holds.
    pub async fn close(self) -> Result<opendal::Metadata> {
        match self {
            ObjectWriter::Remote(mut w) => w
                .close()
                .await
                .map_err(|e| Error::io(format!("finish: {e}"))),
            ObjectWriter::Local(w) => {
                let m = w.commit().map_err(|e| Error::io(format!("finish: {e}")))?;
                Ok(local_meta(&m))
            }
        }
    }

    /// Abandons the object: nothing is left at its key.
    pub async fn abort(self) {
        match self {
            ObjectWriter::Remote(mut w) => {
                let _ = w.abort().await;
            }
            ObjectWriter::Local(w) => w.abort(),
        }
    }
}

fn local_meta(m: &super::folder::Meta) -> opendal::Metadata {
    let mode = if m.is_dir {
        opendal::EntryMode::DIR
    } else {
        opendal::EntryMode::FILE
    };
    let mut out = opendal::Metadata::new(mode).with_content_length(m.size);
    if let Some(t) = m
        .modified
        .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_micros)
    {
        out = out.with_last_modified(t);
    }
    out
}

fn folder_error(store: &str, path: &str, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => crate::error::ErrorKind::NotFound,
        _ => crate::error::ErrorKind::Io,
    };
    Error::new(kind, format!("store {store}: {path}: {e}"))
}

/// A plugin's handle on a granted store (WIT `store`).
pub struct StoreHandle {
    pub(crate) store: std::sync::Arc<BlobStore>,
}

/// A plugin's listing in progress (WIT `lister`).
pub struct ListerHandle {
    pub(crate) lister: Lister,
    pub(crate) store: std::sync::Arc<BlobStore>,
}

/// A plugin's object being written (WIT `writer`).
pub struct WriterHandle {
    pub(crate) writer: Option<ObjectWriter>,
    pub(crate) path: String,
    pub(crate) store: std::sync::Arc<BlobStore>,
}

fn io(store: &str, e: opendal::Error) -> Error {
    io_in(store, None, e)
}

/// [`io`], for a store on `bucket`: a missing bucket (S3 `NoSuchBucket`,
/// which opendal reports as a persistent configuration error with the
/// whole HTTP exchange) is said in one sentence, with the way out.
fn io_in(store: &str, bucket: Option<&str>, e: opendal::Error) -> Error {
    if let Some(bucket) = bucket.filter(|_| e.to_string().contains("NoSuchBucket")) {
        return Error::new(
            crate::error::ErrorKind::NotFound,
            format!(
                "store {store}: the bucket {bucket:?} of store {store} does not exist on its \
                 endpoint. Create it first (`aws s3 mb s3://{bucket}`, `mc mb ALIAS/{bucket}`, or \
                 the provider's console), or set `bucket` in [stores.{store}] to one that exists"
            ),
        );
    }
    let kind = if e.kind() == opendal::ErrorKind::NotFound {
        crate::error::ErrorKind::NotFound
    } else {
        crate::error::ErrorKind::Io
    };
    let mut err = Error::new(kind, format!("store {store}: {e}"));
    err.retryable = e.is_temporary();
    err
}

impl BlobStore {
    /// Opens a local folder store rooted at `root`.
    pub fn open_fs(name: &str, root: &Path, dry_run: bool) -> Result<Self> {
        Ok(Self {
            name: name.to_owned(),
            read_only: dry_run,
            local: true,
            write_chunk: None,
            fs_root: Some(root.to_path_buf()),
            url_prefixes: Vec::new(),
            bucket: None,
            backend: Backend::Folder(Arc::new(Folder::new(root))),
            swept: Default::default(),
        })
    }

    /// A store on a remote service: written in multipart-sized chunks.
    fn remote(name: &str, op: Operator, dry_run: bool) -> Self {
        Self {
            name: name.to_owned(),
            read_only: dry_run,
            local: false,
            write_chunk: Some(MULTIPART_PART_BYTES),
            fs_root: None,
            url_prefixes: Vec::new(),
            bucket: None,
            backend: Backend::Remote(op),
            swept: Default::default(),
        }
    }

    /// Opens the store the project configures under `name`. Nothing is
    /// contacted yet: the first request reports a wrong endpoint or key.
    pub fn open(name: &str, store: &Store, dry_run: bool) -> Result<Self> {
        let mut out = match &store.kind {
            StoreKind::Fs { root } => Self::open_fs(name, root, dry_run)?,
            StoreKind::S3(s) => {
                let mut b = services::S3::default()
                    .bucket(&s.bucket)
                    .region(&s.region)
                    .root(&format!("/{}", s.root))
                    // Only what the project says: no ~/.aws files, no
                    // instance metadata, no ambient environment.
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(e) = &s.endpoint {
                    b = b.endpoint(e);
                }
                if s.virtual_host {
                    b = b.enable_virtual_host_style();
                }
                match (&s.access_key_id, &s.secret_access_key) {
                    (Some(k), Some(v)) => {
                        b = b.access_key_id(k.expose()).secret_access_key(v.expose())
                    }
                    _ => b = b.allow_anonymous(),
                }
                if let Some(t) = &s.session_token {
                    b = b.session_token(t.expose());
                }
                Self::remote(
                    name,
                    Operator::new(b).map_err(|e| io(name, e))?.finish(),
                    dry_run,
                )
            }
            StoreKind::Service {
                scheme,
                options,
                secrets,
            } => {
                let scheme: opendal::Scheme =
                    scheme.parse().map_err(|e: opendal::Error| io(name, e))?;
                let opts = options.iter().map(|(k, v)| (k.clone(), v.clone())).chain(
                    secrets
                        .iter()
                        .map(|(k, v)| (k.clone(), v.expose().to_owned())),
                );
                Self::remote(
                    name,
                    Operator::via_iter(scheme, opts).map_err(|e| io(name, e))?,
                    dry_run,
                )
            }
        };
        out.url_prefixes = store.url_prefixes.clone();
        if let StoreKind::S3(s) = &store.kind {
            out.bucket = Some(s.bucket.clone());
        }
        if let Backend::Remote(op) = &out.backend {
            out.backend = Backend::Remote(
                op.clone()
                    .layer(
                        TimeoutLayer::new()
                            .with_timeout(STORE_OP_TIMEOUT)
                            .with_io_timeout(STORE_IO_TIMEOUT),
                    )
                    .layer(
                        RetryLayer::new()
                            .with_max_times(STORE_RETRIES)
                            .with_jitter(),
                    ),
            );
        }
        Ok(out)
    }

    /// The key a value (as rows hold it, after a rewrite rule) addresses in
    /// this store: a relative key as is; `s3://bucket/root/...` or the
    /// store's public URL stripped; an absolute path under a local root made
    /// relative. `None` when the value points elsewhere.
    pub fn resolve(&self, value: &str) -> Option<String> {
        for p in &self.url_prefixes {
            if let Some(rest) = value.strip_prefix(p.as_str()) {
                return self.check_path(rest).ok();
            }
        }
        if let Some(root) = &self.fs_root {
            if let Ok(rest) = Path::new(value).strip_prefix(root) {
                return self.check_path(&rest.to_string_lossy()).ok();
            }
        }
        if value.contains("://") {
            return None;
        }
        self.check_path(value).ok()
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

    /// Fails if the store is read-only (a dry run).
    pub fn check_writable(&self) -> Result<()> {
        self.refuse_writes()
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

    /// The confined folder behind a local store.
    pub fn folder(&self) -> Option<&Arc<Folder>> {
        match &self.backend {
            Backend::Folder(f) => Some(f),
            Backend::Remote(_) => None,
        }
    }

    fn service(&self) -> &Operator {
        match &self.backend {
            Backend::Remote(op) => op,
            Backend::Folder(_) => unreachable!("folder stores are served by `Folder`"),
        }
    }

    /// Runs a blocking folder operation off the async threads.
    async fn on_folder<T: Send + 'static>(
        &self,
        path: &str,
        f: impl FnOnce(&Folder) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T> {
        let folder = self.folder().expect("a folder store").clone();
        let (name, path) = (self.name.clone(), path.to_owned());
        tokio::task::spawn_blocking(move || f(&folder))
            .await
            .map_err(|e| Error::internal(format!("store task failed: {e}")))?
            .map_err(|e| folder_error(&name, &path, e))
    }

    /// Starts a listing. On a local folder, symbolic links are listed as
    /// nothing (never followed) and logged; write-in-progress names skipped.
    pub async fn list(&self, prefix: &str, recursive: bool) -> Result<Lister> {
        let prefix = self.check_path(prefix)?;
        if self.folder().is_some() {
            let dir = prefix
                .rsplit_once('/')
                .map_or(String::new(), |(d, _)| format!("{d}/"));
            let store = self.name.clone();
            let entries = self
                .on_folder(&prefix, move |f| {
                    f.walk(&dir, recursive, true, LOCAL_LIST_THREADS)
                })
                .await?;
            let mut out = Vec::new();
            for e in entries {
                if !e.key.starts_with(&prefix) {
                    continue;
                }
                match e.kind {
                    EntryKind::File | EntryKind::Dir => out.push(ObjectMeta {
                        path: e.key,
                        size: e.size,
                        last_modified: e.modified,
                        etag: None,
                        is_dir: e.kind == EntryKind::Dir,
                        mode: Some(e.mode),
                    }),
                    other => tracing::warn!(
                        store = %store, key = %e.key, kind = ?other,
                        "not listed: not a regular file or folder (symbolic links are never followed)"
                    ),
                }
            }
            out.sort_by(|a, b| a.path.cmp(&b.path));
            return Ok(Lister::Local(out.into_iter()));
        }
        self.service()
            .lister_with(&prefix)
            .recursive(recursive)
            .await
            .map(Lister::Remote)
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))
    }

    /// Metadata of one object (with permission bits on local folders).
    pub async fn stat(&self, path: &str) -> Result<ObjectMeta> {
        let path = self.check_path(path)?;
        if self.folder().is_some() {
            let p = path.clone();
            let m = self.on_folder(&path, move |f| f.stat(&p)).await?;
            let mut out = meta(&path, &local_meta(&m));
            out.mode = Some(m.mode);
            return Ok(out);
        }
        let m = self
            .service()
            .stat(&path)
            .await
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))?;
        Ok(meta(&path, &m))
    }

    /// The root folder of a local folder store.
    pub fn fs_root(&self) -> Option<&Path> {
        self.fs_root.as_deref()
    }

    /// Unix permission bits of a local file (`None` on object stores).
    pub fn mode(&self, path: &str) -> Option<u32> {
        let path = self.check_path(path).ok()?;
        self.folder()?.mode(&path)
    }

    /// Metadata of one object, `None` if it does not exist.
    pub async fn stat_opt(&self, path: &str) -> Result<Option<opendal::Metadata>> {
        let path = self.check_path(path)?;
        if self.folder().is_some() {
            let p = path.clone();
            return match self.on_folder(&path, move |f| f.stat(&p)).await {
                Ok(m) => Ok(Some(local_meta(&m))),
                Err(e) if e.kind == crate::error::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            };
        }
        match self.service().stat(&path).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_in(&self.name, self.bucket.as_deref(), e)),
        }
    }

    /// Reads up to `max` bytes at `offset`.
    pub async fn read(&self, path: &str, offset: u64, max: u32) -> Result<Vec<u8>> {
        let path = self.check_path(path)?;
        let max = u64::from(max.min(MAX_CHUNK_BYTES));
        if self.folder().is_some() {
            let p = path.clone();
            return self
                .on_folder(&path, move |f| f.read_at(&p, offset, max))
                .await;
        }
        let op = self.service();
        let size = op
            .stat(&path)
            .await
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))?
            .content_length();
        if offset >= size || max == 0 {
            return Ok(Vec::new());
        }
        let end = (offset + max).min(size);
        let buf = op
            .read_with(&path)
            .range(offset..end)
            .await
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))?;
        Ok(buf.to_vec())
    }

    /// Starts writing an object (multipart on services that need parts).
    /// Nothing is visible at `path` until the writer is closed.
    pub async fn writer(&self, path: &str) -> Result<ObjectWriter> {
        self.refuse_writes()?;
        self.sweep_once().await;
        let path = self.check_path(path)?;
        if self.folder().is_some() {
            let p = path.clone();
            return self
                .on_folder(&path, move |f| f.create(&p))
                .await
                .map(ObjectWriter::Local);
        }
        let mut w = self.service().writer_with(&path);
        if let Some(chunk) = self.write_chunk {
            w = w.chunk(chunk).concurrent(MULTIPART_CONCURRENCY);
        }
        w.await
            .map(ObjectWriter::Remote)
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))
    }

    /// On a local folder, before the first write of this process: removes
    /// the temporary files of writes by processes that are gone (a killed
    /// run leaves its unfinished objects as hidden temporary files, never
    /// visible at their keys). Once per store and process, so a copy of a
    /// million objects walks the folder once, not once per object.
    async fn sweep_once(&self) {
        use std::sync::atomic::Ordering;
        let Some(folder) = self.folder() else { return };
        if self.swept.swap(true, Ordering::AcqRel) {
            return;
        }
        let folder = folder.clone();
        match tokio::task::spawn_blocking(move || folder.sweep_stale_temps()).await {
            Ok(0) => {}
            Ok(removed) => {
                tracing::info!(store = %self.name, removed, "removed partial objects of an interrupted run")
            }
            Err(e) => {
                tracing::warn!(store = %self.name, error = %e, "sweeping partial objects failed")
            }
        }
    }

    /// Marks the store swept (the caller swept it itself).
    pub fn mark_swept(&self) {
        self.swept.store(true, std::sync::atomic::Ordering::Release);
    }

    /// A stream of the object's bytes in chunks of [`COPY_CHUNK_BYTES`].
    pub async fn byte_stream(&self, path: &str, size: u64) -> Result<ByteStream> {
        let path = self.check_path(path)?;
        if self.folder().is_some() {
            let p = path.clone();
            let file = self.on_folder(&path, move |f| f.open(&p)).await?;
            let file = tokio::fs::File::from_std(file);
            let stream = futures::stream::try_unfold((file, size), |(mut file, left)| async move {
                use tokio::io::AsyncReadExt;
                if left == 0 {
                    return Ok(None);
                }
                let want = left.min(COPY_CHUNK_BYTES as u64) as usize;
                let mut buf = vec![0u8; want];
                let mut got = 0;
                while got < want {
                    let n = file.read(&mut buf[got..]).await?;
                    if n == 0 {
                        break;
                    }
                    got += n;
                }
                if got == 0 {
                    return Ok(None);
                }
                buf.truncate(got);
                Ok::<_, std::io::Error>(Some((bytes::Bytes::from(buf), (file, left - got as u64))))
            });
            return Ok(stream.boxed());
        }
        let reader = self
            .service()
            .reader_with(&path)
            .chunk(COPY_CHUNK_BYTES)
            .await
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))?;
        reader
            .into_bytes_stream(0..size)
            .await
            .map(|s| s.boxed())
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))
    }

    /// Maps an opendal error of this store into godwit's.
    pub fn error(&self, e: opendal::Error) -> Error {
        io_in(&self.name, self.bucket.as_deref(), e)
    }

    /// Deletes an object (missing is fine; a link is removed, not followed).
    pub async fn delete(&self, path: &str) -> Result<()> {
        self.refuse_writes()?;
        let path = self.check_path(path)?;
        if self.folder().is_some() {
            let p = path.clone();
            return self.on_folder(&path, move |f| f.remove(&p)).await;
        }
        self.service()
            .delete(&path)
            .await
            .map_err(|e| io_in(&self.name, self.bucket.as_deref(), e))
    }
}

/// Threads listing a local folder: cold metadata reads wait on the disk, so
/// several directories read at once finish sooner (a re-run over 1,553 files
/// in 1,553 folders, page cache dropped: 0.55 s listing one by one).
pub const LOCAL_LIST_THREADS: usize = 8;

/// Next page of a listing.
pub async fn next_page(
    store: &BlobStore,
    lister: &mut Lister,
    max: u32,
) -> Result<Vec<ObjectMeta>> {
    let max = max.clamp(1, MAX_LIST_PAGE) as usize;
    let lister = match lister {
        Lister::Local(entries) => return Ok(entries.by_ref().take(max).collect()),
        Lister::Remote(l) => l,
    };
    let mut out = Vec::new();
    while out.len() < max {
        match lister
            .try_next()
            .await
            .map_err(|e| io_in(&store.name, store.bucket.as_deref(), e))?
        {
            Some(entry) => out.push(meta(entry.path(), entry.metadata())),
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
        mode: None,
    }
}
