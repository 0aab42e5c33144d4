//! Times the large demo (1M deals) into a sink that only counts, to see the generator's
//! own speed. Run it in release: `cargo test -p momentum-demo --release -- --ignored`.

use std::time::Instant;

use momentum_demo::*;

#[derive(Debug, Default)]
struct Counting {
    batches: usize,
    deals: usize,
    interactions: usize,
    largest_batch: usize,
}

impl Sink for Counting {
    type Error = std::convert::Infallible;
    fn people(&mut self, _people: &People) -> Result<(), Self::Error> {
        Ok(())
    }
    fn deals(&mut self, batch: Vec<DealHistory>) -> Result<(), Self::Error> {
        self.batches += 1;
        self.largest_batch = self.largest_batch.max(batch.len());
        self.deals += batch.len();
        self.interactions += batch.iter().map(|h| h.interactions.len()).sum::<usize>();
        Ok(())
    }
}

#[test]
#[ignore = "a minute of CPU; run in release with --ignored"]
fn large_demo_generates_fast() {
    let config = DemoConfig {
        seed: 42,
        scale: Scale::Large,
        today: jiff::civil::Date::constant(2026, 11, 24),
    };
    let mut sink = Counting::default();
    let started = Instant::now();
    let summary = generate(&config, &mut sink).unwrap();
    let elapsed = started.elapsed();
    println!("large demo: {summary:?} in {elapsed:.2?}");
    assert_eq!(summary.deals, 1_000_000);
    assert_eq!(sink.deals, 1_000_000);
    assert_eq!(sink.interactions, summary.interactions);
    assert_eq!(sink.largest_batch, BATCH_SIZE);
    assert_eq!(summary.users, 1 + 20 + 200);
    assert!((9_000_000..=11_000_000).contains(&summary.interactions), "{summary:?}");
}
