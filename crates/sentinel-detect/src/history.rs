//! A series' most recent readings, kept as evidence for traces.

use sentinel_model::Timestamp;
use serde::{Deserialize, Serialize};

/// Readings kept per series.
pub const HISTORY: usize = 32;

/// The last [`HISTORY`] readings in a fixed ring: stored inline with the
/// series, so recording one costs a store and no allocation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct History {
    buf: [(Timestamp, f64); HISTORY],
    /// Index of the oldest reading.
    head: u8,
    len: u8,
}

impl Default for History {
    fn default() -> Self {
        Self {
            buf: [(Timestamp(0), 0.0); HISTORY],
            head: 0,
            len: 0,
        }
    }
}

impl History {
    #[inline]
    pub fn push(&mut self, p: (Timestamp, f64)) {
        let len = self.len as usize;
        if len < HISTORY {
            self.buf[(self.head as usize + len) & (HISTORY - 1)] = p;
            self.len += 1;
        } else {
            self.buf[self.head as usize] = p;
            self.head = ((self.head as usize + 1) & (HISTORY - 1)) as u8;
        }
    }

    /// Readings oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Timestamp, f64)> + '_ {
        (0..self.len as usize).map(move |i| self.buf[(self.head as usize + i) & (HISTORY - 1)])
    }

    pub fn last(&self) -> Option<(Timestamp, f64)> {
        self.iter().next_back()
    }
}

/// A series' readings as of the reading being fed: its history, plus that
/// reading when it has not been recorded yet (the engine records it after
/// its rules have seen it). The last [`HISTORY`] either way.
#[derive(Clone, Copy)]
pub struct Recent<'a> {
    pub history: &'a History,
    pub current: Option<(Timestamp, f64)>,
}

impl Recent<'_> {
    /// Readings oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (Timestamp, f64)> + '_ {
        let full = self.history.len as usize == HISTORY;
        let skip = usize::from(full && self.current.is_some());
        self.history.iter().skip(skip).chain(self.current)
    }
}

const _: () = assert!(HISTORY.is_power_of_two() && HISTORY <= u8::MAX as usize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_readings_in_order() {
        let mut h = History::default();
        assert!(h.last().is_none());
        for i in 0..100 {
            h.push((Timestamp(i), i as f64));
        }
        let got: Vec<i64> = h.iter().map(|p| p.0.millis()).collect();
        let want: Vec<i64> = (100 - HISTORY as i64..100).collect();
        assert_eq!(got, want);
        assert_eq!(h.last(), Some((Timestamp(99), 99.0)));
    }

    #[test]
    fn recent_adds_the_current_reading_and_keeps_the_last_ones() {
        let mut h = History::default();
        for i in 0..3 {
            h.push((Timestamp(i), i as f64));
        }
        let current = Some((Timestamp(3), 3.0));
        let got: Vec<i64> = Recent {
            history: &h,
            current,
        }
        .iter()
        .map(|p| p.0.millis())
        .collect();
        assert_eq!(got, [0, 1, 2, 3]);
        for i in 3..100 {
            h.push((Timestamp(i), i as f64));
        }
        let current = Some((Timestamp(100), 100.0));
        let recent = Recent {
            history: &h,
            current,
        };
        let got: Vec<i64> = recent.iter().map(|p| p.0.millis()).collect();
        let want: Vec<i64> = (101 - HISTORY as i64..=100).collect();
        assert_eq!(got, want);
        let none = Recent {
            history: &h,
            current: None,
        };
        assert_eq!(none.iter().count(), HISTORY);
    }
}
