//! Signed checkpoints of the trace chain. The hash chain finds a record edited or removed in
//! the middle, but not the newest records removed: what is left is a valid, shorter chain.
//! So the hub states, at least every minute and at shutdown, how long the chain is and what
//! its newest hash is, signed with its key (ES256, `typ: trace-checkpoint+jwt`), at
//! `GET /traces/checkpoint` and in its logs (target `relais::checkpoint`). Before each one it
//! checks that the chain still holds the previous one, and logs an error if not; `relais
//! traces verify` checks the chain against a checkpoint kept elsewhere.

use std::sync::RwLock;

use relais_domain::trace::Checkpoint;
use relais_oidc::checkpoint;
use relais_store::StoreError;

use crate::state::Hub;

/// A checkpoint as published: its content and its signed form.
#[derive(Clone, Debug)]
pub struct PublishedCheckpoint {
    /// What it states.
    pub checkpoint: Checkpoint,
    /// The signed JWT.
    pub jwt: String,
}

/// Why no checkpoint could be made.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The trace store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hub has no key to sign with.
    #[error("the checkpoint could not be signed: {0}")]
    Signing(#[from] relais_oidc::jose::JoseError),
}

/// The latest checkpoint this process made.
#[derive(Default)]
pub(crate) struct Latest(RwLock<Option<PublishedCheckpoint>>);

impl Latest {
    fn get(&self) -> Option<PublishedCheckpoint> {
        match self.0.read() {
            Ok(latest) => latest.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, published: PublishedCheckpoint) {
        match self.0.write() {
            Ok(mut latest) => *latest = Some(published),
            Err(poisoned) => *poisoned.into_inner() = Some(published),
        }
    }
}

impl Hub {
    /// The latest checkpoint made by this process, if any.
    pub fn latest_checkpoint(&self) -> Option<PublishedCheckpoint> {
        self.checkpoints.get()
    }

    /// Makes, signs, logs and publishes a checkpoint of the chain as it is now, after checking
    /// that the chain still holds the previous one (records removed or rewritten since are
    /// logged as an error: the operator's alarm).
    pub async fn checkpoint_traces(&self) -> Result<PublishedCheckpoint, CheckpointError> {
        let last = self.traces.last().await?;
        if let Some(previous) = self.checkpoints.get() {
            let counted = previous.checkpoint.count;
            let at_count = match &last {
                Some(record) if record.seq == counted => Some(record.clone()),
                _ => self.traces.at(counted).await?,
            };
            if let Err(problem) = previous.checkpoint.check(at_count.as_ref(), last.as_ref()) {
                tracing::error!(
                    target: "relais::checkpoint",
                    ?problem,
                    counted,
                    found = last.as_ref().map_or(0, |r| r.seq),
                    "the trace chain no longer holds the previous checkpoint: records were removed or rewritten"
                );
            }
        }
        let made = Checkpoint::of(last.as_ref(), self.clock.now());
        let jwt = checkpoint::sign(&self.keys(), &self.endpoints.issuer, &made)?;
        tracing::info!(
            target: "relais::checkpoint",
            trace_count = made.count,
            trace_head = %made.head,
            checkpoint = %jwt,
            "trace checkpoint"
        );
        let published = PublishedCheckpoint { checkpoint: made, jwt };
        self.checkpoints.set(published.clone());
        Ok(published)
    }
}
