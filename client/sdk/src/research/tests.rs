//! Unit tests of reading released studies and of their privacy figures.

use super::*;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use medshare::state::{Statistic, Study, StudyStatus};

fn released(bits: u8, cohort: u32, epsilon_milli: u32, counts: &[i64]) -> Study {
    let point = |m: i64| {
        let s = Scalar::from(m.unsigned_abs());
        let p = EdwardsPoint::mul_base(&if m < 0 { -s } else { s });
        p.compress().0
    };
    Study {
        researcher: Pubkey::new_unique(),
        cluster: Pubkey::new_unique(),
        number: 0,
        verified_researcher: false,
        purpose: "p".into(),
        field: field_id("condition:1"),
        bits,
        bucket_bits: 0,
        min_cohort: 10,
        closes_at: 0,
        status: StudyStatus::Released,
        cohort,
        joined: cohort,
        faulty: 0,
        partials_done: 2,
        epsilon_milli,
        noise_progress: [0; 16],
        noise_pending: [Default::default(); 16],
        noise_done: 0b11,
        bump: 0,
        partials_deposit: 0,
        aggregates: vec![Default::default(); counts.len()],
        released: counts.iter().map(|c| point(*c)).collect(),
    }
}

/// A released statistic is read within its range (exact) or widened
/// by the proven noise bound of each node that noised it (negative
/// included); one beyond is reported, naming the statistic, never
/// misread.
#[test]
fn test_released_statistics_read_or_reported() {
    let exact = StudyResults::of(&released(1, 10, 0, &[7])).unwrap();
    assert_eq!((exact.count, exact.sum, exact.epsilon), (10, 7, None));
    assert_eq!((exact.noise.len(), exact.delta), (0, 0.0));
    assert_eq!(
        StudyResults::of(&released(1, 10, 0, &[11])),
        Err(ResultsError::BadStatistic(0))
    );
    // ε = 1 on an indicator: scale 1, bound 32 (6 bits) per node; two
    // nodes noised it: window ±64.
    let mut noisy = released(1, 10, 1_000, &[-40]);
    noisy.noise_progress[..2].copy_from_slice(&[6, 6]);
    let got = StudyResults::of(&noisy).unwrap();
    assert_eq!((got.sum, got.epsilon), (-40, Some(1.0)));
    assert_eq!(got.noise[0].bound, 32);
    assert_eq!(got.noise[0].nodes, 2);
    noisy.released = released(1, 10, 1_000, &[10 + 64]).released;
    assert_eq!(StudyResults::of(&noisy).unwrap().sum, 74);
    noisy.released = released(1, 10, 1_000, &[10 + 65]).released;
    assert_eq!(StudyResults::of(&noisy), Err(ResultsError::BadStatistic(0)));
    let mut open = released(1, 10, 0, &[7]);
    open.status = StudyStatus::Closed;
    assert_eq!(StudyResults::of(&open), Err(ResultsError::NotReleased));
}

/// An age study (7 bits, 8 buckets) releases ten statistics: the sum,
/// the sum of squares and the buckets, read back as such.
#[test]
fn test_age_study_releases_its_ten_statistics() {
    let mut s = released(7, 3, 0, &[150, 8_100, 0, 1, 0, 2, 0, 0, 0, 0]);
    s.bucket_bits = 3;
    let r = StudyResults::of(&s).unwrap();
    assert_eq!((r.sum, r.sum_of_squares), (150, Some(8_100)));
    assert_eq!(r.mean, 50.0);
    assert_eq!(r.variance, Some(200.0));
    assert_eq!(r.histogram, Some(vec![0, 1, 0, 2, 0, 0, 0, 0]));
}

/// The noise of an age study at ε = 1, as the README states it: ε split
/// in three (sum, squares, histogram), each statistic's scale from its
/// own sensitivity, and bounds 2^14, 2^21 and 2^8 that keep each δ
/// below 2^−40.
#[test]
fn test_age_study_noise_plan_at_epsilon_one() {
    let mut s = released(7, 10, 1_000, &[0; 10]);
    s.bucket_bits = 3;
    let report = privacy_report(&s, 2);
    assert_eq!(report.len(), 10);
    let row = |r: &StatisticNoise| (r.statistic, r.shift, r.scale.round() as u64, r.bound);
    assert_eq!(row(&report[0]), (Statistic::Sum, 127, 381, 1 << 14));
    assert_eq!(
        row(&report[1]),
        (Statistic::SumOfSquares, 16_129, 48_387, 1 << 21)
    );
    assert_eq!(row(&report[2]), (Statistic::Bucket(0), 1, 6, 1 << 8));
    assert!(report.iter().all(|r| r.epsilon == 0.333 && r.nodes == 2));
    assert!(
        report.iter().all(|r| r.delta < 2f64.powi(-40)),
        "{report:?}"
    );
    let bits: u32 = noise_plan(&s).iter().map(|p| p.bits as u32).sum();
    assert_eq!(bits, 15 + 22 + 8 * 9);
    assert!(release_delta(&report) < 4.0 * 2f64.powi(-40));
}
