//! Reads of one row by id that arrive while the connections are busy share one statement.
//!
//! A read by id costs PostgreSQL a tenth of a millisecond, and the server many times that in
//! hand-offs: to the blocking pool, to PostgreSQL and back. Under load, reads that queue behind
//! busy lanes are answered together by one `WHERE id = ANY($1)`, so those hand-offs are paid
//! once per batch instead of once per read. When a lane is free a read runs alone at once, so
//! an idle server answers exactly as before. Scope is not part of the batch: the caller filters
//! the row it gets (the same rule as the query's, written beside it in the table's module).

use std::sync::{Arc, Mutex, PoisonError};

use diesel::pg::PgConnection;
use diesel::QueryResult;
use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};
use crate::PgPool;

type Answer<R> = oneshot::Sender<AppResult<Option<R>>>;

struct Queue<K, R> {
    waiting: Vec<(K, Answer<R>)>,
    /// Batches running (each on one pooled connection), at most `lanes`.
    running: usize,
}

pub struct ByIds<K, R> {
    queue: Mutex<Queue<K, R>>,
    lanes: usize,
    fetch: fn(&mut PgConnection, &[K]) -> QueryResult<Vec<R>>,
    key: fn(&R) -> K,
}

impl<K, R> ByIds<K, R>
where
    K: Copy + PartialEq + Send + 'static,
    R: Clone + Send + 'static,
{
    /// `fetch` reads the rows of the given ids (in any order, missing ones left out); `key`
    /// tells a row's id; at most `lanes` batches run at once.
    pub fn new(
        lanes: usize,
        fetch: fn(&mut PgConnection, &[K]) -> QueryResult<Vec<R>>,
        key: fn(&R) -> K,
    ) -> Arc<Self> {
        Arc::new(ByIds {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                running: 0,
            }),
            lanes: lanes.max(1),
            fetch,
            key,
        })
    }

    /// The row of `id`, read alone or with the reads waiting beside it.
    pub async fn get(self: &Arc<Self>, pool: &PgPool, id: K) -> AppResult<Option<R>> {
        let (answer, answered) = oneshot::channel();
        let batch = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.waiting.push((id, answer));
            if queue.running < self.lanes {
                queue.running += 1;
                Some(std::mem::take(&mut queue.waiting))
            } else {
                None
            }
        };
        if let Some(batch) = batch {
            tokio::spawn(Arc::clone(self).drain(pool.clone(), batch));
        }
        answered
            .await
            .map_err(|_| AppError::internal("a coalesced read lost its batch"))?
    }

    /// Runs `batch`, then whatever queued meanwhile, until nothing waits.
    async fn drain(self: Arc<Self>, pool: PgPool, mut batch: Vec<(K, Answer<R>)>) {
        loop {
            let ids: Vec<K> = batch.iter().map(|(id, _)| *id).collect();
            let fetch = self.fetch;
            let rows = crate::run(&pool, move |conn| Ok(fetch(conn, &ids)?)).await;
            for (id, answer) in batch {
                let reply = match &rows {
                    Ok(rows) => Ok(rows.iter().find(|r| (self.key)(r) == id).cloned()),
                    Err(AppError::Unavailable(why)) => Err(AppError::Unavailable(why.clone())),
                    Err(other) => Err(AppError::internal(other)),
                };
                // A reader that went away (its client hung up) needs no answer.
                let _ = answer.send(reply);
            }
            batch = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if queue.waiting.is_empty() {
                    queue.running -= 1;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
        }
    }
}
