//! Resource usage and request metrics per pod and per node, as one poll of
//! cAdvisor / kubelet and the services' own HTTP metrics would give them.
//! Counters are cumulative (like Prometheus counters); rates are the runtime's job.

use serde::{Deserialize, Serialize};

/// Upper bounds (`le`) of the request-latency histogram, in seconds; the last
/// bucket is `+Inf`.
pub const LATENCY_BUCKETS_SECONDS: [f64; 11] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    f64::INFINITY,
];

/// Cumulative histogram counts, one per bucket in [`LATENCY_BUCKETS_SECONDS`]
/// (each count includes every faster request, as in Prometheus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatencyHistogram(pub [u64; 11]);

impl LatencyHistogram {
    /// Bucket-wise difference `self - earlier`, saturating at zero (a counter
    /// reset reads as no traffic rather than negative traffic).
    pub fn delta(&self, earlier: &LatencyHistogram) -> LatencyHistogram {
        let mut out = [0; 11];
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.0[i].saturating_sub(earlier.0[i]);
        }
        LatencyHistogram(out)
    }

    pub fn add(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }

    /// The q-quantile in seconds with linear interpolation inside the bucket,
    /// exactly as PromQL's `histogram_quantile` does. `None` with no requests.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = *self.0.last()?;
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut prev_count = 0u64;
        let mut prev_bound = 0.0;
        for (i, &count) in self.0.iter().enumerate() {
            let bound = LATENCY_BUCKETS_SECONDS[i];
            if count as f64 >= rank {
                if bound.is_infinite() {
                    // PromQL returns the largest finite bound here.
                    return Some(prev_bound);
                }
                let in_bucket = (count - prev_count) as f64;
                if in_bucket == 0.0 {
                    return Some(bound);
                }
                return Some(
                    prev_bound + (bound - prev_bound) * (rank - prev_count as f64) / in_bucket,
                );
            }
            prev_count = count;
            prev_bound = bound;
        }
        Some(prev_bound)
    }
}

/// One pod's usage at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodUsage {
    pub namespace: String,
    pub pod: String,
    /// CPU in cores, averaged over the last scrape interval; none where the
    /// source has no rate yet (a new container's first minute in
    /// Prometheus), which is not the same as an idle pod.
    pub cpu_cores: Option<f64>,
    /// `container_memory_working_set_bytes`, summed over containers; none
    /// where the source has no reading.
    pub memory_bytes: Option<f64>,
    pub requests_total: u64,
    pub errors_total: u64,
    pub latency: LatencyHistogram,
    /// The pod's restart counter (all containers) at this instant, when the
    /// source reads it per step (Prometheus); otherwise it comes with the
    /// pod object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeUsage {
    pub node: String,
    pub cpu_cores: f64,
    pub memory_bytes: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_like_promql() {
        // 100 requests: 50 under 10 ms, 40 more under 100 ms, 10 more under 1 s.
        let h = LatencyHistogram([0, 50, 50, 50, 90, 90, 90, 100, 100, 100, 100]);
        // rank 95 falls in (0.5, 1.0], 5 of its 10 requests in.
        let p95 = h.quantile(0.95).unwrap();
        assert!((p95 - 0.75).abs() < 1e-9, "{p95}");
        let p50 = h.quantile(0.5).unwrap();
        assert!((p50 - 0.01).abs() < 1e-9, "{p50}");
        assert_eq!(LatencyHistogram::default().quantile(0.95), None);
    }

    #[test]
    fn quantile_in_inf_bucket_returns_largest_finite_bound() {
        let h = LatencyHistogram([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 10]);
        assert_eq!(h.quantile(0.99), Some(5.0));
    }

    #[test]
    fn delta_saturates_on_reset() {
        let a = LatencyHistogram([5; 11]);
        let b = LatencyHistogram([7; 11]);
        assert_eq!(b.delta(&a).0, [2; 11]);
        assert_eq!(a.delta(&b).0, [0; 11]);
    }
}
