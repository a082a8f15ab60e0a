//! Differential check: on random policy sets over the schema and random
//! requests, the gateway's decision (sliced, pruned request, first
//! permit; and `explain`) is exactly what plain Cedar's
//! `Authorizer::is_authorized` on the fully built request implies (see
//! `oracle`). Seeded, so a failure replays: the message names the seed,
//! the set and the policy files. The fuzz target `decisions` runs the
//! same generator and oracle on fuzzer bytes.

mod generate;
mod oracle;

use std::collections::BTreeMap;
use std::time::Instant;

use generate::{Draw, RequestCase, SetCase};
use oracle::Oracle;

use crate::support::Rng;

/// Independent streams, one per thread.
const SEEDS: [u64; 4] = [0xD1FF_0001, 0xD1FF_0002, 0xD1FF_0003, 0xD1FF_0004];
/// Policy sets per stream.
const SETS: usize = 80;
/// Requests decided against each set.
const REQUESTS_PER_SET: usize = 320;
/// Policies per set, at most.
const MAX_POLICIES: usize = 12;

impl Draw for Rng {
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { Rng::below(self, n) }
    }
}

/// What one stream saw.
#[derive(Default)]
struct Tally {
    cases: usize,
    sets: usize,
    discarded: usize,
    outcomes: BTreeMap<String, usize>,
}

fn run(seed: u64) -> Tally {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for set in 0..SETS {
        let case = SetCase::generate(&mut rng, MAX_POLICIES);
        let oracle = match Oracle::new(&case) {
            Ok(Some(oracle)) => oracle,
            Ok(None) => {
                tally.discarded += 1;
                continue;
            }
            Err(message) => panic!("seed {seed:#x}, set {set}: {message}\n{}", case.listing()),
        };
        tally.sets += 1;
        for _ in 0..REQUESTS_PER_SET {
            let request = RequestCase::generate(&mut rng);
            match oracle.check(&request) {
                Ok(outcome) => *tally.outcomes.entry(outcome).or_default() += 1,
                Err(message) => panic!("seed {seed:#x}, set {set}: {message}\n{}", case.listing()),
            }
            tally.cases += 1;
        }
    }
    tally
}

#[test]
fn gateway_decisions_equal_plain_cedar_on_random_sets() {
    let start = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let streams: Vec<_> = SEEDS
            .iter()
            .map(|seed| scope.spawn(move || run(*seed)))
            .collect();
        streams
            .into_iter()
            .map(|stream| stream.join().expect("a stream panicked"))
            .collect()
    });
    let mut total = Tally::default();
    for tally in tallies {
        total.cases += tally.cases;
        total.sets += tally.sets;
        total.discarded += tally.discarded;
        for (outcome, count) in tally.outcomes {
            *total.outcomes.entry(outcome).or_default() += count;
        }
    }
    println!(
        "differential: {} cases on {} policy sets ({} discarded as invalid) in {:.1?}: {:?}",
        total.cases,
        total.sets,
        total.discarded,
        start.elapsed(),
        total.outcomes
    );
    assert!(total.cases >= 100_000, "only {} cases", total.cases);
    assert!(
        total.discarded * 20 <= SETS * SEEDS.len(),
        "{} of {} sets did not validate",
        total.discarded,
        SETS * SEEDS.len()
    );
    // The generator reaches every kind of outcome.
    for outcome in [
        "allow",
        "deny no_permit",
        "deny evaluation_error",
        "deny operation_not_allowed",
        "deny EntityTooLarge",
        "deny by forbid",
        "deny where Cedar allows (a forbid failed)",
    ] {
        assert!(
            total.outcomes.contains_key(outcome),
            "never saw `{outcome}`: {:?}",
            total.outcomes
        );
    }
}
