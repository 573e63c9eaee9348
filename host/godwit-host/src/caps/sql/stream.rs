//! Rows streaming out of a query: the producer task's channel, read by
//! the host or a plugin's `rows` handle, stopped when dropped.

use tokio::sync::mpsc;

use crate::error::{Error, ErrorKind, Result};
use crate::model::ColumnInfo;
use crate::model::Value;

use super::*;

/// Stops a query's producer when dropped (a plugin dropping `rows` stops its
/// query): aborts the task and, for SQLite, interrupts the statement running
/// on the blocking thread (a blocking task cannot be aborted).
pub(super) struct StopOnDrop {
    pub(super) task: tokio::task::JoinHandle<()>,
    pub(super) interrupt: Option<rusqlite::InterruptHandle>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(i) = &self.interrupt {
            i.interrupt();
        }
    }
}

/// Rows of a running query.
pub struct RowStream {
    /// Result columns.
    pub columns: Vec<ColumnInfo>,
    pub(super) rx: mpsc::Receiver<Result<Chunk>>,
    /// Rows of the last chunk received not yet handed out, and their sizes.
    pub(super) pending: std::vec::IntoIter<Vec<Value>>,
    pub(super) pending_sizes: std::vec::IntoIter<u32>,
    #[allow(dead_code)] // held for its Drop
    pub(super) task: StopOnDrop,
    pub(super) done: bool,
    /// Past this instant reads fail with a timeout (`query_with_timeout`).
    pub(super) deadline: Option<tokio::time::Instant>,
}

impl RowStream {
    /// Up to `max_rows` rows and about `max_bytes` bytes (at least one row if
    /// any remain); `None` at the end.
    pub async fn next_rows(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Option<Vec<Vec<Value>>>> {
        Ok(self
            .next_rows_sized(max_rows, max_bytes)
            .await?
            .map(|(rows, _)| rows))
    }

    /// [`RowStream::next_rows`], with the rows' approximate size in bytes.
    pub async fn next_rows_sized(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Option<(Vec<Vec<Value>>, usize)>> {
        match self.deadline {
            None => self.next_rows_inner(max_rows, max_bytes).await,
            Some(at) => {
                match tokio::time::timeout_at(at, self.next_rows_inner(max_rows, max_bytes)).await {
                    Ok(r) => r,
                    Err(_) => {
                        self.done = true;
                        Err(Error::new(
                            ErrorKind::Timeout,
                            "the query ran past its timeout".to_owned(),
                        ))
                    }
                }
            }
        }
    }

    async fn next_rows_inner(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Option<(Vec<Vec<Value>>, usize)>> {
        let max_rows = max_rows.max(1);
        let mut out = Vec::new();
        let mut bytes = 0;
        loop {
            while out.len() < max_rows && (out.is_empty() || bytes < max_bytes) {
                match self.pending.next() {
                    Some(row) => {
                        bytes += self.pending_sizes.next().unwrap_or(0) as usize;
                        out.push(row);
                    }
                    None => break,
                }
            }
            let full = out.len() >= max_rows || (!out.is_empty() && bytes >= max_bytes);
            if full || self.done {
                break;
            }
            match self.rx.recv().await {
                Some(Ok(chunk)) => {
                    self.pending = chunk.rows.into_iter();
                    self.pending_sizes = chunk.sizes.into_iter();
                }
                Some(Err(e)) => return Err(e),
                None => self.done = true,
            }
        }
        Ok(if out.is_empty() {
            None
        } else {
            Some((out, bytes))
        })
    }
}
