//! `momentum demo`: the generator runs on one thread and the database writer on this
//! one, handing batches over a small channel, so the large scale uses both cores.

use std::sync::mpsc;
use std::thread;

use momentum_demo::{DealHistory, DemoConfig, People, Sink, Summary};
use momentum_store::bulk::BulkWriter;
use momentum_store::Store;

enum Batch {
    People(Box<People>),
    Deals(Vec<DealHistory>),
}

/// A sink that hands batches to the writer thread; stops early if the writer has gone.
struct ChannelSink(mpsc::SyncSender<Batch>);

#[derive(Debug)]
struct WriterGone;

impl Sink for ChannelSink {
    type Error = WriterGone;
    fn people(&mut self, people: &People) -> Result<(), WriterGone> {
        self.0
            .send(Batch::People(Box::new(people.clone())))
            .map_err(|_| WriterGone)
    }
    fn deals(&mut self, batch: Vec<DealHistory>) -> Result<(), WriterGone> {
        self.0.send(Batch::Deals(batch)).map_err(|_| WriterGone)
    }
}

/// Generates the demo into `store` (which must be empty).
pub fn fill(store: &mut Store, config: DemoConfig, password_hash: String) -> anyhow::Result<Summary> {
    let (tx, rx) = mpsc::sync_channel::<Batch>(4);
    let generator = thread::spawn(move || momentum_demo::generate(&config, &mut ChannelSink(tx)));
    let mut writer = BulkWriter::new(store, password_hash);
    writer.defer_indexes()?;
    let written: anyhow::Result<()> = (|| {
        for batch in rx {
            match batch {
                Batch::People(p) => writer.people(&p)?,
                Batch::Deals(d) => writer.deals(d)?,
            }
        }
        Ok(())
    })();
    // Dropping the receiver (above, on error) makes the generator stop at its next send.
    let summary = generator
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator panicked"))?;
    // Finish even after a failure, so the indexes deferred for the load come back.
    let finished = writer.finish();
    written?;
    finished?;
    summary.map_err(|_| anyhow::anyhow!("the demo writer stopped early"))
}
