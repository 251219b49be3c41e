//! The most extreme values a series has drawn, at each end: what tells a new
//! extreme that leaves the tail behind from a record that noise sets.

use serde::{Deserialize, Serialize};

/// The most values [`LikelihoodParams::record_tail`] keeps at each end.
///
/// [`LikelihoodParams::record_tail`]: super::LikelihoodParams::record_tail
pub const MAX_RECORD_TAIL: usize = 256;

/// The `k` largest and the `k` smallest values seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tails {
    /// Largest first.
    top: Vec<f64>,
    /// Negated, so also largest first.
    bottom: Vec<f64>,
}

impl Tails {
    /// Room for `k` at each end (at most [`MAX_RECORD_TAIL`]), allocated
    /// once.
    pub fn new(k: usize) -> Self {
        let k = k.min(MAX_RECORD_TAIL);
        Self {
            top: Vec::with_capacity(k + 1),
            bottom: Vec::with_capacity(k + 1),
        }
    }

    /// The scale of the upper tail (see [`tail_scale`]).
    pub fn above(&self) -> f64 {
        tail_scale(&self.top)
    }

    /// The scale of the lower tail.
    pub fn below(&self) -> f64 {
        tail_scale(&self.bottom)
    }

    /// Count `x` among the `k` most extreme at either end.
    pub fn push(&mut self, x: f64, k: usize) {
        let k = k.min(MAX_RECORD_TAIL);
        keep_largest(&mut self.top, x, k);
        keep_largest(&mut self.bottom, -x, k);
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.top.is_empty() && self.bottom.is_empty()
    }
}

/// The scale of a tail from its most extreme values, most extreme first:
/// the mean of `i · (v[i-1] - v[i])`. For an exponential tail each term is
/// an independent draw of the scale (Rényi's representation of the spacings
/// of order statistics); a lighter tail gives a smaller one. 0 with fewer
/// than two values.
fn tail_scale(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let sum: f64 = v
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i + 1) as f64 * (w[0] - w[1]))
        .sum();
    sum / (v.len() - 1) as f64
}

/// Keep `y` among the `k` largest values in `v` (largest first). O(k) when
/// it enters, one comparison when it does not; never grows `v` past `k + 1`.
fn keep_largest(v: &mut Vec<f64>, y: f64, k: usize) {
    if v.len() < k || v.last().is_some_and(|&least| y > least) {
        let at = v.partition_point(|&a| a >= y);
        v.insert(at, y);
        v.truncate(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_scale_weighs_spacings_by_rank() {
        assert_eq!(tail_scale(&[]), 0.0);
        assert_eq!(tail_scale(&[3.0]), 0.0);
        // (1·3 + 2·2 + 3·1) / 3
        assert_eq!(tail_scale(&[10.0, 7.0, 5.0, 4.0]), 10.0 / 3.0);
        let mut v = Vec::new();
        for y in [4.0, 10.0, 5.0, 7.0, 1.0, 7.5] {
            keep_largest(&mut v, y, 3);
        }
        assert_eq!(v, [10.0, 7.5, 7.0]);
        let mut none = Vec::new();
        keep_largest(&mut none, 99.0, 0);
        assert!(none.is_empty(), "k = 0 keeps nothing");
    }

    #[test]
    fn tails_keep_both_ends() {
        let mut t = Tails::new(3);
        for x in [0.0, 5.0, -5.0, 4.0, -4.0, 3.0, -3.0, 1.0, -1.0] {
            t.push(x, 3);
        }
        assert_eq!(t.top, [5.0, 4.0, 3.0]);
        assert_eq!(t.bottom, [5.0, 4.0, 3.0]);
        assert_eq!((t.above(), t.below()), (1.5, 1.5));
    }
}
