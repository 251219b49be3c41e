//! The scripted incident loop. Offsets are seconds into a 20-minute cycle
//! that starts when the simulation starts; every incident is a few minutes long.

/// Length of one loop of incidents, in seconds.
pub const CYCLE_S: i64 = 1200;

/// (a) `checkout` 2.8.0 leaks memory; its first pod is OOMKilled into CrashLoopBackOff.
pub const ROLLOUT_AT: i64 = 60;
/// The operator rolls `checkout` back.
pub const ROLLBACK_AT: i64 = 270;
/// (b) A CPU-hungry batch job lands on node 1 and slows its neighbours.
pub const NOISY_AT: i64 = 360;
pub const NOISY_END: i64 = 600;
/// The finished job pod is cleaned up.
pub const NOISY_GONE: i64 = 660;
/// (c) `payments` slows down; `checkout` and `frontend` see errors and latency.
pub const SLOW_AT: i64 = 660;
pub const SLOW_END: i64 = 900;
/// (d) Node 2 stops reporting; its pods are evicted and rescheduled.
pub const DOWN_AT: i64 = 900;
pub const EVICT_AT: i64 = 940;
pub const DOWN_END: i64 = 1080;

/// Which demo services call which (`namespace/service`, caller first): the
/// slow-dependency incident spreads along these edges.
pub const CALLS: [(&str, &str); 2] = [
    ("shop/frontend", "shop/checkout"),
    ("shop/checkout", "shop/payments"),
];

/// The node the noisy neighbour lands on and the node that goes NotReady.
pub const NOISY_NODE: usize = 1;
pub const DOWN_NODE: usize = 2;

/// What the timeline says is happening at one offset into the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conditions {
    pub noisy: bool,
    pub slow_dependency: bool,
    pub node_down: bool,
}

pub fn conditions_at(elapsed_s: i64) -> Conditions {
    let s = elapsed_s.rem_euclid(CYCLE_S);
    Conditions {
        noisy: (NOISY_AT..NOISY_END).contains(&s),
        slow_dependency: (SLOW_AT..SLOW_END).contains(&s),
        node_down: (DOWN_AT..DOWN_END).contains(&s),
    }
}

/// The scripted moments that happen once per cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Rollout,
    Rollback,
    NoisyStart,
    NoisyEnd,
    NoisyGone,
    NodeDown,
    Evict,
    NodeUp,
}

const MOMENTS: [(i64, Moment); 8] = [
    (ROLLOUT_AT, Moment::Rollout),
    (ROLLBACK_AT, Moment::Rollback),
    (NOISY_AT, Moment::NoisyStart),
    (NOISY_END, Moment::NoisyEnd),
    (NOISY_GONE, Moment::NoisyGone),
    (DOWN_AT, Moment::NodeDown),
    (EVICT_AT, Moment::Evict),
    (DOWN_END, Moment::NodeUp),
];

/// Moments whose time falls in `(prev_s, now_s]` (elapsed milliseconds since
/// the start), in the order they happen, across any number of cycles.
pub fn moments_between(prev_ms: i64, now_ms: i64) -> Vec<Moment> {
    let mut out = Vec::new();
    if now_ms <= prev_ms {
        return out;
    }
    let cycle_ms = CYCLE_S * 1000;
    let first_cycle = prev_ms.div_euclid(cycle_ms);
    let last_cycle = now_ms.div_euclid(cycle_ms);
    for c in first_cycle..=last_cycle {
        for (at, m) in MOMENTS {
            let t = c * cycle_ms + at * 1000;
            if prev_ms < t && t <= now_ms {
                out.push(m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_fire_once_per_cycle_in_order() {
        assert_eq!(moments_between(59_000, 61_000), vec![Moment::Rollout]);
        assert!(moments_between(61_000, 62_000).is_empty());
        let two_cycles = moments_between(0, 2 * CYCLE_S * 1000);
        assert_eq!(two_cycles.len(), 16);
        assert_eq!(two_cycles[8], Moment::Rollout);
        assert_eq!(moments_between(899_000, 900_000), vec![Moment::NodeDown]);
    }

    #[test]
    fn conditions_follow_the_timeline() {
        assert_eq!(conditions_at(10), Conditions::default());
        assert!(conditions_at(400).noisy);
        assert!(conditions_at(700).slow_dependency);
        assert!(conditions_at(950).node_down);
        assert!(conditions_at(CYCLE_S + 950).node_down);
    }
}
