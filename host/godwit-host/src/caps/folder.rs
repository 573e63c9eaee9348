//! Local folder stores, confined beneath their root by construction.
//!
//! Every path is opened relative to a directory handle on the store's root
//! through `cap-std`, which resolves each component itself (with `openat2`
//! and `RESOLVE_BENEATH` where the kernel has it) and refuses any path — a
//! `..`, an absolute symlink, a symlink to a folder outside — that would
//! leave the root. No string check is the line of defence here; the key
//! checks in `BlobStore::check_path` are a second one.
//!
//! Objects are written to a temporary name in their final folder and renamed
//! into place when complete, so an interrupted write never leaves a partial
//! object at its final key. Listings report symbolic links instead of
//! following them, and skip the temporary names of writes in progress.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

/// Prefix of the temporary names objects are written under (in the folder
/// of their final key) until they are complete. Listings skip these names.
pub const TEMP_PREFIX: &str = ".godwit-tmp-";

/// Permission bits a copy keeps: read, write and execute for owner, group
/// and others. setuid, setgid and sticky bits are dropped: a staging copy
/// must not hand out privileges the operator never looked at.
pub const KEPT_MODE_BITS: u32 = 0o777;

/// A local folder opened as a store root.
#[derive(Debug)]
pub struct Folder {
    root: PathBuf,
    /// The root's handle, opened on first use (a dry run never creates the
    /// root, and a store whose root is missing lists as empty).
    dir: Mutex<Option<Arc<Dir>>>,
}

/// What a listing found under a folder store.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Key relative to the root (`/` separators; folders end with `/`).
    pub key: String,
    /// Size in bytes (0 for folders and links).
    pub size: u64,
    /// Modification time, microseconds since the epoch.
    pub modified: Option<i64>,
    /// Permission bits.
    pub mode: u32,
    /// What the entry is.
    pub kind: EntryKind,
}

/// The kind of a listed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file: an object.
    File,
    /// A folder.
    Dir,
    /// A symbolic link: reported, never followed by a listing.
    Symlink,
    /// A socket, FIFO or device: not an object.
    Special,
    /// A name that is not UTF-8 or holds a backslash: cannot be a key.
    BadName,
}

/// Metadata of one object.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, microseconds since the epoch.
    pub modified: Option<i64>,
    /// Permission bits.
    pub mode: u32,
    /// True for a folder.
    pub is_dir: bool,
}

fn micros(m: &cap_std::fs::Metadata) -> Option<i64> {
    m.modified()
        .ok()
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t.into_std()).timestamp_micros())
}

fn mode_of(m: &cap_std::fs::Metadata) -> u32 {
    use cap_std::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

fn not_found(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, what.to_owned())
}

/// A unique temporary name: process id, a counter and the time.
fn temp_name(key_name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Keep names short: the final name may already be near NAME_MAX.
    let stem: String = key_name.chars().take(40).collect();
    format!("{TEMP_PREFIX}{}-{n}-{t:x}-{stem}", std::process::id())
}

impl Folder {
    /// A folder store rooted at `root` (opened lazily).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            dir: Mutex::new(None),
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The root's handle; with `create`, the root folder is created first.
    /// `Ok(None)`: the root does not exist (and was not to be created).
    fn dir(&self, create: bool) -> std::io::Result<Option<Arc<Dir>>> {
        let mut slot = self.dir.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = slot.as_ref() {
            return Ok(Some(d.clone()));
        }
        if create {
            std::fs::create_dir_all(&self.root)?;
        }
        match Dir::open_ambient_dir(&self.root, ambient_authority()) {
            Ok(d) => {
                let d = Arc::new(d);
                *slot = Some(d.clone());
                Ok(Some(d))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn existing(&self) -> std::io::Result<Arc<Dir>> {
        self.dir(false)?
            .ok_or_else(|| not_found("the store's root folder does not exist"))
    }

    /// Metadata of `key` (a symbolic link inside the root is followed; one
    /// leading outside is refused).
    pub fn stat(&self, key: &str) -> std::io::Result<Meta> {
        let dir = self.existing()?;
        let m = if key.is_empty() {
            dir.dir_metadata()?
        } else {
            dir.metadata(key.trim_end_matches('/'))?
        };
        Ok(Meta {
            size: if m.is_dir() { 0 } else { m.len() },
            modified: micros(&m),
            mode: mode_of(&m),
            is_dir: m.is_dir(),
        })
    }

    /// Permission bits of `key` itself (a link's own are not followed).
    pub fn mode(&self, key: &str) -> Option<u32> {
        let dir = self.dir(false).ok()??;
        dir.symlink_metadata(key.trim_end_matches('/'))
            .ok()
            .map(|m| mode_of(&m))
    }

    /// Opens `key` for reading, as a plain file.
    pub fn open(&self, key: &str) -> std::io::Result<std::fs::File> {
        let f = self.existing()?.open(key)?;
        let f = f.into_std();
        if f.metadata()?.is_dir() {
            return Err(std::io::Error::other(format!("{key} is a folder")));
        }
        Ok(f)
    }

    /// Up to `max` bytes of `key` from `offset`.
    pub fn read_at(&self, key: &str, offset: u64, max: u64) -> std::io::Result<Vec<u8>> {
        let mut f = self.open(key)?;
        let size = f.metadata()?.len();
        if offset >= size || max == 0 {
            return Ok(Vec::new());
        }
        f.seek(SeekFrom::Start(offset))?;
        let want = max.min(size - offset) as usize;
        let mut buf = Vec::with_capacity(want);
        f.take(want as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// Starts writing `key`: a temporary file beside its final name.
    pub fn create(&self, key: &str) -> std::io::Result<FolderWriter> {
        let dir = self.dir(true)?.expect("created");
        let (parent, name) = match key.rsplit_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, key),
        };
        if name.is_empty() {
            return Err(std::io::Error::other(format!("{key:?} names a folder")));
        }
        let parent_dir = match parent {
            Some(p) if !p.is_empty() => {
                dir.create_dir_all(p)?;
                Arc::new(dir.open_dir(p)?)
            }
            _ => dir.clone(),
        };
        let temp = temp_name(name);
        let file = parent_dir.open_with(&temp, OpenOptions::new().write(true).create_new(true))?;
        Ok(FolderWriter {
            parent: parent_dir,
            temp,
            name: name.to_owned(),
            file: Some(file.into_std()),
            written: 0,
        })
    }

    /// Deletes `key` (a link is removed, not its target); missing is fine.
    pub fn remove(&self, key: &str) -> std::io::Result<()> {
        let Some(dir) = self.dir(false)? else {
            return Ok(());
        };
        match dir.remove_file(key) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sets the permission bits of `key` (only [`KEPT_MODE_BITS`]).
    pub fn set_mode(&self, key: &str, mode: u32) -> std::io::Result<()> {
        use cap_std::fs::PermissionsExt;
        let dir = self.existing()?;
        dir.set_permissions(
            key,
            cap_std::fs::Permissions::from_mode(mode & KEPT_MODE_BITS),
        )
    }

    /// Everything under the folder `prefix` (`""` or ending with `/`),
    /// level by level with `threads` threads; with `recursive` false only
    /// the folder's own entries. Folders are walked, not returned, unless
    /// `with_dirs`. Links are returned as links; temporary names are skipped.
    pub fn walk(
        &self,
        prefix: &str,
        recursive: bool,
        with_dirs: bool,
        threads: usize,
    ) -> std::io::Result<Vec<Entry>> {
        let Some(root) = self.dir(false)? else {
            return Ok(Vec::new());
        };
        let start = prefix.trim_end_matches('/');
        let first = if start.is_empty() {
            root.try_clone()?
        } else {
            match root.open_dir(start) {
                Ok(d) => d,
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(20) =>
                {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(e),
            }
        };
        let key_prefix = if start.is_empty() {
            String::new()
        } else {
            format!("{start}/")
        };
        let mut level = vec![(key_prefix, first)];
        let mut out = Vec::new();
        while !level.is_empty() {
            let per = level.len().div_ceil(threads.max(1));
            let results: Vec<std::io::Result<Level>> = std::thread::scope(|scope| {
                let handles: Vec<_> = level
                    .chunks(per)
                    .map(|dirs| scope.spawn(move || read_level(dirs)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(std::io::Error::other("listing thread panicked"))
                        })
                    })
                    .collect()
            });
            level = Vec::new();
            for r in results {
                let (entries, dirs) = r?;
                for e in entries {
                    if e.kind != EntryKind::Dir || with_dirs {
                        out.push(e);
                    }
                }
                if recursive {
                    level.extend(dirs);
                }
            }
        }
        Ok(out)
    }
}

impl Folder {
    /// Removes the temporary files of writes by processes that are gone (a
    /// killed run); returns how many. Writes of live processes are kept.
    pub fn sweep_stale_temps(&self) -> usize {
        fn sweep(dir: &Dir, depth: usize) -> usize {
            let Ok(entries) = dir.entries() else { return 0 };
            let mut removed = 0;
            for entry in entries.flatten() {
                let Ok(ft) = entry.file_type() else { continue };
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if ft.is_dir() && depth < MAX_SWEEP_DEPTH {
                    if let Ok(sub) = entry.open_dir() {
                        removed += sweep(&sub, depth + 1);
                    }
                } else if ft.is_file() {
                    let pid = name
                        .strip_prefix(TEMP_PREFIX)
                        .and_then(|rest| rest.split('-').next())
                        .and_then(|p| p.parse::<u32>().ok());
                    let alive = |p: u32| {
                        p == std::process::id() || Path::new(&format!("/proc/{p}")).exists()
                    };
                    if pid.is_some_and(|p| !alive(p)) && dir.remove_file(&*name).is_ok() {
                        removed += 1;
                    }
                }
            }
            removed
        }
        match self.dir(false) {
            Ok(Some(d)) => sweep(&d, 0),
            _ => 0,
        }
    }
}

/// Deepest folder level searched for stale temporary files: deeper than any
/// real upload tree, and a bound on the recursion.
const MAX_SWEEP_DEPTH: usize = 64;

/// The entries of some folders, and their subfolders opened for the next level.
type Level = (Vec<Entry>, Vec<(String, Dir)>);

fn read_level(dirs: &[(String, Dir)]) -> std::io::Result<Level> {
    let (mut entries, mut subdirs) = (Vec::new(), Vec::new());
    for (prefix, dir) in dirs {
        for entry in dir.entries()? {
            let entry = entry?;
            let os_name = entry.file_name();
            let name = os_name.to_str();
            if name.is_some_and(|n| n.starts_with(TEMP_PREFIX)) {
                continue;
            }
            // Never follows a link: the entry's own type.
            let ft = entry.file_type()?;
            let Some(name) = name.filter(|n| !n.contains('\\')) else {
                entries.push(Entry {
                    key: format!("{prefix}{}", os_name.to_string_lossy()),
                    size: 0,
                    modified: None,
                    mode: 0,
                    kind: EntryKind::BadName,
                });
                continue;
            };
            let key = format!("{prefix}{name}");
            if ft.is_symlink() {
                entries.push(Entry {
                    key,
                    size: 0,
                    modified: None,
                    mode: 0,
                    kind: EntryKind::Symlink,
                });
                continue;
            }
            let meta = entry.metadata()?;
            if ft.is_dir() {
                subdirs.push((format!("{key}/"), entry.open_dir()?));
                entries.push(Entry {
                    key: format!("{key}/"),
                    size: 0,
                    modified: micros(&meta),
                    mode: mode_of(&meta),
                    kind: EntryKind::Dir,
                });
                continue;
            }
            entries.push(Entry {
                key,
                size: meta.len(),
                modified: micros(&meta),
                mode: mode_of(&meta),
                kind: if ft.is_file() {
                    EntryKind::File
                } else {
                    EntryKind::Special
                },
            });
        }
    }
    Ok((entries, subdirs))
}

/// An object being written to a folder store: visible at its key only after
/// [`FolderWriter::commit`]; dropped unfinished, it leaves nothing behind.
#[derive(Debug)]
pub struct FolderWriter {
    parent: Arc<Dir>,
    temp: String,
    name: String,
    file: Option<std::fs::File>,
    written: u64,
}

impl FolderWriter {
    /// Appends bytes.
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("writer already finished"))?;
        f.write_all(data)?;
        self.written += data.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// A handle for reading back what was written, before it is committed.
    pub fn reopen(&self) -> std::io::Result<std::fs::File> {
        Ok(self.parent.open(&self.temp)?.into_std())
    }

    /// Sets the permission bits of the object before it becomes visible.
    pub fn set_mode(&self, mode: u32) -> std::io::Result<()> {
        use cap_std::fs::PermissionsExt;
        self.parent.set_permissions(
            &self.temp,
            cap_std::fs::Permissions::from_mode(mode & KEPT_MODE_BITS),
        )
    }

    /// Makes the object visible at its key (an atomic rename in its folder).
    pub fn commit(mut self) -> std::io::Result<Meta> {
        // No fsync: a killed process loses nothing the kernel has; what
        // power loss could lose is re-verified by the next run's listing.
        self.file.take();
        self.parent.rename(&self.temp, &self.parent, &self.name)?;
        self.temp.clear();
        let m = self.parent.metadata(&self.name)?;
        Ok(Meta {
            size: m.len(),
            modified: micros(&m),
            mode: mode_of(&m),
            is_dir: false,
        })
    }

    /// Throws the partial object away.
    pub fn abort(mut self) {
        self.discard();
    }

    fn discard(&mut self) {
        self.file.take();
        if !self.temp.is_empty() {
            let _ = self.parent.remove_file(&self.temp);
            self.temp.clear();
        }
    }
}

impl Drop for FolderWriter {
    fn drop(&mut self) {
        self.discard();
    }
}
