//! The blob copy step: objects from one store (under a prefix) to another,
//! keys mapped by the same rewrite rule that rewrites the rows pointing at
//! them, every copy verified.
//!
//! Per copy step:
//! 1. list the source under `prefix` (paged) and map every key through the
//!    rule, one Wasm call per [`RULE_BATCH`] keys; the rule's result is
//!    resolved against the target store (`s3://bucket/...`, its public URL,
//!    or a plain key), so rows and objects agree by construction;
//! 2. list the target once under the mapped keys' common prefix;
//! 3. decide per object: copy, or skip because the target already holds the
//!    same bytes (journal of earlier verified copies, then checksums);
//! 4. copy `concurrency` objects at a time, streaming in chunks: the MD5 is
//!    computed while streaming and compared with the target's ETag (single
//!    or multipart form), or the object is read back when the store's tag is
//!    not an MD5 (local folders, SSE-KMS, some S3-compatible services);
//! 5. record each verified copy in a journal (`<state_dir>/copies/<step>.jsonl`,
//!    flushed per object), so an interrupted run resumes where it stopped;
//! 6. delete target objects the source lacks only with `delete_extraneous`.
//!
//! Memory: the listings are held (about 200 bytes per object); object data
//! is streamed in [`COPY_CHUNK_BYTES`](crate::caps::blob::COPY_CHUNK_BYTES) chunks plus, for S3, one
//! [`MULTIPART_PART_BYTES`] part per object in flight.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use super::report::CopyReport;
use super::run::Rejects;
use super::Session;
use crate::caps::blob::{BlobStore, MULTIPART_PART_BYTES};
use crate::error::{Error, ErrorKind, Result};
use crate::project::{BlobCopy, Verify};

mod journal;
mod listing;
mod verify;

use journal::*;
use listing::*;
use verify::*;

/// Keys sent to the rewrite rule per call (one Wasm crossing per batch).
pub const RULE_BATCH: usize = 1000;
/// Attempts per object when a copy fails verification or a retryable error
/// survives the store's own retries.
pub const COPY_ATTEMPTS: usize = 2;

/// What to do with one object.
enum Decision {
    Skip(JournalEntry),
    Copy { repair: bool },
}

/// Counters shared by the object tasks.
#[derive(Default)]
struct Tally {
    copied: AtomicU64,
    skipped: AtomicU64,
    repaired: AtomicU64,
    failed: AtomicU64,
    bytes_copied: AtomicU64,
    by_etag: AtomicU64,
    by_read_back: AtomicU64,
    /// Objects copied with no read permission for anyone (mode 000 and
    /// the like): the first few keys, and how many.
    unreadable: std::sync::Mutex<(u64, Vec<String>)>,
}

/// Keys of unreadable objects named in the report.
const UNREADABLE_EXAMPLES: usize = 5;

impl Session {
    /// Runs one blob copy step.
    pub(crate) async fn run_copy(&self, copy: &BlobCopy, rejects: &Rejects) -> Result<CopyReport> {
        let started = Instant::now();
        let (src, dst, objects, mapped) = self.list_and_map(copy).await?;
        if let (Some(folder), false) = (dst.folder(), dst.read_only) {
            // Partial objects of a run that was killed, never visible at
            // their keys: removed before this run writes.
            dst.mark_swept();
            let folder = folder.clone();
            let removed = tokio::task::spawn_blocking(move || folder.sweep_stale_temps())
                .await
                .map_err(|e| Error::internal(format!("sweep task failed: {e}")))?;
            if removed > 0 {
                tracing::info!(step = %copy.name, removed, "removed partial objects of an interrupted run");
            }
        }
        let tally = Tally::default();
        let reject = |key: &str, stage: &str, reason: &str| -> Result<()> {
            tally.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(step = %copy.name, object = key, stage, reason, "object not copied");
            rejects.write(json!({
                "step": copy.name, "object": key, "stage": stage, "reason": reason,
            }))
        };
        // Source index -> target key, refusing two sources on one target.
        let mut work: Vec<(usize, String)> = Vec::with_capacity(objects.len());
        let mut claimed: HashMap<String, usize> = HashMap::new();
        for (i, m) in mapped.into_iter().enumerate() {
            if let Some(problem) = &objects[i].problem {
                reject(&objects[i].key, "read", problem)?;
                continue;
            }
            match m {
                Ok((_, key)) => {
                    if let Some(prev) = claimed.get(&key) {
                        let reason = format!(
                            "maps to {key:?}, which {:?} already maps to",
                            objects[*prev].key
                        );
                        reject(&objects[i].key, "rewrite", &reason)?;
                    } else {
                        claimed.insert(key.clone(), i);
                        work.push((i, key));
                    }
                }
                Err(reason) => reject(&objects[i].key, "rewrite", &reason)?,
            }
        }
        let target_keys: Vec<&str> = work.iter().map(|(_, k)| k.as_str()).collect();
        let listed = list_targets(&dst, &target_keys).await?;
        let journal = Journal::load(&self.project.state_dir, &copy.name, self.fresh);
        let total_bytes: u64 = work.iter().map(|(i, _)| objects[*i].size).sum();
        self.observer
            .copy_started(&copy.name, work.len() as u64, total_bytes);

        let kept: Mutex<BTreeMap<String, JournalEntry>> = Mutex::new(BTreeMap::new());
        let results = futures::stream::iter(work.iter().map(|(i, target_key)| {
            let obj = &objects[*i];
            let (src, dst, journal, tally, kept) = (&src, &dst, &journal, &tally, &kept);
            let target = listed.get(target_key);
            async move {
                let outcome = self
                    .copy_object(copy, src, dst, obj, target_key, target, journal, tally)
                    .await;
                match outcome {
                    Ok(entry) => {
                        kept.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(entry.key.clone(), entry);
                        Ok(())
                    }
                    Err(e) => reject(&obj.key, "copy", &e.message),
                }
            }
        }))
        .buffer_unordered(copy.concurrency)
        .collect::<Vec<Result<()>>>()
        .await;
        for r in results {
            r?;
        }
        let kept = kept.into_inner().unwrap_or_else(|p| p.into_inner());
        journal.compact(kept.into_values())?;

        let mut deleted = 0u64;
        if copy.delete_extraneous {
            let wanted: HashSet<&str> = target_keys.iter().copied().collect();
            for key in listed.keys().filter(|k| !wanted.contains(k.as_str())) {
                dst.delete(key).await?;
                tracing::info!(step = %copy.name, object = %key, "deleted: not in the source");
                deleted += 1;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let bytes_copied = tally.bytes_copied.load(Ordering::Relaxed);
        let report = CopyReport {
            name: copy.name.clone(),
            from: copy.from.clone(),
            to: copy.to.clone(),
            objects: objects.len() as u64,
            bytes: total_bytes,
            copied: tally.copied.load(Ordering::Relaxed),
            skipped: tally.skipped.load(Ordering::Relaxed),
            repaired: tally.repaired.load(Ordering::Relaxed),
            failed: tally.failed.load(Ordering::Relaxed),
            deleted,
            bytes_copied,
            verified_by_etag: tally.by_etag.load(Ordering::Relaxed),
            verified_by_read_back: tally.by_read_back.load(Ordering::Relaxed),
            unreadable: {
                let u = tally.unreadable.lock().unwrap_or_else(|e| e.into_inner());
                super::report::Unreadable {
                    objects: u.0,
                    examples: u.1.clone(),
                }
            },
            seconds,
            bytes_per_second: if seconds > 0.0 {
                bytes_copied as f64 / seconds
            } else {
                0.0
            },
        };
        self.observer.copy_finished(&report);
        if report.failed > copy.max_failures {
            return Err(Error::new(
                ErrorKind::Rejected,
                format!(
                    "copy {}: {} objects not copied, more than max_failures = {} (see {})",
                    copy.name,
                    report.failed,
                    copy.max_failures,
                    rejects.path.display()
                ),
            ));
        }
        Ok(report)
    }

    /// Decides, copies and verifies one object; returns its journal entry.
    #[allow(clippy::too_many_arguments)]
    async fn copy_object(
        &self,
        copy: &BlobCopy,
        src: &BlobStore,
        dst: &BlobStore,
        obj: &SourceObject,
        target_key: &str,
        target: Option<&TargetObject>,
        journal: &Journal,
        tally: &Tally,
    ) -> Result<JournalEntry> {
        let decision = self
            .decide(copy, src, dst, obj, target_key, target, journal)
            .await?;
        let repair = match decision {
            Decision::Skip(entry) => {
                tally.skipped.fetch_add(1, Ordering::Relaxed);
                self.observer.object_skipped(obj.size);
                return Ok(entry);
            }
            Decision::Copy { repair } => repair,
        };
        let mut last = None;
        for attempt in 1..=COPY_ATTEMPTS {
            match self.transfer(src, dst, obj, target_key, tally).await {
                Ok(entry) => {
                    journal.record(&entry)?;
                    tally.copied.fetch_add(1, Ordering::Relaxed);
                    tally.bytes_copied.fetch_add(obj.size, Ordering::Relaxed);
                    if repair {
                        tally.repaired.fetch_add(1, Ordering::Relaxed);
                    }
                    return Ok(entry);
                }
                Err(e) if attempt < COPY_ATTEMPTS && e.retryable => {
                    tracing::warn!(object = %obj.key, attempt, error = %e, "copy failed; trying again");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("no copy attempt made")))
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        copy: &BlobCopy,
        src: &BlobStore,
        dst: &BlobStore,
        obj: &SourceObject,
        target_key: &str,
        target: Option<&TargetObject>,
        journal: &Journal,
    ) -> Result<Decision> {
        let Some(t) = target else {
            return Ok(Decision::Copy { repair: false });
        };
        if t.size != obj.size {
            return Ok(Decision::Copy { repair: false });
        }
        let entry = |md5: String| JournalEntry {
            key: obj.key.clone(),
            size: obj.size,
            modified: obj.modified,
            md5,
            target: target_key.to_owned(),
            target_modified: t.modified,
            target_etag: t.etag.clone(),
        };
        let known = journal
            .entries
            .get(&obj.key)
            .filter(|e| e.size == obj.size && e.modified == obj.modified && e.target == target_key);
        // A verified copy whose two sides have not changed since.
        if let Some(e) = known {
            // Object stores: the ETag changes with the content. Without
            // ETags in the listing (some S3-compatible servers), the
            // modification time decides, to the second: listings and HEAD
            // report it with different precision. Local folders: the time.
            let target_same = match (&e.target_etag, &t.etag) {
                (Some(a), Some(b)) if !dst.local => a == b,
                _ if dst.local => e.target_modified == t.modified,
                _ => {
                    let secs = |m: Option<i64>| m.map(|v| v.div_euclid(1_000_000));
                    e.target_modified.is_some() && secs(e.target_modified) == secs(t.modified)
                }
            };
            if target_same && copy.verify != Verify::ReadBack {
                return Ok(Decision::Skip(e.clone()));
            }
        }
        // Both sides report the same plain-MD5 content tag (S3 to S3). A
        // multipart tag (`…-N`) is not the object's MD5, so it is not
        // recorded as one: such objects are hashed once below.
        if !src.local && !dst.local && copy.verify != Verify::ReadBack {
            if let (Some(a), Some(b)) = (&obj.etag, &t.etag) {
                if a.eq_ignore_ascii_case(b) && a.len() == 32 && !a.contains('-') {
                    return Ok(Decision::Skip(entry(a.clone())));
                }
            }
        }
        // Compare content: the source's MD5 (known or read) against the
        // target's ETag, or against the target's bytes read back.
        let (md5, multi) = match known {
            Some(e) => (e.md5.clone(), String::new()),
            None => {
                // The multipart form is only needed against a store's
                // multipart ETag.
                let parts = !dst.local
                    && obj.size > MULTIPART_PART_BYTES as u64
                    && t.etag.as_deref().is_some_and(|e| e.contains('-'));
                let (len, md5, multi) = hash_object(src, &obj.key, obj.size, parts).await?;
                if len != obj.size {
                    return Ok(Decision::Copy { repair: false });
                }
                (md5, multi)
            }
        };
        let tag_is_proof = !dst.local && copy.verify != Verify::ReadBack;
        if tag_is_proof && etag_matches(t.etag.as_deref(), &md5, &multi) {
            return Ok(Decision::Skip(entry(md5)));
        }
        let (_, target_md5, _) = hash_object(dst, target_key, t.size, false).await?;
        if target_md5 == md5 {
            return Ok(Decision::Skip(entry(md5)));
        }
        if known.is_some() {
            tracing::warn!(
                step = %copy.name, object = %target_key,
                "target object differs from the source although it was verified before (corrupted at rest?); copying it again"
            );
        }
        Ok(Decision::Copy {
            repair: known.is_some(),
        })
    }

    /// Streams one object and verifies the target.
    async fn transfer(
        &self,
        src: &BlobStore,
        dst: &BlobStore,
        obj: &SourceObject,
        target_key: &str,
        tally: &Tally,
    ) -> Result<JournalEntry> {
        if src.folder().is_some() && dst.folder().is_some() {
            return self.transfer_local(src, dst, obj, target_key, tally).await;
        }
        let mut stream = src.byte_stream(&obj.key, obj.size).await?;
        let mut writer = dst.writer(target_key).await?;
        // Part hashes only where the store may answer with a multipart ETag.
        let mut h = Hasher::new(!dst.local && obj.size > MULTIPART_PART_BYTES as u64);
        let streamed: Result<()> =
            async {
                while let Some(chunk) = stream.try_next().await.map_err(|e| {
                    Error::io(format!("store {}: reading {}: {e}", src.name, obj.key))
                })? {
                    h.update(&chunk);
                    let n = chunk.len() as u64;
                    writer.write(chunk).await?;
                    self.observer.bytes_copied(n);
                }
                Ok(())
            }
            .await;
        if let Err(e) = streamed {
            writer.abort().await;
            return Err(e);
        }
        if h.len != obj.size {
            writer.abort().await;
            return Err(Error::io(format!(
                "{}: read {} bytes, listed as {} (changed while copying?)",
                obj.key, h.len, obj.size
            )));
        }
        let written = writer.close().await?;
        let (md5, multi) = h.finish();
        // The target's own account of what it stored.
        let meta = match written.etag() {
            Some(_) => written,
            None => dst
                .stat_opt(target_key)
                .await?
                .ok_or_else(|| Error::io(format!("{target_key}: missing right after writing")))?,
        };
        let etag = meta.etag().map(|e| e.trim_matches('"').to_owned());
        if !dst.local && etag_matches(etag.as_deref(), &md5, &multi) {
            tally.by_etag.fetch_add(1, Ordering::Relaxed);
        } else {
            let (len, back, _) = hash_object(dst, target_key, obj.size, false).await?;
            if len != obj.size || back != md5 {
                let mut e = Error::io(format!(
                    "{target_key}: verification failed: the target holds {len} bytes with MD5 {back}, the source {} bytes with MD5 {md5}",
                    obj.size
                ));
                e.retryable = true;
                return Err(e);
            }
            tally.by_read_back.fetch_add(1, Ordering::Relaxed);
        }
        // The listing on a re-run reports the modification time (and tag)
        // the store gives; record exactly that.
        let after = if dst.local || meta.last_modified().is_none() {
            dst.stat_opt(target_key).await?.unwrap_or(meta)
        } else {
            meta
        };
        Ok(JournalEntry::copied(
            obj,
            target_key,
            md5,
            Some(&after),
            etag,
        ))
    }

    /// Folder to folder: a plain read/write loop on a blocking thread with
    /// one reusable buffer, hashing the source while copying and the target
    /// after. Through the object-store layer the same copy took three times
    /// as long (a fresh buffer per chunk and a thread hop per read and write).
    async fn transfer_local(
        &self,
        src: &BlobStore,
        dst: &BlobStore,
        obj: &SourceObject,
        target_key: &str,
        tally: &Tally,
    ) -> Result<JournalEntry> {
        dst.check_writable()?;
        let observer = self.observer.clone();
        let size = obj.size;
        let (from, to) = (src.check_path(&obj.key)?, dst.check_path(target_key)?);
        let (src_f, dst_f) = (
            src.folder().expect("folder").clone(),
            dst.folder().expect("folder").clone(),
        );
        let mode = src.mode(&obj.key);
        if mode.is_some_and(|m| m & 0o444 == 0) {
            // Copied as it is (the mode is part of the data), but said:
            // godwit may run as root and read it; the application cannot.
            let mut u = tally.unreadable.lock().unwrap_or_else(|e| e.into_inner());
            u.0 += 1;
            if u.1.len() < UNREADABLE_EXAMPLES {
                u.1.push(obj.key.clone());
            }
        }
        let (src_name, dst_name) = (src.name.clone(), dst.name.clone());
        let (md5, len, same) = tokio::task::spawn_blocking(move || {
            copy_file_verified(
                &src_f, &from, &dst_f, &to, size, mode, &*observer, &src_name, &dst_name,
            )
        })
        .await
        .map_err(|e| Error::internal(format!("copy task failed: {e}")))??;
        if len != obj.size || !same {
            let mut e = Error::io(format!(
                "{target_key}: verification failed: the copy read back ({len} bytes) differs from the source ({} bytes, MD5 {md5})",
                obj.size
            ));
            e.retryable = true;
            return Err(e);
        }
        tally.by_read_back.fetch_add(1, Ordering::Relaxed);
        let after = dst.stat_opt(target_key).await?;
        Ok(JournalEntry::copied(
            obj,
            target_key,
            md5,
            after.as_ref(),
            None,
        ))
    }

    /// What a copy step would do; reads listings only.
    pub(crate) async fn plan_copy(&self, copy: &BlobCopy) -> Result<super::PlannedCopy> {
        let (_, dst, objects, mapped) = self.list_and_map(copy).await?;
        let ok: Vec<(usize, &str)> = mapped
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.as_ref().ok().map(|(_, k)| (i, k.as_str())))
            .collect();
        let target_keys: Vec<&str> = ok.iter().map(|(_, k)| *k).collect();
        let listed = list_targets(&dst, &target_keys).await?;
        let present = ok
            .iter()
            .filter(|(i, k)| listed.get(*k).map(|t| t.size) == Some(objects[*i].size))
            .count() as u64;
        // Samples: the first few mapped keys, and the first rejections.
        let mut samples = Vec::new();
        let rejects = mapped.iter().enumerate().filter(|(_, m)| m.is_err());
        let accepted = mapped.iter().enumerate().filter(|(_, m)| m.is_ok());
        for (i, m) in accepted
            .take(super::plan::REWRITE_SAMPLES)
            .chain(rejects.take(super::plan::REWRITE_SAMPLES))
        {
            let before = format!("{}{}", copy.value_prefix, objects[i].key);
            let (after, rejected) = match m {
                Ok((value, key)) if value == key => (key.clone(), false),
                Ok((value, key)) => (format!("{value} (key {key})"), false),
                Err(reason) => (reason.clone(), true),
            };
            samples.push(super::SampleRewrite {
                column: format!("store {}", copy.from),
                rule: copy.rule.clone().unwrap_or_else(|| "keys kept".into()),
                before: before.into(),
                after: after.into(),
                rejected,
            });
        }
        Ok(super::PlannedCopy {
            name: copy.name.clone(),
            from: format!(
                "{} ({})",
                copy.from,
                self.project.stores[&copy.from].describe()
            ),
            to: format!("{} ({})", copy.to, self.project.stores[&copy.to].describe()),
            prefix: copy.prefix.clone(),
            rule: copy.rule.clone(),
            objects: objects.len() as u64,
            bytes: objects.iter().map(|o| o.size).sum(),
            rejected: mapped.iter().filter(|m| m.is_err()).count() as u64,
            present,
            samples,
            delete_extraneous: copy.delete_extraneous,
        })
    }

    /// The stores of a copy step, the source objects under its prefix, and
    /// each object's mapped target key (or why it has none).
    #[allow(clippy::type_complexity)]
    async fn list_and_map(
        &self,
        copy: &BlobCopy,
    ) -> Result<(
        Arc<BlobStore>,
        Arc<BlobStore>,
        Vec<SourceObject>,
        Vec<std::result::Result<(String, String), String>>,
    )> {
        let src = self.store(&copy.from)?;
        let dst = self.store(&copy.to)?;
        let objects = list_objects(&src, &copy.prefix).await?;
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        let mapped = map_keys(self, copy, &dst, &keys).await?;
        Ok((src, dst, objects, mapped))
    }

    /// The opened store `name`.
    pub(crate) fn store(&self, name: &str) -> Result<Arc<BlobStore>> {
        self.stores
            .get(name)
            .cloned()
            .ok_or_else(|| Error::project(format!("no store named {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::folder::Folder;
    use md5::{Digest, Md5};

    struct Count(AtomicU64);
    impl super::super::Observer for Count {
        fn bytes_copied(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    #[tokio::test]
    async fn local_listing_walks_folders_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for i in 0..40 {
            let d = root.join(format!("up/{i}/deep"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("f.bin"), vec![1u8; i]).unwrap();
        }
        std::fs::write(root.join("up/a\\b.txt"), b"x").unwrap();
        std::fs::write(root.join("outside.txt"), b"x").unwrap();
        std::fs::write(root.join("up/.godwit-tmp-1-2-3-x"), b"partial").unwrap();
        std::os::unix::fs::symlink(root.join("up/3/deep/f.bin"), root.join("up/link.bin")).unwrap();
        std::os::unix::fs::symlink(root.join("up"), root.join("up/loop")).unwrap();
        let store = BlobStore::open_fs("s", root, false).unwrap();
        let got = list_objects(&store, "up/").await.unwrap();
        let keys: Vec<&str> = got.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys.len(), 43, "{keys:?}");
        assert!(keys.contains(&"up/39/deep/f.bin") && !keys.contains(&"outside.txt"));
        let f = got.iter().find(|o| o.key == "up/7/deep/f.bin").unwrap();
        assert_eq!(
            (f.size, f.problem.is_none(), f.modified.is_some()),
            (7, true, true)
        );
        // Links are reported, never followed; odd names cannot be keys;
        // writes in progress are not listed.
        for k in ["up/a\\b.txt", "up/link.bin", "up/loop"] {
            let o = got.iter().find(|o| o.key == k).unwrap();
            assert!(o.problem.is_some(), "{k}");
        }
        assert!(!keys.iter().any(|k| k.contains(".godwit-tmp-")));
        assert!(list_objects(&store, "missing/").await.unwrap().is_empty());
        // A non-folder prefix filters the keys of its folder.
        let some = list_objects(&store, "up/3").await.unwrap();
        assert!(some.iter().all(|o| o.key.starts_with("up/3")), "{some:?}");
        assert_eq!(some.len(), 11, "up/3/ and up/30/ to up/39/");
    }

    #[test]
    fn local_copies_are_read_back_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a.bin");
        // Larger than the copy buffer, so the loop runs more than once.
        let data: Vec<u8> = (0..LOCAL_COPY_BUF_BYTES * 2 + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        std::fs::write(&from, &data).unwrap();
        let to = dir.path().join("x/y/a.bin");
        let seen = Count(AtomicU64::new(0));
        let f = Folder::new(dir.path());
        let (md5, len, same) = copy_file_verified(
            &f,
            "a.bin",
            &f,
            "x/y/a.bin",
            data.len() as u64,
            Some(0o6755),
            &seen,
            "s",
            "d",
        )
        .unwrap();
        assert_eq!(md5, hex::encode(Md5::digest(&data)));
        assert_eq!((len, same), (data.len() as u64, true));
        assert_eq!(std::fs::read(&to).unwrap(), data);
        assert_eq!(seen.0.load(Ordering::Relaxed), data.len() as u64);
        // setuid and setgid bits are not copied.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&to).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755);
        // A file that is not the listed size (changed since listing) is
        // refused, and the target keeps what it had (no partial object).
        let err =
            copy_file_verified(&f, "a.bin", &f, "x/y/a.bin", 5, None, &seen, "s", "d").unwrap_err();
        assert_eq!(std::fs::read(&to).unwrap(), data);
        assert_eq!(
            std::fs::read_dir(dir.path().join("x/y")).unwrap().count(),
            1
        );
        assert!(
            err.message.contains("changed while copying"),
            "{}",
            err.message
        );
    }

    #[test]
    fn common_prefix_is_a_directory() {
        assert_eq!(common_dir(&["a/b/c", "a/b/d", "a/bx"]), "a/");
        assert_eq!(common_dir(&["a/b/c", "a/b/d"]), "a/b/");
        assert_eq!(common_dir(&["x", "y"]), "");
        assert_eq!(common_dir(&[]), "");
    }

    #[test]
    fn multipart_etag_matches_s3() {
        // One part: md5(md5(data))-1; the whole-object MD5 is the plain one.
        let mut h = Hasher::new(true);
        h.update(b"hello");
        let (md5, multi) = h.finish();
        assert_eq!(md5, "5d41402abc4b2a76b9719d911017c592");
        let inner = Md5::digest(b"hello");
        assert_eq!(multi, format!("{}-1", hex::encode(Md5::digest(inner))));
        // Two parts split at the part size, fed in odd chunks.
        let data = vec![7u8; MULTIPART_PART_BYTES + 10];
        let mut h = Hasher::new(true);
        for c in data.chunks(3 << 20) {
            h.update(c);
        }
        let (_, multi) = h.finish();
        let mut all = Md5::new();
        all.update(Md5::digest(&data[..MULTIPART_PART_BYTES]));
        all.update(Md5::digest(&data[MULTIPART_PART_BYTES..]));
        assert_eq!(multi, format!("{}-2", hex::encode(all.finalize())));
    }
}
